import type { ResetTarget, SubscriptionSettings } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";
import type { DeliveredJson } from "../../subscriptions/poll-once.js";
import { requireJsonBody } from "../require-json-body.js";
import {
  ackBody,
  consumerBody,
  consumerId,
  nackBody,
  pollBody,
  resetBody,
  subscriptionBody,
  subscriptionParams,
} from "./subscription-schemas.js";

type Named = { Params: { name: string } };

const eventsStart = Buffer.from('{"events":[');
const comma = Buffer.from(",");

/**
 * The poll's response, put together from each event's stored JSON, which is serialized once for
 * every subscription that delivers it, and copied once here.
 */
function pollResponseBody(polled: { eventsJson: DeliveredJson[]; partitions: number[] }): Buffer {
  const parts: Buffer[] = [eventsStart];
  polled.eventsJson.forEach(([event, attemptAndEnd], index) => {
    if (index > 0) parts.push(comma);
    parts.push(event, attemptAndEnd);
  });
  parts.push(Buffer.from(`],"partitions":${JSON.stringify(polled.partitions)}}`));
  return Buffer.concat(parts);
}

/**
 * Subscriptions (docs/subscriptions.md): definitions and status, pull delivery (poll, ack, nack,
 * heartbeat, leave) and reset.
 */
export function subscriptionRoutes(app: FastifyInstance, bus: Bus): void {
  const subscriptions = bus.subscriptions;
  const json = { preValidation: requireJsonBody };

  app.put<Named & { Body: SubscriptionSettings }>(
    "/v1/subscriptions/:name",
    { schema: { params: subscriptionParams, body: subscriptionBody }, ...json },
    async (request, reply) => {
      const { subscription, created } = await subscriptions.put(request.params.name, request.body);
      return reply.status(created ? 201 : 200).send(subscription);
    },
  );
  app.get("/v1/subscriptions", async () => ({ subscriptions: await subscriptions.list() }));
  app.get<Named>("/v1/subscriptions/:name", { schema: { params: subscriptionParams } }, (request) =>
    subscriptions.status(request.params.name),
  );
  app.delete<Named>(
    "/v1/subscriptions/:name",
    { schema: { params: subscriptionParams } },
    async (request, reply) => {
      await subscriptions.delete(request.params.name);
      return reply.status(204).send();
    },
  );

  app.post<Named & { Body: { consumer: string; max: number; wait: number } }>(
    "/v1/subscriptions/:name/poll",
    { schema: { params: subscriptionParams, body: pollBody }, ...json },
    async (request, reply) => {
      // A client that goes away ends its long-poll: events delivered after that would sit unacknowledged
      // until their ack timeout, and a shutdown would wait for the poll.
      const gone = new AbortController();
      const onClose = () => gone.abort();
      reply.raw.once("close", onClose);
      try {
        const polled = await subscriptions.poll(request.params.name, {
          consumer: request.body.consumer,
          max: request.body.max,
          waitMs: request.body.wait,
          signal: gone.signal,
        });
        return reply.type("application/json; charset=utf-8").send(pollResponseBody(polled));
      } finally {
        reply.raw.off("close", onClose);
      }
    },
  );
  app.post<Named & { Body: { consumer: string; events: string[] } }>(
    "/v1/subscriptions/:name/ack",
    { schema: { params: subscriptionParams, body: ackBody }, ...json },
    (request) => subscriptions.ack(request.params.name, request.body.consumer, request.body.events),
  );
  app.post<Named & { Body: { consumer: string; events: string[]; error?: string; retryAfterMs?: number } }>(
    "/v1/subscriptions/:name/nack",
    { schema: { params: subscriptionParams, body: nackBody }, ...json },
    (request) =>
      subscriptions.nack(request.params.name, request.body.consumer, request.body.events, {
        error: request.body.error || "nacked by the consumer",
        ...(request.body.retryAfterMs === undefined ? {} : { retryAfterMs: request.body.retryAfterMs }),
      }),
  );
  app.post<Named & { Body: { consumer: string } }>(
    "/v1/subscriptions/:name/heartbeat",
    { schema: { params: subscriptionParams, body: consumerBody }, ...json },
    (request) => subscriptions.heartbeat(request.params.name, request.body.consumer),
  );
  app.delete<{ Params: { name: string; consumer: string } }>(
    "/v1/subscriptions/:name/consumers/:consumer",
    {
      schema: {
        params: {
          type: "object",
          required: ["name", "consumer"],
          properties: { name: subscriptionParams.properties.name, consumer: consumerId },
        },
      },
    },
    async (request, reply) => {
      await subscriptions.leave(request.params.name, request.params.consumer);
      return reply.status(204).send();
    },
  );
  app.post<Named & { Body: { to: ResetTarget } }>(
    "/v1/subscriptions/:name/reset",
    { schema: { params: subscriptionParams, body: resetBody }, ...json },
    (request) => subscriptions.reset(request.params.name, request.body.to),
  );
}
