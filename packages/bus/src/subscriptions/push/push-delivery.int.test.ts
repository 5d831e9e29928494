import type { DeadLetterPage, PollResponse, SubscriptionStatus } from "@tributary/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, request } from "../../e2e/http.js";
import { type RunningServer, startServer } from "../../server.js";
import { createTestStoreUrl, storeKinds, type TestStoreUrl } from "../../testing/test-stores.js";
import {
  firstArrivalVersionsByKey,
  type Receiver,
  refusingUrl,
  startReceiver,
} from "./push-receiver.test.fixture.js";

/** Small delays everywhere, so that every failure path runs many times in a short test. */
const fastRetries = { backoff: { initialMs: 10, maxMs: 200 } };

describe.each(storeKinds)("push delivery on %s", (kind) => {
  let location: TestStoreUrl;
  let server: RunningServer;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    location = await createTestStoreUrl(kind);
    server = await startServer({
      store: location.url,
      port: 0,
      logger: false,
      push: { discoveryIntervalMs: 100, pollWaitMs: 1_000, stopGraceMs: 500 },
    });
  });

  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.close();
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  const receiver = async () => {
    const started = await startReceiver();
    receivers.push(started);
    return started;
  };
  const put = (name: string, body: object) =>
    request(`${server.url}/v1/subscriptions/${name}`, { method: "PUT", body });
  const status = async (name: string) =>
    (await request<SubscriptionStatus>(`${server.url}/v1/subscriptions/${name}`)).body;
  const appendUsers = (topic: string, from: number, count: number) =>
    server.bus.append(
      topic,
      Array.from({ length: count }, (_, index) => ({
        type: "UserCreated",
        key: `user-${(from + index) % 10}`,
        data: { n: from + index },
      })),
    );

  it("rides out errors and timeouts behind the breaker, and delivers every event in order per key", async () => {
    // Given an endpoint that answers 500 and a push subscription with 100 events waiting
    const endpoint = await receiver();
    endpoint.answer = () => ({ status: 500 });
    await appendUsers("users-faults", 0, 100);
    const created = await put("faults", {
      topic: "users-faults",
      start: "earliest",
      delivery: { mode: "push", url: endpoint.url, batchSize: 10, timeoutMs: 200 },
      maxAttempts: 1000,
      ...fastRetries,
    });
    expect(created.status).toBe(201);
    // When the failures go on, the breaker opens and the status shows it
    await eventually(
      "the breaker opens",
      async () => (await status("faults")).push?.breaker.state === "open",
      { attempts: 300, intervalMs: 20 },
    );
    // When the endpoint then lets the next three requests hang past the timeout, then recovers,
    // while more events arrive
    const failedBefore = endpoint.batches.length;
    endpoint.answer = (index) => (index < failedBefore + 3 ? "hang" : { status: 200 });
    await appendUsers("users-faults", 100, 100);
    await eventually("every event is accepted", async () => endpoint.acceptedIds().size === 200, {
      attempts: 300,
    });
    // Then every event arrived, each key's first arrivals in version order
    const numbers = new Set(endpoint.accepted.map((event) => (event.data as { n: number }).n));
    expect(numbers.size).toBe(200);
    for (const [key, versions] of firstArrivalVersionsByKey(endpoint.accepted)) {
      expect(versions, key).toEqual([...versions].sort((a, b) => a - b));
      expect(versions, key).toHaveLength(20);
    }
    // and every POST was a CloudEvents batch of one partition, with the push headers
    for (const batch of endpoint.batches) {
      expect(batch.contentType).toBe("application/cloudevents-batch+json");
      expect(batch.subscription).toBe("faults");
      expect(new Set(batch.events.map((event) => event.partition)).size).toBe(1);
      expect(batch.attempt).toBeGreaterThanOrEqual(1);
    }
    expect(endpoint.batches.some((batch) => batch.attempt > 1)).toBe(true);
    expect(endpoint.batches.filter((batch) => batch.answer === "hang")).toHaveLength(3);
    // and the subscription caught up with its breaker closed and the timeout as its last error
    await eventually("the subscription catches up", async () => (await status("faults")).lag === 0);
    const final = await status("faults");
    expect(final.push?.breaker).toEqual({ state: "closed", failures: 0, openedAt: null });
    expect(final.deadLetters).toBe(0);
    expect(final.lastError?.message).toBe("timeout after 200 ms");
  });

  it("retries a refused connection, then dead-letters after maxAttempts", async () => {
    // Given a push subscription to a port where nothing listens, with 3 attempts
    const url = await refusingUrl();
    await appendUsers("users-refused", 0, 4);
    await put("refused", {
      topic: "users-refused",
      start: "earliest",
      delivery: { mode: "push", url, timeoutMs: 500 },
      maxAttempts: 3,
      ...fastRetries,
    });
    // When delivery keeps failing
    await eventually(
      "every event is dead-lettered",
      async () => (await status("refused")).deadLetters === 4,
      {
        attempts: 300,
      },
    );
    // Then each dead letter records its three refused attempts, and the partitions moved on
    const page = (await request<DeadLetterPage>(`${server.url}/v1/subscriptions/refused/dead-letters`)).body;
    expect(page.deadLetters).toHaveLength(4);
    for (const letter of page.deadLetters) {
      expect(letter).toMatchObject({ attempts: 3, error: "connection refused" });
    }
    expect((await status("refused")).lag).toBe(0);
  });

  it("stops pushing a subscription changed to pull, and reports no breaker for it", async () => {
    // Given a push subscription that delivered its first events
    const endpoint = await receiver();
    await appendUsers("users-switch", 0, 10);
    const push = { mode: "push", url: endpoint.url };
    await put("switch", { topic: "users-switch", start: "earliest", delivery: push, ...fastRetries });
    await eventually("the first events are pushed", async () => endpoint.acceptedIds().size === 10);
    await eventually("they are acknowledged", async () => (await status("switch")).lag === 0);
    // When it is changed to pull and more events arrive
    const changed = await put("switch", {
      topic: "users-switch",
      start: "earliest",
      delivery: { mode: "pull" },
      ...fastRetries,
    });
    expect(changed.status).toBe(200);
    await appendUsers("users-switch", 10, 10);
    // Then a pull consumer gets all of them (the push instance left the group), none is pushed
    const pulled = new Set<string>();
    await eventually(
      "a pull consumer gets the new events",
      async () => {
        const polled = await request<PollResponse>(`${server.url}/v1/subscriptions/switch/poll`, {
          body: { consumer: "puller", max: 100, wait: 200 },
        });
        for (const event of polled.body.events) pulled.add(event.id);
        return pulled.size === 10;
      },
      { attempts: 50, intervalMs: 10 },
    );
    expect(endpoint.acceptedIds().size).toBe(10);
    expect((await status("switch")).push).toBeUndefined();
  });

  it("forgets a deleted push subscription", async () => {
    // Given a push subscription that delivered
    const endpoint = await receiver();
    await appendUsers("users-deleted", 0, 5);
    await put("deleted", {
      topic: "users-deleted",
      start: "earliest",
      delivery: { mode: "push", url: endpoint.url },
    });
    await eventually("the events are pushed", async () => endpoint.acceptedIds().size === 5);
    // When it is deleted, and created again as a pull subscription from the latest event
    expect((await request(`${server.url}/v1/subscriptions/deleted`, { method: "DELETE" })).status).toBe(204);
    await put("deleted", { topic: "users-deleted", delivery: { mode: "pull" } });
    await appendUsers("users-deleted", 5, 5);
    // Then the new events go to pull consumers only
    const polled = await request<PollResponse>(`${server.url}/v1/subscriptions/deleted/poll`, {
      body: { consumer: "puller", max: 100, wait: 1_000 },
    });
    expect(polled.body.events.length).toBeGreaterThan(0);
    expect(endpoint.acceptedIds().size).toBe(5);
  });
});
