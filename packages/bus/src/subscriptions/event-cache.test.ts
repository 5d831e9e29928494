import type { StoredEvent } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import { EventCache } from "./event-cache.js";

/** A partition of `count` events and a loader over it that counts its calls. */
function partitionOf(count: number) {
  const events: StoredEvent[] = Array.from({ length: count }, (_, offset) => ({
    id: `e${offset}`,
    topic: "users",
    partition: 0,
    offset,
    position: offset + 1,
    version: null,
    time: "2026-01-01T00:00:00.000Z",
    type: "UserCreated",
    key: null,
    data: { offset },
    metadata: {},
  }));
  const calls: [number, number][] = [];
  return {
    events,
    calls,
    load: async (from: number, limit: number) => {
      calls.push([from, limit]);
      return events.slice(from, from + limit).map((event) => ({
        id: event.id,
        partition: event.partition,
        offset: event.offset,
        type: event.type,
        openJson: Buffer.from(JSON.stringify(event).slice(0, -1)),
      }));
    },
  };
}

const offsets = (cached: { event: StoredEvent }[]) => cached.map((entry) => entry.event.offset);

describe("event cache", () => {
  it("serves many readers of the same offsets with one load, and serializes each event once", async () => {
    const partition = partitionOf(10);
    const cache = new EventCache();
    const first = await cache.read("users", 0, 0, 5, partition.load);
    const second = await cache.read("users", 0, 0, 5, partition.load);
    expect(offsets(first)).toEqual([0, 1, 2, 3, 4]);
    expect(second[0]).toBe(first[0]);
    expect(first[0]?.json).toBe(JSON.stringify(partition.events[0]));
    expect(partition.calls).toHaveLength(1);
  });

  it("keeps a delivery row's JSON as loaded, and parses it only when the event object is asked for", async () => {
    const partition = partitionOf(3);
    const rows = partition.events.map(({ id, partition: number, offset, type }, index) => ({
      id,
      partition: number,
      offset,
      type,
      openJson: Buffer.from(JSON.stringify(partition.events[index]).slice(0, -1)),
    }));
    const cache = new EventCache();
    const [first] = await cache.read("users", 0, 0, 3, async (from, limit) => rows.slice(from, from + limit));
    expect(first?.json).toBe(JSON.stringify(partition.events[0]));
    expect(first?.row).toBe(rows[0]);
    expect(first?.event).toEqual(partition.events[0]);
    expect(first?.event).toBe(first?.event);
  });

  it("extends the window at its end for readers at the tail, once for concurrent readers", async () => {
    const partition = partitionOf(20);
    const cache = new EventCache();
    await cache.read("users", 0, 0, 5, partition.load);
    const [a, b] = await Promise.all([
      cache.read("users", 0, 5, 5, partition.load),
      cache.read("users", 0, 3, 10, partition.load),
    ]);
    expect(offsets(a)).toEqual([5, 6, 7, 8, 9]);
    expect(offsets(b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(partition.calls).toHaveLength(2);
  });

  it("sees events committed after the window was filled", async () => {
    const partition = partitionOf(3);
    const cache = new EventCache();
    expect(offsets(await cache.read("users", 0, 0, 10, partition.load))).toEqual([0, 1, 2]);
    partition.events.push({ ...(partition.events[2] as StoredEvent), id: "e3", offset: 3 });
    expect(offsets(await cache.read("users", 0, 2, 10, partition.load))).toEqual([2, 3]);
  });

  it("reads before the window from the store without evicting the tail, and bounds its size", async () => {
    const partition = partitionOf(100);
    const cache = new EventCache({ eventsPerPartition: 10 });
    await cache.read("users", 0, 50, 20, partition.load);
    expect(offsets(await cache.read("users", 0, 0, 3, partition.load))).toEqual([0, 1, 2]);
    const calls = partition.calls.length;
    expect(offsets(await cache.read("users", 0, 65, 5, partition.load))).toEqual([65, 66, 67, 68, 69]);
    expect(partition.calls.length).toBe(calls);
  });

  it("forgets the least recently read partitions first", async () => {
    const partition = partitionOf(5);
    const cache = new EventCache({ partitions: 2 });
    await cache.read("a", 0, 0, 5, partition.load);
    await cache.read("b", 0, 0, 5, partition.load);
    await cache.read("a", 0, 0, 5, partition.load);
    await cache.read("c", 0, 0, 5, partition.load);
    const calls = partition.calls.length;
    await cache.read("a", 0, 0, 5, partition.load);
    expect(partition.calls.length).toBe(calls);
    await cache.read("b", 0, 0, 5, partition.load);
    expect(partition.calls.length).toBe(calls + 1);
  });
});
