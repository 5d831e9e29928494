import type { SubscriptionInfo } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import { desiredOwner, expirePartition, liveConsumers, rebalanceFor } from "./leases.js";
import { emptyPartition } from "./subscription-service.js";

const subscription = {
  maxAttempts: 5,
  onFailure: "dead-letter",
  backoff: { initialMs: 0, maxMs: 0 },
  ackTimeoutMs: 1000,
} as SubscriptionInfo;

describe("leases", () => {
  it("counts only unexpired consumers as live, sorted", () => {
    const consumers = [
      { id: "b", expiresAt: 200 },
      { id: "a", expiresAt: 200 },
      { id: "c", expiresAt: 100 },
    ];
    expect(liveConsumers(consumers, 100)).toEqual(["a", "b"]);
  });

  it("shares partitions evenly by index", () => {
    const live = ["a", "b", "c"];
    expect([0, 1, 2, 3, 4, 5, 6].map((p) => desiredOwner(p, live))).toEqual([
      "a",
      "b",
      "c",
      "a",
      "b",
      "c",
      "a",
    ]);
    expect(desiredOwner(0, [])).toBeUndefined();
  });

  it("takes a free partition of its share and gives up one that is another's once its batch is done", () => {
    const free = emptyPartition(1, 0);
    expect(rebalanceFor(free, "b", ["a", "b"], 500)).toMatchObject({ owner: "b", leaseExpiresAt: 500 });
    expect(rebalanceFor(free, "a", ["a", "b"], 500)).toBe(free);
    const busy = {
      ...emptyPartition(1, 0),
      owner: "a",
      pending: [{ offset: 0, id: "e0", failures: 0, outstanding: true }],
    };
    expect(rebalanceFor(busy, "a", ["a", "b"], 500).owner).toBe("a");
    const idle = { ...busy, pending: [] };
    expect(rebalanceFor(idle, "a", ["a", "b"], 500).owner).toBeNull();
  });

  it("fails what a silent owner had outstanding and frees its partition", () => {
    const partition = {
      ...emptyPartition(0, 0),
      cursor: 2,
      owner: "gone",
      ackDeadline: 10_000,
      pending: [
        { offset: 0, id: "e0", failures: 0, outstanding: true },
        { offset: 1, id: "e1", failures: 0, outstanding: true },
      ],
    };
    const { partition: after } = expirePartition(subscription, partition, new Set(["other"]), 50);
    expect(after.owner).toBeNull();
    expect(after.pending.map((entry) => [entry.failures, entry.outstanding])).toEqual([
      [1, false],
      [1, false],
    ]);
    expect(after.lastError?.message).toMatch(/lease of consumer gone expired/);
  });

  it("fails outstanding deliveries past the ack deadline even when the owner is live", () => {
    const partition = {
      ...emptyPartition(0, 0),
      cursor: 1,
      owner: "a",
      ackDeadline: 100,
      pending: [{ offset: 0, id: "e0", failures: 4, outstanding: true }],
    };
    const { partition: after, deadLetters } = expirePartition(subscription, partition, new Set(["a"]), 100);
    expect(after.owner).toBe("a");
    expect(deadLetters).toMatchObject([{ eventId: "e0", attempts: 5 }]);
    expect(after.checkpoint).toBe(1);
    expect(expirePartition(subscription, partition, new Set(["a"]), 99).partition).toBe(partition);
  });
});
