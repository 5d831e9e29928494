import type { StoredEvent } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import type { EventStore } from "../../store/event-store.js";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  expectRejection,
  organizationEvent,
  range,
  userCreated,
  waitForClockTick,
} from "./fixtures.js";

/** Every event of the topic, per partition in offset order. */
async function readAll(store: EventStore, topic: string, partitions: number): Promise<StoredEvent[][]> {
  return Promise.all(range(partitions).map((partition) => store.readPartition(topic, partition, 0, 10_000)));
}

/** What `offsetsAt` must answer, worked out from the events themselves. */
function expectedOffsets(events: StoredEvent[][], reached: (event: StoredEvent) => boolean): number[] {
  return events.map((partition) => partition.find(reached)?.offset ?? partition.length);
}

/**
 * Appends `groups` groups of events of users `user-0 … user-(keys - 1)` to `users`, waiting for the
 * clock to move between groups, so that events have distinct commit times group by group. Event
 * ids start with `idPrefix`.
 */
async function appendTimedGroups(
  store: EventStore,
  groups: number,
  keys: number,
  idPrefix = "evt",
): Promise<void> {
  for (const group of range(groups)) {
    const events = range(keys).map((key) =>
      userCreated(`user-${key}`, { id: `${idPrefix}-${group}-${key}` }),
    );
    expectCommitted(await appendCommand(store, "users", events));
    await waitForClockTick();
  }
}

/** `offsetsAt`: where a subscription starting at a time or store position begins. */
export function describeOffsetsAtConformance(context: ConformanceContext): void {
  describe("offsets at a time or position", () => {
    it("by time: each partition's first event committed at or after it, else its head", async () => {
      // Given users with 4 partitions, some of them empty, and events committed in 6 groups
      const store = context.store();
      await store.putTopic("users", { partitions: 4 });
      await appendTimedGroups(store, 6, 2);
      const events = await readAll(store, "users", 4);
      const times = [...new Set(events.flat().map((event) => event.time))].sort();
      expect(times.length).toBeGreaterThanOrEqual(6);

      // When offsets are asked at every commit time, a millisecond after each, and around them all
      for (const time of times) {
        const exact = new Date(time);
        const later = new Date(exact.getTime() + 1);
        // Then each answer is the first event at or after that time, per partition
        expect(await store.offsetsAt("users", { time: exact })).toEqual(
          expectedOffsets(events, (event) => event.time >= exact.toISOString()),
        );
        expect(await store.offsetsAt("users", { time: later })).toEqual(
          expectedOffsets(events, (event) => event.time >= later.toISOString()),
        );
      }
      const heads = events.map((partition) => partition.length);
      expect(await store.offsetsAt("users", { time: new Date(0) })).toEqual([0, 0, 0, 0]);
      expect(await store.offsetsAt("users", { time: new Date(Date.now() + 3_600_000) })).toEqual(heads);
    });

    it("by position: each partition's first event at or after it, else its head", async () => {
      // Given users with 3 partitions, organizations events in between, and events in 4 groups
      const store = context.store();
      await store.putTopic("users", { partitions: 3 });
      await appendTimedGroups(store, 2, 5);
      await appendCommand(store, "organizations", [organizationEvent("OrganizationCreated", "org-1")]);
      await appendTimedGroups(store, 2, 5, "later");
      const events = await readAll(store, "users", 3);
      const positions = events.flat().map((event) => event.position);
      const last = Math.max(...positions);

      // When offsets are asked at every position from 0 to past the last one
      for (const position of range(last + 2)) {
        // Then each answer is the first event at or after that position, per partition
        expect(await store.offsetsAt("users", { position })).toEqual(
          expectedOffsets(events, (event) => event.position >= position),
        );
      }
      expect(await store.offsetsAt("users", { position: 0 })).toEqual([0, 0, 0]);
      expect(await store.offsetsAt("users", { position: last + 1000 })).toEqual(
        events.map((partition) => partition.length),
      );
    });

    it("finds the first offset exactly in a long partition", async () => {
      // Given users with 1 partition and 60 events in 12 groups of distinct commit times
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      await appendTimedGroups(store, 12, 5);
      const [events] = await readAll(store, "users", 1);

      // When offsets are asked at the time and position of every event
      for (const event of events!) {
        const byTime = await store.offsetsAt("users", { time: new Date(event.time) });
        const byPosition = await store.offsetsAt("users", { position: event.position });
        // Then the time answers the first event of its group, the position answers the event itself
        expect(byTime).toEqual(expectedOffsets([events!], (candidate) => candidate.time >= event.time));
        expect(byPosition).toEqual([event.offset]);
      }
    });

    it("answers the heads of an empty topic and rejects topic-not-found for an unknown one", async () => {
      // Given an empty users topic with 2 partitions
      const store = context.store();
      await store.putTopic("users", { partitions: 2 });

      // When offsets are asked of it and of an unknown topic
      const empty = await store.offsetsAt("users", { time: new Date(0) });

      // Then the empty topic answers its heads, the unknown one is not found
      expect(empty).toEqual([0, 0]);
      await expectRejection(store.offsetsAt("orders", { time: new Date() }), "topic-not-found");
      await expectRejection(store.offsetsAt("orders", { position: 0 }), "topic-not-found");
    });
  });
}
