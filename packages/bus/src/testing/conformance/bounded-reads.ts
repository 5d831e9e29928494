import { describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import type { EventStore } from "../../store/event-store.js";
import { appendCommand, type ConformanceContext, expectCommitted, range } from "./fixtures.js";

/**
 * Appends `count` events to the single partition of users, each with a string of `length` letters
 * as its data and no metadata: a payload of `length + 4` bytes (the quotes, and `{}`).
 */
async function appendSized(store: EventStore, count: number, length: number): Promise<void> {
  await store.putTopic("users", { partitions: 1 });
  const events = range(count).map((index) =>
    prepareEvent("users", { type: "UserNoted", key: `user-${index}`, data: "x".repeat(length) }),
  );
  expectCommitted(await appendCommand(store, "users", events));
}

/** Both partition reads, bounded by `maxBytes`, as the offsets they return. */
async function readBoth(store: EventStore, from: number, limit: number, maxBytes: number) {
  const [events, rows] = await Promise.all([
    store.readPartition("users", 0, from, limit, maxBytes),
    store.readPartitionForDelivery("users", 0, from, limit, maxBytes),
  ]);
  return { events: events.map((event) => event.offset), rows: rows.map((row) => row.offset) };
}

/** Partition reads bounded by bytes (`maxBytes`): both kinds, by the events' payload. */
export function describeBoundedReadConformance(context: ConformanceContext): void {
  describe("partition reads bounded by bytes", () => {
    it("stop before the payload passes the budget, and always return the first event", async () => {
      // Given 10 events of some 10 kB each
      const store = context.store();
      await appendSized(store, 10, 10_000);

      // When the partition is read within 25 kB, within 1 byte, from its last event, and within plenty
      const within = await readBoth(store, 0, 100, 25_000);
      const tiny = await readBoth(store, 3, 100, 1);
      const last = await readBoth(store, 9, 100, 25_000);
      const plenty = await readBoth(store, 0, 4, 1_000_000_000);

      // Then two fit, one comes whatever its size, and the count still bounds a read
      expect(within).toEqual({ events: [0, 1], rows: [0, 1] });
      expect(tiny).toEqual({ events: [3], rows: [3] });
      expect(last).toEqual({ events: [9], rows: [9] });
      expect(plenty).toEqual({ events: [0, 1, 2, 3], rows: [0, 1, 2, 3] });
      expect(await readBoth(store, 10, 100, 25_000)).toEqual({ events: [], rows: [] });
    });

    it("count every event of a long read, past the first few", async () => {
      // Given 40 events of 1,004 bytes of payload each
      const store = context.store();
      await appendSized(store, 40, 1000);

      // When the partition is read within 30,500 bytes
      const read = await readBoth(store, 0, 1000, 30_500);

      // Then 30 events fit (30,120 bytes) and the 31st does not
      expect(read).toEqual({ events: range(30), rows: range(30) });
    });
  });
}
