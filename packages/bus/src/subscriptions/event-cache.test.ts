import type { StoredEvent } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import { type CachedEvent, EventCache } from "./event-cache.js";

/** A partition of `count` events (with `data` of `dataBytes` each) and a loader over it that counts its calls. */
function partitionOf(count: number, dataBytes = 0) {
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
    data: dataBytes === 0 ? { offset } : "x".repeat(dataBytes),
    metadata: {},
  }));
  const calls: [number, number][] = [];
  return {
    events,
    calls,
    /** Like the stores: at most `limit`, within `maxBytes` of JSON, at least one. */
    load: async (from: number, limit: number, maxBytes = Number.POSITIVE_INFINITY) => {
      calls.push([from, limit]);
      const rows = [];
      let bytes = 0;
      for (const event of events.slice(from, from + limit)) {
        const openJson = Buffer.from(JSON.stringify(event).slice(0, -1));
        bytes += openJson.length;
        if (rows.length > 0 && bytes > maxBytes) break;
        rows.push({
          id: event.id,
          partition: event.partition,
          offset: event.offset,
          type: event.type,
          openJson,
        });
      }
      return rows;
    },
  };
}

const unbounded = Number.POSITIVE_INFINITY;

/** The JSON bytes of one event of `partitionOf(n)` (ids and offsets of one digit). */
const eventBytes = JSON.stringify(partitionOf(1).events[0]).length - 1;

/** The offsets of cached events, read from their rows: parsing them would change what the cache counts. */
const offsets = (cached: CachedEvent[]) => cached.map((entry) => entry.row.offset);

describe("event cache", () => {
  it("serves many readers of the same offsets with one load, and serializes each event once", async () => {
    const partition = partitionOf(10);
    const cache = new EventCache();
    const first = await cache.read("users", 0, 0, 5, unbounded, partition.load);
    const second = await cache.read("users", 0, 0, 5, unbounded, partition.load);
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
    const [first] = await cache.read("users", 0, 0, 3, unbounded, async (from, limit) =>
      rows.slice(from, from + limit),
    );
    expect(first?.json).toBe(JSON.stringify(partition.events[0]));
    expect(first?.row).toBe(rows[0]);
    expect(first?.event).toEqual(partition.events[0]);
    expect(first?.event).toBe(first?.event);
  });

  it("extends the window at its end for readers at the tail, once for concurrent readers", async () => {
    const partition = partitionOf(20);
    const cache = new EventCache();
    await cache.read("users", 0, 0, 5, unbounded, partition.load);
    const [a, b] = await Promise.all([
      cache.read("users", 0, 5, 5, unbounded, partition.load),
      cache.read("users", 0, 3, 10, unbounded, partition.load),
    ]);
    expect(offsets(a)).toEqual([5, 6, 7, 8, 9]);
    expect(offsets(b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(partition.calls).toHaveLength(2);
  });

  it("sees events committed after the window was filled", async () => {
    const partition = partitionOf(3);
    const cache = new EventCache();
    expect(offsets(await cache.read("users", 0, 0, 10, unbounded, partition.load))).toEqual([0, 1, 2]);
    partition.events.push({ ...(partition.events[2] as StoredEvent), id: "e3", offset: 3 });
    expect(offsets(await cache.read("users", 0, 2, 10, unbounded, partition.load))).toEqual([2, 3]);
  });

  it("reads before the window from the store without evicting the tail, and bounds its size", async () => {
    const partition = partitionOf(100);
    const cache = new EventCache({ maxBytes: 10 * (eventBytes + 4 + 256) + 256 });
    await cache.read("users", 0, 50, 20, unbounded, partition.load);
    expect(offsets(await cache.read("users", 0, 0, 3, unbounded, partition.load))).toEqual([0, 1, 2]);
    const calls = partition.calls.length;
    expect(offsets(await cache.read("users", 0, 65, 5, unbounded, partition.load))).toEqual([
      65, 66, 67, 68, 69,
    ]);
    expect(partition.calls.length).toBe(calls);
  });

  it("forgets the least recently read partitions first", async () => {
    const partition = partitionOf(5);
    const cache = new EventCache({ maxBytes: 2 * (5 * (eventBytes + 256) + 256) });
    await cache.read("a", 0, 0, 5, unbounded, partition.load);
    await cache.read("b", 0, 0, 5, unbounded, partition.load);
    await cache.read("a", 0, 0, 5, unbounded, partition.load);
    await cache.read("c", 0, 0, 5, unbounded, partition.load);
    const calls = partition.calls.length;
    await cache.read("a", 0, 0, 5, unbounded, partition.load);
    expect(partition.calls.length).toBe(calls);
    await cache.read("b", 0, 0, 5, unbounded, partition.load);
    expect(partition.calls.length).toBe(calls + 1);
  });

  it("keeps no more bytes than its budget, forgetting the oldest events of the coldest partitions first", async () => {
    // Given a budget of about three events of 10 KiB, and two partitions of such events
    const partition = partitionOf(10, 10 * 1024);
    const size = (partition.events[0] ? JSON.stringify(partition.events[0]).length - 1 : 0) + 256;
    const cache = new EventCache({ maxBytes: 3 * size + 2 * 256 });

    // When partition a is read, then b (more recently)
    await cache.read("a", 0, 0, 2, unbounded, partition.load);
    await cache.read("b", 0, 0, 2, unbounded, partition.load);

    // Then a lost its oldest event to make room, b kept both; the counts say so
    expect(cache.events).toBe(3);
    expect(cache.bytes).toBeLessThanOrEqual(3 * size + 2 * 256);
    const calls = partition.calls.length;
    expect(offsets(await cache.read("b", 0, 0, 2, unbounded, partition.load))).toEqual([0, 1]);
    expect(partition.calls.length).toBe(calls);
    expect(offsets(await cache.read("a", 0, 1, 1, unbounded, partition.load))).toEqual([1]);
    expect(partition.calls.length).toBe(calls);
    expect(offsets(await cache.read("a", 0, 0, 1, unbounded, partition.load))).toEqual([0]);
    expect(partition.calls.length).toBe(calls + 1);
  });

  it("delivers an event larger than its whole budget without keeping it", async () => {
    const partition = partitionOf(2, 64 * 1024);
    const cache = new EventCache({ maxBytes: 16 * 1024 });

    expect(offsets(await cache.read("users", 0, 0, 1, unbounded, partition.load))).toEqual([0]);
    expect(cache.events).toBe(0);
    expect(cache.bytes).toBeLessThan(1024);
    expect(offsets(await cache.read("users", 0, 0, 2, unbounded, partition.load))).toEqual([0, 1]);
    expect(cache.events).toBe(0);
    expect(partition.calls).toHaveLength(2);
  });

  it("returns no more JSON than a read's byte budget, but always the first event", async () => {
    const partition = partitionOf(10, 1000);
    const size = JSON.stringify(partition.events[0]).length - 1;
    const cache = new EventCache();

    // From the store, then from the window, then extending it
    expect(offsets(await cache.read("users", 0, 0, 10, 2 * size, partition.load))).toEqual([0, 1]);
    expect(offsets(await cache.read("users", 0, 0, 10, 3 * size, partition.load))).toEqual([0, 1, 2]);
    expect(offsets(await cache.read("users", 0, 1, 10, 1, partition.load))).toEqual([1]);
    expect(offsets(await cache.read("users", 0, 3, 10, 1, partition.load))).toEqual([3]);
  });

  it("counts an event's parsed object once it is asked for, within the same budget", async () => {
    const partition = partitionOf(2, 1000);
    const size = JSON.stringify(partition.events[0]).length - 1;
    const cache = new EventCache({ maxBytes: 2 * (size + 256) + 256 });
    const [first, second] = await cache.read("users", 0, 0, 2, unbounded, partition.load);
    expect(cache.events).toBe(2);
    const before = cache.bytes;

    // When the second event is parsed, it takes about its JSON again: the oldest event goes
    expect(second?.event.offset).toBe(1);
    expect(second?.bytes).toBe(2 * size + 256);
    expect(cache.events).toBe(1);
    expect(cache.bytes).toBe(before + size - (size + 256));

    // An event the cache let go of is no longer counted when parsed
    expect(first?.event.offset).toBe(0);
    expect(cache.bytes).toBe(before - 256);
  });

  it("starts a window at the first event there is, when those before the offset read are gone", async () => {
    // Given a partition whose events before offset 5 were removed by retention
    const partition = partitionOf(10);
    const load = async (from: number, limit: number) => partition.load(Math.max(from, 5), limit);
    const cache = new EventCache();

    // When it is read from 0, then from 1, then on from where the first read ended
    const first = await cache.read("users", 0, 0, 2, unbounded, load);
    const again = await cache.read("users", 0, 1, 1, unbounded, load);
    const calls = partition.calls.length;
    const next = await cache.read("users", 0, 6, 1, unbounded, load);

    // Then each read starts at the first event at or after its offset, the last from memory
    expect(offsets(first)).toEqual([5, 6]);
    expect(offsets(again)).toEqual([5]);
    expect(offsets(next)).toEqual([6]);
    expect(partition.calls.length).toBe(calls);
  });
});
