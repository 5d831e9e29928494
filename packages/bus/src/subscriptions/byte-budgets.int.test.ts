import type { DeadLetterPage, DeliveredEvent, PartitionPage, PollResponse } from "@tributary/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, request } from "../e2e/http.js";
import { type RunningServer, startServer } from "../server.js";
import { createTestStoreUrl, storeKinds, type TestStoreUrl } from "../testing/test-stores.js";
import { type Receiver, startReceiver } from "./push/push-receiver.test.fixture.js";

/** The batch budget of the bus under test: room for two events of `eventData` and not three. */
const batchBytes = 50_000;
/** About 20 kB of JSON per event. */
const eventData = (n: number) => `${n}:`.padEnd(20_000, "x");

describe.each(storeKinds)("batches bounded by bytes on %s", (kind) => {
  let location: TestStoreUrl;
  let server: RunningServer;

  beforeAll(async () => {
    location = await createTestStoreUrl(kind);
    server = await startServer({
      store: location.url,
      port: 0,
      logger: false,
      batchBytes,
      eventCacheBytes: 100_000,
      push: { discoveryIntervalMs: 100, pollWaitMs: 500, stopGraceMs: 500 },
    });
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  const append = (topic: string, events: { type: string; data: unknown }[]) =>
    server.bus.append(
      topic,
      events.map((event, index) => ({ ...event, key: `user-${index}` })),
    );
  const sized = (count: number, type = "UserNoted") =>
    Array.from({ length: count }, (_, n) => ({ type, data: eventData(n) }));
  const poll = async (name: string, body: object) => {
    const response = await request<PollResponse>(`${server.url}/v1/subscriptions/${name}/poll`, { body });
    expect(response.status).toBe(200);
    return response.body;
  };
  const ack = (name: string, consumer: string, events: DeliveredEvent[]) =>
    request(`${server.url}/v1/subscriptions/${name}/ack`, {
      body: { consumer, events: events.map((event) => event.id) },
    });

  it("answers each poll with no more JSON than the budget, and every event in the end", async () => {
    // Given 10 events of 20 kB in two partitions and a pull subscription from the start
    await server.bus.putTopic("notes", { partitions: 2 });
    await append("notes", sized(10));
    await request(`${server.url}/v1/subscriptions/notes`, {
      method: "PUT",
      body: { topic: "notes", start: "earliest" },
    });

    // When one consumer polls for up to 1000 at a time, acknowledging each batch
    const sizes: number[] = [];
    const seen: string[] = [];
    while (seen.length < 10) {
      const polled = await poll("notes", { consumer: "c1", max: 1000 });
      expect(polled.events.length).toBeGreaterThan(0);
      sizes.push(polled.events.length);
      seen.push(...polled.events.map((event) => event.data as string));
      expect((await ack("notes", "c1", polled.events)).status).toBe(200);
    }

    // Then no batch held more than two events, and each event came once
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
    expect(new Set(seen).size).toBe(10);
  });

  it("delivers an event larger than the whole budget on its own", async () => {
    await server.bus.putTopic("large", { partitions: 1 });
    await server.bus.append("large", [
      { type: "UserNoted", data: "L".padEnd(200_000, "x") },
      { type: "UserNoted", data: "small" },
    ]);
    await request(`${server.url}/v1/subscriptions/large`, {
      method: "PUT",
      body: { topic: "large", start: "earliest" },
    });

    const first = await poll("large", { consumer: "c1", max: 10 });
    expect(first.events.map((event) => (event.data as string).slice(0, 5))).toEqual(["Lxxxx"]);
    await ack("large", "c1", first.events);
    const second = await poll("large", { consumer: "c1", max: 10 });
    expect(second.events.map((event) => event.data)).toEqual(["small"]);
  });

  it("moves past a budget's worth of events the type filter skips without waiting for a commit", async () => {
    // Given 10 large events of a type the subscription skips, then one it takes
    await server.bus.putTopic("skips", { partitions: 1 });
    await server.bus.append("skips", [...sized(10, "UserSkipped"), { type: "UserKept", data: "kept" }]);
    await request(`${server.url}/v1/subscriptions/skips`, {
      method: "PUT",
      body: { topic: "skips", start: "earliest", types: ["UserKept"] },
    });

    // When a consumer long-polls once (each look reads two skipped events at most)
    const polled = await poll("skips", { consumer: "c1", max: 10, wait: 10_000 });

    // Then it gets the event it takes, not an empty answer at the end of its wait
    expect(polled.events.map((event) => event.data)).toEqual(["kept"]);
  });

  it("reads a partition within the budget, with the offset to go on from", async () => {
    await server.bus.putTopic("pages", { partitions: 1 });
    await server.bus.append("pages", sized(5));

    const url = `${server.url}/v1/topics/pages/partitions/0/events`;
    const first = await request<PartitionPage>(`${url}?from=0&limit=1000`);
    const next = await request<PartitionPage>(`${url}?from=${first.body.next}&limit=1000`);

    expect(first.body.events.map((event) => event.offset)).toEqual([0, 1]);
    expect(first.body.next).toBe(2);
    expect(next.body.events.map((event) => event.offset)).toEqual([2, 3]);
  });

  it("pushes batches of no more than the budget", async () => {
    // Given a receiver and 6 events of 20 kB in one partition
    const receiver: Receiver = await startReceiver();
    try {
      await server.bus.putTopic("pushed", { partitions: 1 });
      await append("pushed", sized(6));

      // When a push subscription with batches of up to 100 delivers them
      await request(`${server.url}/v1/subscriptions/pushed`, {
        method: "PUT",
        body: {
          topic: "pushed",
          start: "earliest",
          delivery: { mode: "push", url: receiver.url, batchSize: 100 },
        },
      });
      await eventually("every event is pushed", async () => receiver.acceptedIds().size === 6);

      // Then no POST carried more than two
      expect(Math.max(...receiver.batches.map((batch) => batch.events.length))).toBeLessThanOrEqual(2);
    } finally {
      await receiver.close();
    }
  });

  it("pages dead letters within the budget, with the id to go on from", async () => {
    // Given three large events dead-lettered at their first failure
    await server.bus.putTopic("dead", { partitions: 1 });
    await append("dead", sized(3));
    await request(`${server.url}/v1/subscriptions/dead`, {
      method: "PUT",
      body: { topic: "dead", start: "earliest", maxAttempts: 1 },
    });
    let deadLettered = 0;
    while (deadLettered < 3) {
      const polled = await poll("dead", { consumer: "c1", max: 10 });
      const nacked = await request<{ deadLettered: string[] }>(`${server.url}/v1/subscriptions/dead/nack`, {
        body: { consumer: "c1", events: polled.events.map((event) => event.id), error: "refused" },
      });
      deadLettered += nacked.body.deadLettered.length;
    }

    // When they are listed, 10 to a page at most
    const url = `${server.url}/v1/subscriptions/dead/dead-letters`;
    const first = await request<DeadLetterPage>(`${url}?limit=10`);
    const second = await request<DeadLetterPage>(`${url}?limit=10&after=${first.body.next}`);

    // Then the first page holds the two that fit and says where to go on; the second the last one
    expect(first.body.deadLetters).toHaveLength(2);
    expect(first.body.next).toBe(first.body.deadLetters[1]?.id);
    expect(second.body.deadLetters).toHaveLength(1);
    expect(second.body.next).toBeNull();
  });
});
