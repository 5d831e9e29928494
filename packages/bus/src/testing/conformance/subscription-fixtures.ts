import type { SubscriptionInfo } from "@tributary/protocol";
import type { EventStore } from "../../store/event-store.js";
import type { PartitionState, SubscriptionState } from "../../subscriptions/subscription-store.js";

/** A subscription of the `users` topic of the example domain with every field set. */
export function usersSubscription(name: string, overrides: Partial<SubscriptionInfo> = {}): SubscriptionInfo {
  return {
    name,
    topic: "users",
    types: ["UserCreated", "UserRenamed"],
    start: "earliest",
    delivery: { mode: "pull" },
    maxAttempts: 5,
    backoff: { initialMs: 500, maxMs: 60_000 },
    onFailure: "dead-letter",
    ackTimeoutMs: 30_000,
    leaseMs: 10_000,
    createdAt: "2025-03-04T05:06:07.089Z",
    ...overrides,
  };
}

/** The state of a partition nobody read yet, starting at `checkpoint`. */
export function freshPartition(partition: number, checkpoint = 0): PartitionState {
  return {
    partition,
    checkpoint,
    cursor: checkpoint,
    pending: [],
    owner: null,
    leaseExpiresAt: 0,
    ackDeadline: 0,
    retryAt: 0,
    lastError: null,
  };
}

/** Fresh states of partitions `0 … count - 1`. */
export function freshPartitions(count: number): PartitionState[] {
  return Array.from({ length: count }, (_, partition) => freshPartition(partition));
}

/**
 * A partition in the middle of delivery, with every field set and numbers past 2^31 (offsets of a
 * long-lived topic, epoch milliseconds): pending entries with and without the optional fields.
 */
export function busyPartition(partition: number): PartitionState {
  return {
    partition,
    checkpoint: 5_000_000_000,
    cursor: 5_000_000_004,
    pending: [
      { offset: 4_999_999_990, id: "evt-redriven", failures: 0, outstanding: false, redriven: true },
      {
        offset: 5_000_000_000,
        id: "evt-a",
        failures: 2,
        outstanding: true,
        lastError: "HTTP 500 — ünïcode ✓",
      },
      { offset: 5_000_000_001, id: "evt-b", failures: 0, outstanding: true },
      { offset: 5_000_000_003, id: "evt-c", failures: 1, outstanding: false, lastError: "" },
    ],
    owner: "orders-7f2c:1234",
    leaseExpiresAt: 1_900_000_000_123,
    ackDeadline: 1_900_000_030_456,
    retryAt: 1_900_000_000_789,
    lastError: { message: "timeout after 30000 ms", eventId: "evt-a", at: 1_899_999_999_999 },
  };
}

/** Reads a subscription's state through a transaction that writes nothing. */
export function readState(store: EventStore, name: string): Promise<SubscriptionState> {
  return store.subscriptions.transact(name, (state) => ({ result: state }));
}

/** Resolves after `milliseconds`. */
export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
