import type { DeliveredEvent } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import { groupByPartition } from "./partition-batches.js";

function delivered(partition: number, offset: number): DeliveredEvent {
  return {
    id: `event-${partition}-${offset}`,
    topic: "users",
    partition,
    offset,
    position: offset,
    type: "UserRenamed",
    key: `user-${partition}`,
    version: offset + 1,
    data: {},
    metadata: {},
    time: "2025-01-01T00:00:00.000Z",
    attempt: 1,
  } as unknown as DeliveredEvent;
}

describe("groupByPartition", () => {
  it("keeps each partition's events in the order they came", () => {
    // Given a poll answer interleaving two partitions
    const events = [delivered(2, 5), delivered(0, 7), delivered(2, 6), delivered(0, 8), delivered(2, 7)];
    // When it is grouped
    const batches = groupByPartition(events);
    // Then each partition has its events in offset order, partitions in order of first appearance
    expect([...batches.keys()]).toEqual([2, 0]);
    expect(batches.get(2)?.map((event) => event.offset)).toEqual([5, 6, 7]);
    expect(batches.get(0)?.map((event) => event.offset)).toEqual([7, 8]);
  });

  it("gives no batch for an empty poll", () => {
    expect(groupByPartition([]).size).toBe(0);
  });
});
