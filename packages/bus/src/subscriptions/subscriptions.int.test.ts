import type { DeliveredEvent, PollResponse, SubscriptionStatus } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createApp } from "../http/app.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(storeKinds)("subscriptions over HTTP on %s", (kind) => {
  let testStore: TestStore;
  let bus: Bus;
  let app: FastifyInstance;

  beforeAll(async () => {
    testStore = await createTestStore(kind);
    bus = createBus({ store: testStore.store });
    app = createApp({ bus });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await testStore.cleanup();
  });

  const put = (name: string, body: unknown) =>
    app.inject({ method: "PUT", url: `/v1/subscriptions/${name}`, payload: body as object });
  const post = (name: string, action: string, body: unknown) =>
    app.inject({ method: "POST", url: `/v1/subscriptions/${name}/${action}`, payload: body as object });
  const status = async (name: string) =>
    (await app.inject({ method: "GET", url: `/v1/subscriptions/${name}` })).json() as SubscriptionStatus;
  const poll = async (name: string, consumer: string, extra: object = {}) => {
    const response = await post(name, "poll", { consumer, max: 1000, ...extra });
    expect(response.statusCode).toBe(200);
    return response.json() as PollResponse;
  };
  const ack = async (name: string, consumer: string, events: DeliveredEvent[]) => {
    const response = await post(name, "ack", { consumer, events: events.map((event) => event.id) });
    expect(response.statusCode).toBe(200);
  };
  const appendUsers = async (topic: string, count: number, type = "UserCreated", keys = 8) => {
    const events = Array.from({ length: count }, (_, index) => ({
      type,
      key: `user-${index % keys}`,
      data: { index },
    }));
    for (let start = 0; start < events.length; start += 1000) {
      await bus.append(topic, events.slice(start, start + 1000));
    }
  };

  it("creates a subscription once, updates it in place, and refuses another topic", async () => {
    // Given a new subscription
    const created = await put("profiles", { topic: "users-a", start: "earliest", maxAttempts: 3 });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: "profiles", topic: "users-a", maxAttempts: 3, types: null });
    // When it is put again, then with another setting, then with another topic
    expect((await put("profiles", { topic: "users-a", start: "earliest", maxAttempts: 3 })).statusCode).toBe(
      200,
    );
    const updated = await put("profiles", { topic: "users-a", start: "earliest", maxAttempts: 4 });
    const conflict = await put("profiles", { topic: "users-b", start: "earliest" });
    // Then
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ maxAttempts: 4 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: "subscription-conflict" });
    const list = await app.inject({ method: "GET", url: "/v1/subscriptions" });
    expect(list.json().subscriptions.map((s: { name: string }) => s.name)).toContain("profiles");
    expect((await app.inject({ method: "DELETE", url: "/v1/subscriptions/profiles" })).statusCode).toBe(204);
    expect((await app.inject({ method: "GET", url: "/v1/subscriptions/profiles" })).statusCode).toBe(404);
  });

  it("delivers every event once acknowledged, one batch per partition, in offset order", async () => {
    // Given 40 events on 4 partitions and a subscription from the earliest
    await appendUsers("users-order", 40);
    await put("order", { topic: "users-order", start: "earliest" });
    // When a consumer polls twice without acknowledging
    const first = await poll("order", "c1");
    const second = await poll("order", "c1");
    // Then it got everything once, in offset order per partition, and nothing more while in flight
    expect(first.events).toHaveLength(40);
    expect(first.partitions).toEqual([0, 1, 2, 3]);
    expect(second.events).toHaveLength(0);
    for (const partition of [0, 1, 2, 3]) {
      const offsets = first.events.filter((e) => e.partition === partition).map((e) => e.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    expect(first.events.every((event) => event.attempt === 1)).toBe(true);
    // When it acknowledges them all
    await ack("order", "c1", first.events);
    // Then the checkpoints reach the heads
    const after = await status("order");
    expect(after.lag).toBe(0);
    expect(after.partitions.map((p) => p.checkpoint)).toEqual(after.partitions.map((p) => p.head));
    expect((await poll("order", "c1")).events).toHaveLength(0);
  });

  it("applies acks sent together each on its own, failing only the one that names an event not held", async () => {
    // Given 40 events in flight to c1 on 4 partitions, and c2 polling too
    await appendUsers("users-acks", 40);
    await put("acks", { topic: "users-acks", start: "earliest" });
    const polled = await poll("acks", "c1");
    expect(polled.events).toHaveLength(40);
    const byPartition = [0, 1, 2, 3].map((p) => polled.events.filter((event) => event.partition === p));
    // When c1 acks each partition's batch in its own request, all at once, while c2 acks one of
    // them and a fifth request names an unknown id along with one of c1's events
    const [p0, p1, p2, p3] = byPartition as [
      DeliveredEvent[],
      DeliveredEvent[],
      DeliveredEvent[],
      DeliveredEvent[],
    ];
    const responses = await Promise.all([
      post("acks", "ack", { consumer: "c1", events: p0.map((e) => e.id) }),
      post("acks", "ack", { consumer: "c2", events: p1.map((e) => e.id) }),
      post("acks", "ack", { consumer: "c1", events: [...p2.map((e) => e.id), "no-such-event"] }),
      post("acks", "ack", { consumer: "c1", events: p1.map((e) => e.id) }),
      post("acks", "ack", { consumer: "c1", events: p3.map((e) => e.id) }),
    ]);
    // Then the valid ones succeed, the two others fail alone with delivery-not-held
    expect(responses.map((response) => response.statusCode)).toEqual([200, 409, 409, 200, 200]);
    expect(responses[1]?.json()).toMatchObject({ code: "delivery-not-held" });
    expect(responses[2]?.json()).toMatchObject({
      code: "delivery-not-held",
      ids: ["no-such-event"],
    });
    // And partition 2 is still in flight, untouched by the failed request, while the others moved on
    const after = await status("acks");
    const checkpoints = after.partitions.map((p) => p.checkpoint);
    const heads = after.partitions.map((p) => p.head);
    expect(checkpoints[2]).toBe(0);
    expect(after.partitions[2]?.inFlight).toBe(p2.length);
    for (const p of [0, 1, 3]) expect(checkpoints[p]).toBe(heads[p]);
    // When the rest is acknowledged properly, nothing is left
    await ack("acks", "c1", p2);
    expect((await status("acks")).lag).toBe(0);
  });

  it("passes over filtered-out types while moving the checkpoint", async () => {
    await appendUsers("users-filter", 10, "UserCreated");
    await appendUsers("users-filter", 10, "UserRenamed");
    await put("renames", { topic: "users-filter", start: "earliest", types: ["UserRenamed"] });
    const polled = await poll("renames", "c1");
    expect(polled.events.map((e) => e.type)).toEqual(Array(10).fill("UserRenamed"));
    await ack("renames", "c1", polled.events);
    expect((await status("renames")).lag).toBe(0);
  });

  it("redelivers a nacked event, dead-letters it after maxAttempts, and keeps the rest flowing", async () => {
    // Given a subscription with 3 attempts and one poison event among others on its key's partition
    await put("poison", {
      topic: "users-poison",
      start: "earliest",
      maxAttempts: 3,
      backoff: { initialMs: 1, maxMs: 5 },
    });
    await bus.append("users-poison", [
      { type: "UserCreated", key: "user-1", data: { n: 1 } },
      { type: "UserCreated", key: "user-1", data: { n: 2, poison: true } },
      { type: "UserCreated", key: "user-1", data: { n: 3 } },
      { type: "UserCreated", key: "user-2", data: { n: 4 } },
    ]);
    const handled: number[] = [];
    let poisonId = "";
    // When the consumer acks all but the poison event, which it nacks, until the partition moves on
    for (let round = 0; round < 20 && handled.filter((n) => n === 3).length === 0; round++) {
      const polled = await poll("poison", "c1", { wait: 50 });
      const byPartition = new Map<number, DeliveredEvent[]>();
      for (const event of polled.events)
        byPartition.set(event.partition, [...(byPartition.get(event.partition) ?? []), event]);
      for (const events of byPartition.values()) {
        const done: DeliveredEvent[] = [];
        for (const event of events) {
          const data = event.data as { n: number; poison?: boolean };
          if (data.poison) {
            poisonId = event.id;
            if (done.length > 0) await ack("poison", "c1", done);
            const nack = await post("poison", "nack", { consumer: "c1", events: [event.id], error: "boom" });
            expect(nack.statusCode).toBe(200);
            done.length = 0;
            break;
          }
          handled.push(data.n);
          done.push(event);
        }
        if (done.length > 0) await ack("poison", "c1", done);
      }
    }
    // Then the others were handled once each, in order per key, and the poison is a dead letter
    expect(handled.filter((n) => n !== 4)).toEqual([1, 3]);
    expect(handled).toContain(4);
    const letters = await app.inject({ method: "GET", url: "/v1/subscriptions/poison/dead-letters" });
    expect(letters.json().deadLetters).toMatchObject([{ id: poisonId, attempts: 3, error: "boom" }]);
    expect(letters.json().deadLetters[0].event.data).toMatchObject({ poison: true });
    const afterStatus = await status("poison");
    expect(afterStatus.deadLetters).toBe(1);
    expect(afterStatus.lag).toBe(0);
    expect(afterStatus.lastError).toMatchObject({ message: "boom", eventId: poisonId });
    // When it is redriven, it is delivered again with a fresh attempt count
    const redrive = await post("poison", "dead-letters/redrive", {});
    expect(redrive.json()).toEqual({ redriven: 1 });
    const again = await poll("poison", "c1", { wait: 1000 });
    expect(again.events.map((e) => [e.id, e.attempt])).toEqual([[poisonId, 1]]);
    await ack("poison", "c1", again.events);
    expect((await status("poison")).deadLetters).toBe(0);
    expect((await status("poison")).partitions.every((p) => p.inFlight === 0 && p.retrying === 0)).toBe(true);
  });

  it("blocks instead of dead-lettering when onFailure is block", async () => {
    await put("strict", {
      topic: "users-strict",
      start: "earliest",
      maxAttempts: 1,
      onFailure: "block",
      backoff: { initialMs: 1, maxMs: 2 },
    });
    await bus.append("users-strict", [{ type: "UserCreated", key: "k", data: {} }]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const polled = await poll("strict", "c1", { wait: 1000 });
      expect(polled.events.map((e) => e.attempt)).toEqual([attempt]);
      await post("strict", "nack", { consumer: "c1", events: [polled.events[0]?.id], error: "no" });
    }
    expect((await status("strict")).deadLetters).toBe(0);
  });

  it("shares partitions between instances and hands a silent one's partitions and events over", async () => {
    // Given two consumers on a 4-partition subscription with a short lease
    await put("shared", { topic: "users-shared", start: "earliest", leaseMs: 400, ackTimeoutMs: 60_000 });
    await appendUsers("users-shared", 40);
    const one = await poll("shared", "c1");
    expect(one.partitions).toEqual([0, 1, 2, 3]);
    await ack("shared", "c1", one.events);
    // When a second instance joins, the first gives up half at its next poll
    await poll("shared", "c2");
    const oneAgain = await poll("shared", "c1");
    const two = await poll("shared", "c2");
    expect(oneAgain.partitions).toEqual([0, 2]);
    expect(two.partitions).toEqual([1, 3]);
    // When c1 takes a batch and then goes silent past its lease
    await appendUsers("users-shared", 40);
    const taken = await poll("shared", "c1");
    expect(taken.events.length).toBeGreaterThan(0);
    await sleep(600);
    // Then c2 gets every partition and the events c1 never acknowledged, as a second attempt
    const redelivered: DeliveredEvent[] = [];
    for (let round = 0; round < 10; round++) {
      const polled = await poll("shared", "c2", { wait: 100 });
      redelivered.push(...polled.events);
      await ack("shared", "c2", polled.events.length > 0 ? polled.events : []).catch(() => undefined);
      if (polled.partitions.length === 4 && (await status("shared")).lag === 0) break;
    }
    const ids = new Set(redelivered.map((e) => e.id));
    expect(taken.events.every((event) => ids.has(event.id))).toBe(true);
    const final = await status("shared");
    expect(final.lag).toBe(0);
    expect(final.consumers.map((c) => c.id)).toEqual(["c2"]);
    // And an ack from the silent instance is refused without effect
    const late = await post("shared", "ack", { consumer: "c1", events: [taken.events[0]?.id] });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: "delivery-not-held" });
  });

  it("ends a waiting poll of an instance that left, without leasing it partitions again", async () => {
    await put("leaving", { topic: "users-leaving", start: "latest" });
    const waiting = poll("leaving", "c1", { wait: 10_000 });
    await sleep(100);
    const left = await app.inject({ method: "DELETE", url: "/v1/subscriptions/leaving/consumers/c1" });
    expect(left.statusCode).toBe(204);
    expect(await waiting).toEqual({ events: [], partitions: [] });
    const after = await status("leaving");
    expect(after.consumers).toEqual([]);
    expect(after.partitions.every((partition) => partition.owner === null)).toBe(true);
  });

  it("wakes a long-poll when an event is appended", async () => {
    await put("waiting", { topic: "users-wait", start: "latest" });
    await poll("waiting", "c1");
    const pending = poll("waiting", "c1", { wait: 10_000 });
    await sleep(50);
    await bus.append("users-wait", [{ type: "UserCreated", key: "k", data: {} }]);
    expect((await pending).events).toHaveLength(1);
  });

  it("catches up through 10,000 stored events, continues live, and replays from a time", async () => {
    // Given 10,000 events before the subscription exists
    await appendUsers("users-history", 10_000, "UserCreated", 100);
    const middle = new Date();
    await sleep(5);
    await appendUsers("users-history", 100, "UserRenamed", 100);
    await put("history", { topic: "users-history", start: "earliest" });
    const seen = new Set<string>();
    const drain = async () => {
      for (let round = 0; round < 100; round++) {
        const polled = await poll("history", "c1");
        for (const event of polled.events) seen.add(event.id);
        if (polled.events.length === 0) break;
        await ack("history", "c1", polled.events);
      }
    };
    await drain();
    expect(seen.size).toBe(10_100);
    // When more events come, they follow
    await appendUsers("users-history", 10, "UserDeleted", 100);
    await drain();
    expect(seen.size).toBe(10_110);
    // When the subscription is reset to a time, it replays from there
    const reset = await post("history", "reset", { to: { time: middle.toISOString() } });
    expect(reset.statusCode).toBe(200);
    expect((reset.json() as SubscriptionStatus).lag).toBe(110);
    const replayed: DeliveredEvent[] = [];
    for (let round = 0; round < 10; round++) {
      const polled = await poll("history", "c1");
      if (polled.events.length === 0) break;
      replayed.push(...polled.events);
      await ack("history", "c1", polled.events);
    }
    expect(replayed.map((e) => e.type).sort()).toEqual(
      [...Array(100).fill("UserRenamed"), ...Array(10).fill("UserDeleted")].sort(),
    );
  });

  it("starts at the latest, a time, or a position", async () => {
    await appendUsers("users-start", 20);
    const topic = (await app.inject({ method: "GET", url: "/v1/topics/users-start" })).json();
    await put("from-latest", { topic: "users-start", start: "latest" });
    expect((await status("from-latest")).partitions.map((p) => p.checkpoint)).toEqual(topic.headOffsets);
    const page = (await app.inject({ method: "GET", url: "/v1/events?topic=users-start&limit=10" })).json();
    const tenth = page.events[9];
    await put("from-position", { topic: "users-start", start: { position: tenth.position } });
    expect((await poll("from-position", "c1")).events).toHaveLength(11);
    await put("from-future", { topic: "users-start", start: { time: "2999-01-01T00:00:00Z" } });
    expect((await status("from-future")).lag).toBe(0);
  });

  it("delivers every event to each of 100 subscriptions on one topic", async () => {
    const names = Array.from({ length: 100 }, (_, index) => `fan-${index}`);
    for (const name of names) await put(name, { topic: "users-fan", start: "earliest" });
    await appendUsers("users-fan", 50);
    const counts = await Promise.all(
      names.map(async (name) => {
        const polled = await poll(name, "c1");
        await ack(name, "c1", polled.events);
        return new Set(polled.events.map((event) => event.id)).size;
      }),
    );
    expect(counts).toEqual(Array(100).fill(50));
  });

  it("answers bad input with a problem and changes nothing", async () => {
    await put("guarded", { topic: "users-guarded", start: "earliest" });
    await appendUsers("users-guarded", 4);
    const polled = await poll("guarded", "c1");
    const before = await status("guarded");
    const cases: [string, string, unknown, number, string][] = [
      ["GET", "/v1/subscriptions/nope", undefined, 404, "subscription-not-found"],
      ["POST", "/v1/subscriptions/nope/poll", { consumer: "c1" }, 404, "subscription-not-found"],
      [
        "PUT",
        "/v1/subscriptions/guarded2",
        { topic: "users-guarded", start: "yesterday" },
        400,
        "invalid-request",
      ],
      [
        "PUT",
        "/v1/subscriptions/guarded2",
        { topic: "users-guarded", start: { time: "noon" } },
        400,
        "invalid-request",
      ],
      ["PUT", "/v1/subscriptions/Bad Name", { topic: "users-guarded" }, 400, "invalid-request"],
      [
        "PUT",
        "/v1/subscriptions/guarded2",
        { topic: "users-guarded", maxAttempts: -1 },
        400,
        "invalid-request",
      ],
      [
        "PUT",
        "/v1/subscriptions/guarded2",
        { topic: "users-guarded", delivery: { mode: "push", url: "ftp://x" } },
        400,
        "invalid-request",
      ],
      ["POST", "/v1/subscriptions/guarded/poll", { consumer: "c1", max: -5 }, 400, "invalid-request"],
      ["POST", "/v1/subscriptions/guarded/poll", { consumer: "bad consumer" }, 400, "invalid-request"],
      [
        "POST",
        "/v1/subscriptions/guarded/ack",
        { consumer: "c1", events: ["never-delivered"] },
        409,
        "delivery-not-held",
      ],
      [
        "POST",
        "/v1/subscriptions/guarded/ack",
        { consumer: "c2", events: [polled.events[0]?.id] },
        409,
        "delivery-not-held",
      ],
      ["POST", "/v1/subscriptions/guarded/ack", { consumer: "c1", events: [] }, 400, "invalid-request"],
      [
        "POST",
        "/v1/subscriptions/guarded/nack",
        { consumer: "c1", events: ["never-delivered"], error: "x" },
        409,
        "delivery-not-held",
      ],
      ["POST", "/v1/subscriptions/guarded/reset", { to: { offsets: { "9": 0 } } }, 400, "invalid-request"],
      ["POST", "/v1/subscriptions/guarded/reset", { to: { offsets: { "0": 1e9 } } }, 400, "invalid-request"],
      ["POST", "/v1/subscriptions/guarded/reset", { to: "tomorrow" }, 400, "invalid-request"],
      ["GET", "/v1/subscriptions/guarded/dead-letters?limit=0", undefined, 400, "invalid-request"],
      ["GET", "/v1/subscriptions/guarded/dead-letters/missing", undefined, 404, "dead-letter-not-found"],
      ["DELETE", "/v1/subscriptions/guarded/dead-letters/missing", undefined, 404, "dead-letter-not-found"],
    ];
    for (const [method, url, body, statusCode, code] of cases) {
      const response = await app.inject({
        method: method as "GET",
        url,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      expect([method, url, response.statusCode]).toEqual([method, url, statusCode]);
      expect(response.headers["content-type"]).toContain("application/problem+json");
      expect(response.json().code).toBe(code);
    }
    // A partly valid ack changes nothing either
    const mixed = await post("guarded", "ack", {
      consumer: "c1",
      events: [polled.events[0]?.id, "never-delivered"],
    });
    expect(mixed.statusCode).toBe(409);
    const after = await status("guarded");
    expect(after.partitions).toEqual(
      before.partitions.map((p) => ({ ...p, leaseExpiresAt: after.partitions[p.partition]?.leaseExpiresAt })),
    );
    expect((await app.inject({ method: "GET", url: "/v1/subscriptions/guarded2" })).statusCode).toBe(404);
  });
});
