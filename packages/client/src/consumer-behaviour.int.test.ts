import { type RunningServer, startServer } from "@tributary/bus";
import { createTestStoreUrl, type TestStoreUrl } from "@tributary/bus/testing";
import { type DeliveredEvent, partitionForKey, TributaryError } from "@tributary/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient, type TributaryClient } from "./client.js";
import type { Consumer, EventHandler, SubscribeOptions } from "./consumer.js";
import { type ConsumerErrorContext, isFatalConsumerError } from "./consumer-options.js";

/** Polls `check` every 25 ms until it holds; fails after `timeoutMs` naming `what`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A latch a handler waits on until the test opens it. `wait()` fails after `timeoutMs` naming `what`,
 * so a consumer that never gets there fails the test instead of hanging it; its timer never outlives it.
 */
function createGate(what: string, timeoutMs = 10_000) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    open,
    async wait(): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      });
      try {
        await Promise.race([opened, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A key of the users topic that lands on `partition` of `partitions`. */
function keyOnPartition(partition: number, partitions: number): string {
  for (let index = 0; ; index += 1) {
    const key = `user-${index}`;
    if (partitionForKey(key, partitions) === partition) return key;
  }
}

/** `"code"` of a bus error, the message of any other: what `onError` got, in a form to compare. */
function describeError(error: unknown): string {
  return error instanceof TributaryError ? error.code : String(error);
}

describe("client.subscribe against a real bus", () => {
  let location: TestStoreUrl;
  let servers: RunningServer[];
  let client: TributaryClient;
  let consumers: Consumer[];

  beforeEach(async () => {
    location = await createTestStoreUrl("sqlite");
    servers = [await startServer({ store: location.url, port: 0, logger: false, push: false })];
    client = createClient({ url: (servers[0] as RunningServer).url });
    consumers = [];
  });

  afterEach(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    for (const server of servers) await server.close();
    await location.cleanup();
  });

  /** Runs a consumer of `users` from its earliest event, stopped after the test. */
  async function subscribeToUsers(options: Partial<SubscribeOptions>, handler: EventHandler) {
    const consumer = await client.subscribe(
      "profiles",
      { topic: "users", start: "earliest", wait: 200, ...options } as SubscribeOptions,
      handler,
    );
    consumers.push(consumer);
    return consumer;
  }

  const isCaughtUp = async () => {
    const status = await client.getSubscription("profiles");
    return status.lag === 0 && status.partitions.every((partition) => partition.inFlight === 0);
  };

  it("handles a partition one event at a time in order, and partitions side by side", async () => {
    // Given three renames of a user on each of two partitions
    await client.putTopic("users", { partitions: 2 });
    const keys = [keyOnPartition(0, 2), keyOnPartition(1, 2)];
    const { events } = await client.append(
      "users",
      [0, 1, 2].flatMap((index) => keys.map((key) => ({ type: "UserRenamed", key, data: { index } }))),
    );
    expect(new Set(events.map((event) => event.partition))).toEqual(new Set([0, 1]));
    // and a handler whose first event of a partition waits until the other partition has started
    const bothStarted = createGate("both partitions to be handled at once");
    const running = new Map<number, number>();
    const handled: DeliveredEvent[] = [];
    let mostInOnePartition = 0;
    let mostOverall = 0;

    const errors: unknown[] = [];

    // When a consumer with no concurrency limit handles them
    await subscribeToUsers({ onError: (error) => errors.push(error) }, async (event) => {
      running.set(event.partition, (running.get(event.partition) ?? 0) + 1);
      try {
        const counts = [...running.values()];
        mostInOnePartition = Math.max(mostInOnePartition, ...counts);
        mostOverall = Math.max(
          mostOverall,
          counts.reduce((sum, count) => sum + count, 0),
        );
        if (counts.filter((count) => count > 0).length === 2) bothStarted.open();
        await bothStarted.wait();
        // Gives the partition's next events a chance to start too, were the consumer to let them.
        await sleep(5);
      } finally {
        running.set(event.partition, (running.get(event.partition) ?? 0) - 1);
      }
      handled.push(event);
    });
    await eventually(
      "all six events to be handled and acked",
      async () => errors.length > 0 || (handled.length === 6 && (await isCaughtUp())),
    );

    // Then the two partitions ran at the same time, each one event at a time and in offset order
    expect(errors).toEqual([]);
    expect(mostOverall).toBe(2);
    expect(mostInOnePartition).toBe(1);
    for (const partition of [0, 1]) {
      const offsets = handled.filter((event) => event.partition === partition).map((event) => event.offset);
      expect(offsets).toEqual([0, 1, 2]);
    }
  });

  it("runs no more partitions at once than `concurrency`", async () => {
    // Given one event on each of four partitions, and handlers that hold on until two run at once
    await client.putTopic("users", { partitions: 4 });
    await client.append(
      "users",
      [0, 1, 2, 3].map((partition) => ({ type: "UserRenamed", key: keyOnPartition(partition, 4) })),
    );
    const twoRunning = createGate("two partitions to be handled at once");
    let running = 0;
    let most = 0;
    const handled: number[] = [];
    const errors: unknown[] = [];

    // When a consumer with `concurrency: 2` handles them
    await subscribeToUsers({ concurrency: 2, onError: (error) => errors.push(error) }, async (event) => {
      running += 1;
      try {
        most = Math.max(most, running);
        if (running === 2) twoRunning.open();
        await twoRunning.wait();
        // Gives the other partitions a chance to start too, were the consumer to let them.
        await sleep(5);
      } finally {
        running -= 1;
      }
      handled.push(event.partition);
    });
    await eventually(
      "all four events to be handled and acked",
      async () => errors.length > 0 || (handled.length === 4 && (await isCaughtUp())),
    );

    // Then two partitions ran side by side, never more
    expect(errors).toEqual([]);
    expect(most).toBe(2);
    expect([...handled].sort()).toEqual([0, 1, 2, 3]);
  });

  it("refuses a concurrency below 1 before any request", async () => {
    // Given a client that counts the requests it sends to the bus
    let requests = 0;
    const counting = createClient({
      url: (servers[0] as RunningServer).url,
      fetch: (input, init) => {
        requests += 1;
        return fetch(input, init);
      },
    });
    // When it subscribes with a concurrency below 1
    for (const concurrency of [0, -1, 0.5, Number.NaN]) {
      await expect(
        counting.subscribe("profiles", { topic: "users", concurrency }, async () => {}),
      ).rejects.toThrow(TypeError);
    }
    // Then nothing reached the bus: no request, no subscription
    expect(requests).toBe(0);
    await expect(client.getSubscription("profiles")).rejects.toMatchObject({
      code: "subscription-not-found",
    });
  });

  it("acks what succeeded, nacks the failing event, and handles the rest of its batch only after it", async () => {
    // Given three renames of one user on a one-partition topic, and a handler failing once on the second
    await client.putTopic("users", { partitions: 1 });
    const { events } = await client.append(
      "users",
      [0, 1, 2].map((index) => ({ type: "UserRenamed", key: "user-1", data: { index } })),
    );
    const failing = events[1]?.id;
    const seen: Array<[number, number]> = [];
    const errors: Array<[string, string | undefined]> = [];
    let statusAtRetry: Awaited<ReturnType<TributaryClient["getSubscription"]>> | undefined;

    // When a consumer handles them
    await subscribeToUsers(
      {
        retryBackoff: () => 10,
        onError: (_, context: ConsumerErrorContext) => errors.push([context.operation, context.event?.id]),
      },
      async (event) => {
        seen.push([event.offset, event.attempt]);
        if (event.offset !== 1) return;
        if (event.attempt === 1) throw new Error("profile store down");
        // The retry: what the bus recorded of the first round
        statusAtRetry = await client.getSubscription("profiles");
      },
    );
    await eventually(
      "the three events to be done",
      async () => seen.some(([offset]) => offset === 2) && isCaughtUp(),
    );

    // Then the first round handled the first two only; the failed one came back first, then the third
    expect(seen).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
      [2, expect.any(Number)],
    ]);
    // and by the retry the bus had the first event acked and the second nacked with the handler's error
    expect(statusAtRetry?.partitions[0]?.checkpoint).toBe(1);
    expect(statusAtRetry?.lastError).toMatchObject({ message: "profile store down", eventId: failing });
    expect(errors).toEqual([["handler", failing]]);
  });

  it("nacks with the subscription's backoff when retryBackoff throws, and goes on with the partition", async () => {
    // Given three renames of one user on a one-partition topic, a handler failing once on the second,
    // and a retryBackoff that throws
    await client.putTopic("users", { partitions: 1 });
    const { events } = await client.append(
      "users",
      [0, 1, 2].map((index) => ({ type: "UserRenamed", key: "user-1", data: { index } })),
    );
    const failing = events[1]?.id;
    const seen: Array<[number, number]> = [];
    const errors: Array<[string, string | undefined]> = [];

    // When a consumer handles them
    await subscribeToUsers(
      {
        backoff: { initialMs: 0, maxMs: 0 },
        retryBackoff: () => {
          throw new Error("backoff table missing");
        },
        onError: (_, context: ConsumerErrorContext) => errors.push([context.operation, context.event?.id]),
      },
      async (event) => {
        seen.push([event.offset, event.attempt]);
        if (event.offset === 1 && event.attempt === 1) throw new Error("profile store down");
      },
    );
    await eventually(
      "the three events to be done",
      async () => seen.some(([offset]) => offset === 2) && isCaughtUp(),
    );

    // Then the failed event was nacked and came back before the third, and both errors were reported
    expect(seen).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
      [2, expect.any(Number)],
    ]);
    expect(errors).toEqual([
      ["handler", failing],
      ["retryBackoff", failing],
    ]);
  });

  it("stops handling a batch whose partition moved away (delivery-not-held), and goes on", async () => {
    // Given three events on one partition, and an ack timeout short enough that each event is acked
    // as soon as it is handled once half of it has passed
    const ackTimeoutMs = 1_000;
    await client.putTopic("users", { partitions: 1 });
    await client.append(
      "users",
      [0, 1, 2].map((index) => ({ type: "UserRenamed", key: "user-1", data: { index } })),
    );
    const firstStarted = createGate("the first event to be handled");
    const resetDone = createGate("the reset");
    const handled: number[] = [];
    const errors: string[] = [];
    await subscribeToUsers(
      {
        ackTimeoutMs,
        onError: (error, context) => errors.push(`${context.operation} ${describeError(error)}`),
      },
      async (event) => {
        handled.push(event.offset);
        if (event.offset !== 0) return;
        firstStarted.open();
        await resetDone.wait();
        // Past half the ack timeout since the delivery, so this event is acked before the next starts.
        await sleep(ackTimeoutMs / 2 + 50);
      },
    );

    // When the subscription is reset to the latest event while the batch's first event is being handled
    await firstStarted.wait();
    await client.reset("profiles", "latest");
    resetDone.open();
    await eventually("the refused ack to be reported", () => errors.length > 0);
    // and a new event is appended afterwards
    await client.append("users", { type: "UserRenamed", key: "user-1", data: { index: 3 } });
    await eventually(
      "the new event to be handled and acked",
      async () => handled.includes(3) && isCaughtUp(),
    );

    // Then the refused ack was reported, the rest of that batch left alone, and the new event handled
    expect(errors).toEqual(["ack delivery-not-held"]);
    expect(handled).toEqual([0, 3]);
  });

  it("rides out a bus restart and handles events appended after it", async () => {
    // Given a consumer that has handled an event
    await client.putTopic("users", { partitions: 1 });
    const handled: number[] = [];
    const errors: Array<{ error: unknown; operation: string }> = [];
    const consumer = await subscribeToUsers(
      { onError: (error, context) => errors.push({ error, operation: context.operation }) },
      async (event) => {
        handled.push(event.offset);
      },
    );
    await client.append("users", { type: "UserRenamed", key: "user-1" });
    await eventually(
      "the first event to be handled and acked",
      async () => handled.length === 1 && isCaughtUp(),
    );

    // When the bus shuts down, and a new bus on the same store and port comes up once a poll failed
    const before = servers[0] as RunningServer;
    await before.close();
    await eventually("a poll to fail", () => errors.some((entry) => entry.operation === "poll"));
    const port = Number(new URL(before.url).port);
    servers.push(await startServer({ store: location.url, port, logger: false, push: false }));
    await client.append("users", { type: "UserRenamed", key: "user-1" });

    // Then the same consumer handles the event appended after the restart
    await eventually(
      "the second event to be handled and acked",
      async () => handled.length === 2 && isCaughtUp(),
    );
    expect(handled).toEqual([0, 1]);
    // and what it reported on the way were failed polls (or heartbeats) it could retry, nothing fatal
    expect(errors.length).toBeGreaterThan(0);
    for (const { error, operation } of errors) {
      expect(["poll", "heartbeat"]).toContain(operation);
      expect(isFatalConsumerError(error)).toBe(false);
    }
    const settled = await Promise.race([
      consumer.stopped.then(() => "stopped"),
      sleep(0).then(() => "running"),
    ]);
    expect(settled).toBe("running");
  });
});
