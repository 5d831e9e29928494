import { createServer } from "node:http";
import { openStore, prepareEvent } from "@tributary/bus";
import { createClient } from "@tributary/client";
import { startBus } from "./bus-process.js";
import { createHttpClient } from "./http-client.js";
import { batchBody, createEvents } from "./payloads.js";
import { createLatencyRecorder, ratePerSecond } from "./stats.js";

/** The shape of the subscription run. */
export const subscriptionPlan = {
  fanOut: { events: 10_000, partitions: 4, subscriptions: 100, max: 1000 },
  handlerLatency: { eventsPerSecond: 1000, events: 5500, warmupEvents: 500, partitions: 4 },
  push: { events: 20_000, partitions: 4, batchSize: 500 },
  catchUp: { events: 1_000_000, partitions: 4, max: 1000, prefillGroup: 10_000 },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits for `done`, or for `ms` at most. The timer is cleared when `done` settles first, so that a
 * finished run does not keep the process alive until it fires.
 */
async function untilDoneOr(done, ms) {
  let timer;
  try {
    await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Set by `runSubscriptionSuite`: where each bus writes a CPU profile, when profiling. */
let busOptions = {};

async function withBus(storeUrl, use) {
  const bus = await startBus({ storeUrl, ...busOptions });
  const client = createHttpClient(bus.url, { maxSockets: 128 });
  let result;
  try {
    result = await use(bus, client);
  } catch (error) {
    error.message += `\n--- bus output ---\n${bus.output()}`;
    client.close();
    await bus.stop().catch(() => undefined);
    throw error;
  }
  client.close();
  try {
    await bus.stop();
  } catch (error) {
    error.message += `\n--- bus output ---\n${bus.output()}`;
    throw error;
  }
  return result;
}

async function prefillOverHttp(client, topic, partitions, events) {
  await client.sendExpecting([200, 201], "PUT", `/v1/topics/${topic}`, JSON.stringify({ partitions }));
  for (let start = 0; start < events.length; start += 1000) {
    await client.sendExpecting(
      [201],
      "POST",
      `/v1/topics/${topic}/events`,
      batchBody(events.slice(start, start + 1000)),
    );
  }
}

async function putSubscription(client, name, body) {
  await client.sendExpecting([200, 201], "PUT", `/v1/subscriptions/${name}`, JSON.stringify(body));
}

/** One consumer instance polling and acknowledging until it has seen `expected` events. */
async function drain(client, name, expected, max) {
  const seen = new Set();
  const consumer = `bench-${name}`;
  while (seen.size < expected) {
    const polled = await client.sendExpecting(
      [200],
      "POST",
      `/v1/subscriptions/${name}/poll`,
      JSON.stringify({ consumer, max, wait: 1000 }),
    );
    if (polled.events.length === 0) continue;
    for (const event of polled.events) seen.add(event.id);
    await client.sendExpecting(
      [200],
      "POST",
      `/v1/subscriptions/${name}/ack`,
      JSON.stringify({ consumer, events: polled.events.map((event) => event.id) }),
    );
  }
  return seen.size;
}

/** Pull throughput of 1 subscription, then of 100 subscriptions on the same stored events. */
async function measureFanOut(storeUrl) {
  const plan = subscriptionPlan.fanOut;
  const events = createEvents(plan.events, 11);
  return withBus(storeUrl, async (_bus, client) => {
    await prefillOverHttp(client, "fanout", plan.partitions, events);
    await putSubscription(client, "solo", { topic: "fanout", start: "earliest" });
    const soloStarted = performance.now();
    await drain(client, "solo", plan.events, plan.max);
    const one = ratePerSecond(plan.events, soloStarted, performance.now());
    const names = Array.from({ length: plan.subscriptions }, (_, index) => `group-${index}`);
    for (const name of names) await putSubscription(client, name, { topic: "fanout", start: "earliest" });
    const manyStarted = performance.now();
    const counts = await Promise.all(names.map((name) => drain(client, name, plan.events, plan.max)));
    const total = counts.reduce((sum, count) => sum + count, 0);
    const many = ratePerSecond(total, manyStarted, performance.now());
    return {
      oneGroupEventsPerSecond: one,
      manyGroupsEventsPerSecond: many,
      groups: plan.subscriptions,
      events: plan.events,
    };
  });
}

/** Append → SDK handler latency with paced single-event appends. */
async function measureHandlerLatency(storeUrl) {
  const plan = subscriptionPlan.handlerLatency;
  return withBus(storeUrl, async (bus, http) => {
    await http.sendExpecting(
      [200, 201],
      "PUT",
      "/v1/topics/tail",
      JSON.stringify({ partitions: plan.partitions }),
    );
    const client = createClient({ url: bus.url });
    const latency = createLatencyRecorder();
    // From the commit (the event's time, stamped by the bus on this machine) to the handler: the
    // delivery path alone, without the append's own commit wait.
    const fromCommit = createLatencyRecorder();
    let handled = 0;
    let resolveDone;
    const done = new Promise((resolve) => {
      resolveDone = resolve;
    });
    const consumer = await client.subscribe(
      "latency",
      { topic: "tail", start: "latest", wait: 5000, onError: () => undefined },
      async (event) => {
        handled += 1;
        if (event.data.index >= plan.warmupEvents) {
          latency.add(performance.now() - event.data.sentAt);
          fromCommit.add(Date.now() - Date.parse(event.time));
        }
        if (handled >= plan.events) resolveDone();
      },
    );
    await sleep(200);
    const intervalMs = 1000 / plan.eventsPerSecond;
    const started = performance.now();
    const appends = [];
    for (let index = 0; index < plan.events; index += 1) {
      const due = started + index * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      appends.push(
        client.append("tail", {
          type: "Tick",
          key: `k-${index % 64}`,
          data: { index, sentAt: performance.now() },
        }),
      );
    }
    await Promise.all(appends);
    await untilDoneOr(done, 30_000);
    await consumer.stop();
    if (handled < plan.events) throw new Error(`the handler saw ${handled} of ${plan.events} events`);
    return {
      offeredEventsPerSecond: plan.eventsPerSecond,
      latencyMs: latency.summary(),
      fromCommitMs: fromCommit.summary(),
    };
  });
}

/** Push delivery to a local receiver that answers 200 at once. */
async function measurePush(storeUrl) {
  const plan = subscriptionPlan.push;
  const events = createEvents(plan.events, 12);
  const received = new Set();
  let firstAt;
  let lastAt;
  let resolveDone;
  const done = new Promise((resolve) => {
    resolveDone = resolve;
  });
  const receiver = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      firstAt ??= performance.now();
      for (const event of JSON.parse(Buffer.concat(chunks).toString("utf8"))) received.add(event.id);
      lastAt = performance.now();
      response.writeHead(200).end();
      if (received.size >= plan.events) resolveDone();
    });
  });
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${receiver.address().port}/events`;
  try {
    return await withBus(storeUrl, async (_bus, client) => {
      await prefillOverHttp(client, "pushed", plan.partitions, events);
      const started = performance.now();
      await putSubscription(client, "webhook", {
        topic: "pushed",
        start: "earliest",
        delivery: { mode: "push", url, batchSize: plan.batchSize },
      });
      await untilDoneOr(done, 60_000);
      if (received.size < plan.events)
        throw new Error(`the receiver got ${received.size} of ${plan.events} events`);
      return {
        eventsPerSecond: ratePerSecond(plan.events, started, lastAt),
        firstBatchAfterMs: firstAt - started,
        batchSize: plan.batchSize,
      };
    });
  } finally {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  }
}

/** Writes `count` events straight into a store (faster than HTTP), before the bus starts. */
async function prefillStore(storeUrl, topic, partitions, count, groupSize) {
  const store = openStore(storeUrl);
  try {
    await store.migrate();
    await store.putTopic(topic, { partitions });
    const template = createEvents(groupSize, 13);
    for (let written = 0; written < count; written += groupSize) {
      const size = Math.min(groupSize, count - written);
      const prepared = template.slice(0, size).map((event) => prepareEvent(topic, event));
      const [outcome] = await store.appendGroup([{ topic, events: prepared }], {
        autoCreate: false,
        defaultPartitions: partitions,
      });
      if (!outcome?.ok) throw new Error(`prefill failed: ${outcome?.error?.message}`);
    }
  } finally {
    await store.close();
  }
}

/** A new subscription from the earliest through `catchUp.events` stored events, by the SDK consumer. */
async function measureCatchUp(storeUrl, progress, kind) {
  const plan = subscriptionPlan.catchUp;
  progress(`${kind}: writing ${plan.events.toLocaleString("en-US")} events for the catch-up run`);
  const prefillStarted = performance.now();
  await prefillStore(storeUrl, "history", plan.partitions, plan.events, plan.prefillGroup);
  const prefillSeconds = (performance.now() - prefillStarted) / 1000;
  progress(`${kind}: catch-up of a new subscription`);
  return withBus(storeUrl, async (bus) => {
    const client = createClient({ url: bus.url });
    let handled = 0;
    let resolveDone;
    const done = new Promise((resolve) => {
      resolveDone = resolve;
    });
    const started = performance.now();
    const consumer = await client.subscribe(
      "replay",
      { topic: "history", start: "earliest", max: plan.max, onError: () => undefined },
      async () => {
        handled += 1;
        if (handled === plan.events) resolveDone();
      },
    );
    await untilDoneOr(done, 300_000);
    const ended = performance.now();
    await consumer.stop();
    if (handled < plan.events) throw new Error(`the consumer saw ${handled} of ${plan.events} events`);
    return {
      events: plan.events,
      seconds: (ended - started) / 1000,
      eventsPerSecond: ratePerSecond(plan.events, started, ended),
      prefillSeconds,
    };
  });
}

/** Every subscription scenario on one store kind; `location` comes from the store suite. */
export async function runSubscriptionSuite(kind, location, { progress, only, cpuProfileDir }) {
  busOptions = cpuProfileDir ? { cpuProfileDir } : {};
  const results = { kind };
  const wants = (name) => only === undefined || only.includes(name);
  if (wants("fanout")) {
    progress(`${kind}: pull delivery, 1 subscription then ${subscriptionPlan.fanOut.subscriptions}`);
    results.fanOut = await measureFanOut(location.busStoreUrl("fanout"));
  }
  if (wants("latency")) {
    progress(`${kind}: append→handler latency through the SDK consumer`);
    results.handlerLatency = await measureHandlerLatency(location.busStoreUrl("handler"));
  }
  if (wants("push")) {
    progress(`${kind}: push delivery to a local receiver`);
    results.push = await measurePush(location.busStoreUrl("push"));
  }
  if (wants("catchup"))
    results.catchUp = await measureCatchUp(location.busStoreUrl("catchup"), progress, kind);
  return results;
}
