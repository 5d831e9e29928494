import type { SubscriptionInfo } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import {
  acknowledge,
  backoffDelay,
  checkpointOf,
  failDeliveries,
  releaseOutstanding,
} from "./partition-state.js";
import { emptyPartition } from "./subscription-service.js";
import type { PartitionState } from "./subscription-store.js";

const subscription: SubscriptionInfo = {
  name: "profiles",
  topic: "users",
  types: null,
  start: "earliest",
  delivery: { mode: "pull" },
  maxAttempts: 3,
  backoff: { initialMs: 100, maxMs: 1000 },
  onFailure: "dead-letter",
  ackTimeoutMs: 30_000,
  leaseMs: 10_000,
  createdAt: "2026-01-01T00:00:00.000Z",
};

/** A partition with offsets 10, 11, 12 delivered and outstanding. */
function inFlight(): PartitionState {
  return {
    ...emptyPartition(0, 10),
    cursor: 13,
    owner: "c1",
    ackDeadline: 5000,
    pending: [10, 11, 12].map((offset) => ({ offset, id: `e${offset}`, failures: 0, outstanding: true })),
  };
}

describe("partition delivery state", () => {
  it("moves the checkpoint only past a done prefix, and never back", () => {
    const partition = inFlight();
    expect(checkpointOf(partition)).toBe(10);
    const later = acknowledge(partition, new Set(["e11", "e12"]));
    expect(later.checkpoint).toBe(10);
    expect(later.ackDeadline).toBe(5000);
    const all = acknowledge(later, new Set(["e10"]));
    expect(all.checkpoint).toBe(13);
    expect(all.ackDeadline).toBe(0);
    expect(checkpointOf({ ...all, cursor: 11 })).toBe(13);
  });

  it("ignores redriven deliveries below the checkpoint", () => {
    const partition = {
      ...emptyPartition(0, 20),
      cursor: 20,
      pending: [{ offset: 3, id: "e3", failures: 0, outstanding: false, redriven: true }],
    };
    expect(checkpointOf(partition)).toBe(20);
  });

  it("on a nack, counts the failure, returns later deliveries uncounted, and waits the backoff", () => {
    const outcome = failDeliveries(subscription, inFlight(), new Set(["e11"]), "boom", 1000);
    expect(outcome.deadLetters).toEqual([]);
    expect(outcome.partition.pending).toEqual([
      { offset: 10, id: "e10", failures: 0, outstanding: true },
      { offset: 11, id: "e11", failures: 1, outstanding: false, lastError: "boom" },
      { offset: 12, id: "e12", failures: 0, outstanding: false },
    ]);
    expect(outcome.partition.retryAt).toBeGreaterThanOrEqual(1050);
    expect(outcome.partition.retryAt).toBeLessThanOrEqual(1100);
    expect(outcome.partition.lastError).toEqual({ message: "boom", eventId: "e11", at: 1000 });
    expect(outcome.partition.ackDeadline).toBe(5000);
  });

  it("dead-letters a delivery at maxAttempts and lets the partition move past it", () => {
    let partition = inFlight();
    partition = acknowledge(partition, new Set(["e10", "e12"]));
    partition = { ...partition, pending: partition.pending.map((entry) => ({ ...entry, failures: 2 })) };
    const outcome = failDeliveries(subscription, partition, new Set(["e11"]), "boom", 2000);
    expect(outcome.deadLetters).toEqual([
      { eventId: "e11", partition: 0, offset: 11, attempts: 3, error: "boom", deadAt: 2000 },
    ]);
    expect(outcome.partition.pending).toEqual([]);
    expect(outcome.partition.checkpoint).toBe(13);
    expect(outcome.partition.retryAt).toBe(0);
  });

  it("blocks instead when the subscription says so", () => {
    const blocking = { ...subscription, onFailure: "block" as const };
    const partition = { ...inFlight(), pending: [{ offset: 10, id: "e10", failures: 7, outstanding: true }] };
    const outcome = failDeliveries(blocking, partition, new Set(["e10"]), "again", 0);
    expect(outcome.deadLetters).toEqual([]);
    expect(outcome.partition.pending[0]?.failures).toBe(8);
    expect(outcome.partition.checkpoint).toBe(10);
  });

  it("honours an explicit retryAfterMs", () => {
    const outcome = failDeliveries(subscription, inFlight(), new Set(["e10"]), "later", 1000, 60_000);
    expect(outcome.partition.retryAt).toBe(61_000);
  });

  it("releases outstanding deliveries without counting a failure", () => {
    const released = releaseOutstanding(inFlight());
    expect(released.pending.every((entry) => !entry.outstanding && entry.failures === 0)).toBe(true);
    expect(released.ackDeadline).toBe(0);
  });

  it("grows the backoff exponentially up to its cap, with jitter between half and all of it", () => {
    const backoff = { initialMs: 100, maxMs: 1000 };
    expect(backoffDelay(backoff, 1, () => 1)).toBe(100);
    expect(backoffDelay(backoff, 3, () => 1)).toBe(400);
    expect(backoffDelay(backoff, 10, () => 1)).toBe(1000);
    expect(backoffDelay(backoff, 3, () => 0)).toBe(200);
    expect(backoffDelay(backoff, 1000, () => 1)).toBe(1000);
  });
});
