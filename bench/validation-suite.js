import { startBus } from "./bus-process.js";
import { createHttpClient } from "./http-client.js";
import { batchBody, createEvents } from "./payloads.js";
import { measureBusBatched } from "./scenarios.js";

/** The shape of the validation run: batched appends, alternating topics with and without schemas. */
export const validationPlan = {
  rounds: 5,
  requests: 30,
  warmupRequests: 3,
  eventsPerRequest: 1000,
  streams: 2,
};

/** The order events' `data`, as a closed schema with every field typed and bounded. */
const orderSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  additionalProperties: false,
  required: ["orderId", "customerId", "sku", "quantity", "priceCents", "totalCents", "currency"],
  properties: {
    orderId: { type: "string", pattern: "^order-[0-9]+$", maxLength: 64 },
    customerId: { type: "string", minLength: 1, maxLength: 64 },
    sku: { type: "string", maxLength: 32 },
    quantity: { type: "integer", minimum: 1, maximum: 1000 },
    priceCents: { type: "integer", minimum: 0 },
    totalCents: { type: "integer", minimum: 0 },
    currency: { type: "string", enum: ["EUR", "USD", "GBP"] },
    note: { type: "string", maxLength: 1000 },
  },
};

const eventTypes = ["OrderPlaced", "OrderPaid", "OrderShipped", "OrderCancelled"];

/**
 * Batched append throughput to a topic whose event types have registered schemas (every event
 * validated with Ajv) against a topic without, on one bus, in rounds that run both back to back
 * (alternating which goes first). The store slows as it grows and the machine drifts, so the share
 * is the median of the rounds' own shares, and each side's rate its median round.
 */
export async function runValidationSuite(kind, location, { progress }) {
  const plan = validationPlan;
  const bus = await startBus({ storeUrl: location.busStoreUrl("validation") });
  const client = createHttpClient(bus.url, { maxSockets: 16 });
  try {
    for (const topic of ["plain", "checked"]) {
      await client.sendExpecting([200, 201], "PUT", `/v1/topics/${topic}`, JSON.stringify({ partitions: 4 }));
    }
    for (const type of eventTypes) {
      await client.sendExpecting(
        [200, 201],
        "PUT",
        `/v1/schemas/checked/${type}`,
        JSON.stringify({ schema: orderSchema }),
      );
    }
    const perRound = (plan.requests + plan.warmupRequests) * plan.eventsPerRequest;
    const rates = { plain: [], checked: [] };
    for (let round = 0; round < plan.rounds; round += 1) {
      for (const topic of round % 2 === 0 ? ["plain", "checked"] : ["checked", "plain"]) {
        progress(
          `${kind}: batched append ${topic === "checked" ? "with" : "without"} validation, round ${round + 1}`,
        );
        const events = createEvents(perRound, 100 + round);
        const bodies = [];
        for (let start = 0; start < events.length; start += plan.eventsPerRequest) {
          bodies.push(batchBody(events.slice(start, start + plan.eventsPerRequest)));
        }
        const figures = await measureBusBatched(client, topic, bodies, {
          streams: plan.streams,
          warmupBatches: plan.warmupRequests,
          eventsPerBody: plan.eventsPerRequest,
        });
        rates[topic].push(figures.eventsPerSecond);
      }
    }
    const stored = await client.sendExpecting([200], "GET", "/v1/topics/checked");
    if (stored.events !== plan.rounds * perRound)
      throw new Error(`checked topic holds ${stored.events} events`);
    const sample = await client.sendExpecting([200], "GET", "/v1/topics/checked/partitions/0/events?limit=1");
    if (sample.events[0]?.metadata?.schemaVersion !== 1)
      throw new Error("validated events lack their schemaVersion");
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    return {
      validatedEventsPerSecond: median(rates.checked),
      unvalidatedEventsPerSecond: median(rates.plain),
      share: median(rates.checked.map((rate, round) => rate / rates.plain[round])),
      rounds: rates,
    };
  } finally {
    client.close();
    await bus.stop();
  }
}
