import { type DeliveredEvent, type PollResponse, TributaryError } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import { type EventHandler, type SubscribeOptions, subscribe } from "./consumer.js";
import type { ConsumerErrorContext } from "./consumer-options.js";
import type { SubscriptionCalls } from "./subscription-calls.js";

function delivered(partition: number, offset: number): DeliveredEvent {
  return { id: `p${partition}-o${offset}`, partition, offset, attempt: 1 } as unknown as DeliveredEvent;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A bus stand-in: polls answer the scripted responses (an error is thrown), then nothing after a
 * short wait; acks fail for the ids in `refusedAcks`. Every call is logged in order.
 */
function createFakeCalls(script: Array<PollResponse | Error>, options: { ackTimeoutMs?: number } = {}) {
  const log: string[] = [];
  const refusedAcks = new Set<string>();
  const calls = {
    async putSubscription() {
      return { leaseMs: 30_000, ackTimeoutMs: options.ackTimeoutMs ?? 30_000 };
    },
    async poll() {
      log.push("poll");
      const next = script.shift();
      if (next instanceof Error) throw next;
      if (next !== undefined) return next;
      await sleep(5);
      return { events: [], partitions: [] };
    },
    async ack(_name: string, _consumer: string, ids: string[]) {
      log.push(`ack ${ids.join(",")}`);
      if (ids.some((id) => refusedAcks.has(id))) throw new TributaryError("delivery-not-held");
      return { acked: ids.length };
    },
    async nack(_name: string, _consumer: string, ids: string[]) {
      log.push(`nack ${ids.join(",")}`);
      return { nacked: ids.length, deadLettered: [] };
    },
    async heartbeat() {
      return { partitions: [] };
    },
    async leave() {
      log.push("leave");
    },
  } as unknown as SubscriptionCalls;
  return { calls, log, refusedAcks };
}

async function runUntil(
  calls: SubscriptionCalls,
  options: Partial<SubscribeOptions>,
  handler: EventHandler,
  isDone: () => boolean,
) {
  const consumer = await subscribe(
    calls,
    "profiles",
    { topic: "users", wait: 5, ...options } as SubscribeOptions,
    handler,
  );
  for (let waited = 0; waited < 5_000 && !isDone(); waited += 5) await sleep(5);
  await consumer.stop();
  return consumer;
}

describe("subscribe", () => {
  it("handles a partition one event at a time in order, and partitions side by side", async () => {
    // Given a poll answering three events of each of two partitions
    const events = [0, 1, 2].flatMap((offset) => [delivered(0, offset), delivered(1, offset)]);
    const { calls, log } = createFakeCalls([{ events, partitions: [0, 1] }]);
    const running = new Map<number, number>();
    const handled: string[] = [];
    let mostInOnePartition = 0;
    let mostOverall = 0;
    // When a slow handler runs over them
    await runUntil(
      calls,
      { onError: () => {} },
      async (event) => {
        running.set(event.partition, (running.get(event.partition) ?? 0) + 1);
        mostInOnePartition = Math.max(mostInOnePartition, ...running.values());
        mostOverall = Math.max(
          mostOverall,
          [...running.values()].reduce((sum, count) => sum + count, 0),
        );
        await sleep(5);
        running.set(event.partition, (running.get(event.partition) ?? 0) - 1);
        handled.push(event.id);
      },
      () => handled.length === 6,
    );
    // Then each partition ran alone and in offset order, both at once, and each was acked as one batch
    expect(mostInOnePartition).toBe(1);
    expect(mostOverall).toBe(2);
    expect(handled.filter((id) => id.startsWith("p0"))).toEqual(["p0-o0", "p0-o1", "p0-o2"]);
    expect(log).toContain("ack p0-o0,p0-o1,p0-o2");
    expect(log).toContain("ack p1-o0,p1-o1,p1-o2");
    expect(log.at(-1)).toBe("leave");
  });

  it("runs no more partitions at once than `concurrency`", async () => {
    const events = [0, 1, 2, 3].map((partition) => delivered(partition, 0));
    const { calls } = createFakeCalls([{ events, partitions: [0, 1, 2, 3] }]);
    let running = 0;
    let most = 0;
    let handled = 0;
    await runUntil(
      calls,
      { concurrency: 1, onError: () => {} },
      async () => {
        running += 1;
        most = Math.max(most, running);
        await sleep(2);
        running -= 1;
        handled += 1;
      },
      () => handled === 4,
    );
    expect(most).toBe(1);
    expect(handled).toBe(4);
  });

  it("refuses a concurrency below 1 before any request", async () => {
    const { calls, log } = createFakeCalls([]);
    await expect(
      subscribe(calls, "profiles", { topic: "users", concurrency: 0 }, async () => {}),
    ).rejects.toThrow(TypeError);
    expect(log).toEqual([]);
  });

  it("acks what succeeded, nacks the failing event and leaves the rest of its batch alone", async () => {
    const events = [0, 1, 2].map((offset) => delivered(0, offset));
    const { calls, log } = createFakeCalls([{ events, partitions: [0] }]);
    const handled: string[] = [];
    const errors: ConsumerErrorContext[] = [];
    await runUntil(
      calls,
      { onError: (_, context) => errors.push(context) },
      async (event) => {
        handled.push(event.id);
        if (event.offset === 1) throw new Error("profile store down");
      },
      () => log.some((entry) => entry.startsWith("nack")),
    );
    expect(handled).toEqual(["p0-o0", "p0-o1"]);
    expect(log.filter((entry) => entry !== "poll")).toEqual(["ack p0-o0", "nack p0-o1", "leave"]);
    expect(errors.map((context) => [context.operation, context.event?.id])).toEqual([["handler", "p0-o1"]]);
  });

  it("stops handling a batch whose partition moved away (delivery-not-held), and goes on", async () => {
    // Given an ack timeout so short that every event is acked on its own, and a bus refusing the first ack
    const events = [0, 1, 2].map((offset) => delivered(0, offset));
    const { calls, log, refusedAcks } = createFakeCalls(
      [
        { events, partitions: [0] },
        { events: [delivered(1, 0)], partitions: [1] },
      ],
      {
        ackTimeoutMs: 0,
      },
    );
    refusedAcks.add("p0-o0");
    const handled: string[] = [];
    const errors: string[] = [];
    await runUntil(
      calls,
      { onError: (error, context) => errors.push(`${context.operation} ${(error as TributaryError).code}`) },
      async (event) => {
        handled.push(event.id);
      },
      () => handled.includes("p1-o0"),
    );
    // Then the rest of the batch was dropped, the error reported, and the next poll's events handled
    expect(handled).toEqual(["p0-o0", "p1-o0"]);
    expect(errors).toEqual(["ack delivery-not-held"]);
    expect(log).toContain("ack p1-o0");
  });

  it("rides out a retriable poll failure", async () => {
    const { calls } = createFakeCalls([
      new TributaryError("store-unavailable"),
      { events: [delivered(0, 0)], partitions: [0] },
    ]);
    const handled: string[] = [];
    const errors: string[] = [];
    const consumer = await runUntil(
      calls,
      { onError: (error, context) => errors.push(`${context.operation} ${(error as TributaryError).code}`) },
      async (event) => {
        handled.push(event.id);
      },
      () => handled.length === 1,
    );
    expect(handled).toEqual(["p0-o0"]);
    expect(errors).toEqual(["poll store-unavailable"]);
    await expect(consumer.stopped).resolves.toBeUndefined();
  });
});
