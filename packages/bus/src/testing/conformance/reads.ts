import { describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  range,
  userCreated,
  userRenamed,
  waitForClockTick,
} from "./fixtures.js";

/** readPartition, readKey, getEvent and the round trip of data and metadata. */
export function describeReadConformance(context: ConformanceContext): void {
  describe("reads", () => {
    it("readPartition reads from an offset in offset order, at most the limit", async () => {
      // Given 10 events in the single partition of users
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      const committed = expectCommitted(
        await appendCommand(
          store,
          "users",
          range(10).map((index) => userCreated(`user-${index}`)),
        ),
      );

      // When the partition is read from offset 3, 4 events at most, and from its head
      const page = await store.readPartition("users", 0, 3, 4);
      const atHead = await store.readPartition("users", 0, 10, 4);

      // Then offsets 3 to 6 come back as committed, and nothing past the head
      expect(page.map((event) => event.offset)).toEqual([3, 4, 5, 6]);
      expect(page.map((event) => event.id)).toEqual(committed.slice(3, 7).map((event) => event.id));
      expect(page[0]).toMatchObject({ ...committed[3], type: "UserCreated", key: "user-3" });
      expect(atHead).toEqual([]);
    });

    it("readKey reads the entity stream in version order from a version, at most the limit", async () => {
      // Given user-1 created and renamed 4 times, between events of user-2
      const store = context.store();
      expectCommitted(await appendCommand(store, "users", [userCreated("user-1"), userCreated("user-2")]));
      for (const index of range(4)) {
        expectCommitted(
          await appendCommand(store, "users", [
            userRenamed("user-1", `Ada ${index}`),
            userRenamed("user-2", "x"),
          ]),
        );
      }

      // When user-1's stream is read whole, and from version 2 with a limit of 2
      const whole = (await store.readKey("users", "user-1", { fromVersion: 1, limit: 100 })).events;
      const page = (await store.readKey("users", "user-1", { fromVersion: 2, limit: 2 })).events;

      // Then the whole stream is versions 1 to 5 of user-1 only, and the page versions 2 and 3
      expect(whole.map((event) => [event.key, event.version])).toEqual(
        range(5).map((index) => ["user-1", index + 1]),
      );
      expect(whole[4]?.data).toEqual({ userId: "user-1", name: "Ada 3" });
      expect(page.map((event) => event.version)).toEqual([2, 3]);
      expect((await store.readKey("users", "user-9", { fromVersion: 1, limit: 100 })).events).toEqual([]);
    });

    it("readKey with asOf gives the history up to that time", async () => {
      // Given user-1 created and renamed, and renamed again later
      const store = context.store();
      const early = expectCommitted(
        await appendCommand(store, "users", [userCreated("user-1"), userRenamed("user-1", "Ada")]),
      );
      await waitForClockTick();
      const [late] = expectCommitted(await appendCommand(store, "users", [userRenamed("user-1", "Grace")]));
      expect(Date.parse(late!.time)).toBeGreaterThan(Date.parse(early[1]!.time));

      // When the stream is read as of the first commit's time, and as of just before it
      const asOfEarly = (
        await store.readKey("users", "user-1", {
          fromVersion: 1,
          limit: 100,
          asOf: new Date(early[1]!.time),
        })
      ).events;
      const beforeAll = (
        await store.readKey("users", "user-1", {
          fromVersion: 1,
          limit: 100,
          asOf: new Date(Date.parse(early[0]!.time) - 1),
        })
      ).events;

      // Then the history holds versions 1 and 2 (asOf is inclusive), and nothing before them
      expect(asOfEarly.map((event) => event.version)).toEqual([1, 2]);
      expect(beforeAll).toEqual([]);
    });

    it("getEvent finds a stored event by id and gives undefined for an unknown id", async () => {
      // Given user-1 created
      const store = context.store();
      const event = userCreated("user-1", {
        metadata: { correlationId: "signup-1", source: "users-service" },
      });
      const [coordinates] = expectCommitted(await appendCommand(store, "users", [event]));

      // When it is looked up, and an unknown id too
      const found = await store.getEvent(event.id);
      const missing = await store.getEvent("no-such-event");

      // Then the stored event has its coordinates and content
      expect(found).toEqual({
        ...coordinates,
        type: "UserCreated",
        key: "user-1",
        data: { userId: "user-1", name: "Name of user-1" },
        metadata: { correlationId: "signup-1", source: "users-service" },
      });
      expect(missing).toBeUndefined();
    });

    it("keeps data and metadata exactly: nested values, unicode, numbers, null", async () => {
      // Given events with awkward payloads
      const store = context.store();
      const payloads: unknown[] = [
        {
          name: "Zoë Ångström 🚀 名前",
          quote: 'she said "hi"\\ \n\t',
          nested: { list: [1, -2.5, 1e-7, 12345678901234, true, false, null, { deep: [[]] }], empty: {} },
          max: Number.MAX_SAFE_INTEGER,
          min: -Number.MAX_SAFE_INTEGER,
        },
        null,
        "just a string",
        [1, "two", { three: 3 }],
        0,
        false,
      ];
      const metadata = {
        correlationId: "corr-ü",
        causationId: "cause-1",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        source: "users-service",
        schemaVersion: 2,
        tenant: { id: "org-1", tags: ["a", "b"] },
      };
      const events = payloads.map((data) =>
        prepareEvent("users", { type: "UserPayload", key: "user-1", data, metadata }),
      );
      events.push(prepareEvent("users", { type: "UserPayload", key: "user-1" }));
      expectCommitted(await appendCommand(store, "users", events));

      // When the stream is read back
      const stored = (await store.readKey("users", "user-1", { fromVersion: 1, limit: 100 })).events;

      // Then each payload and metadata is what was sent; a missing data is null, missing metadata {}
      expect(stored.map((event) => event.data)).toEqual([...payloads, null]);
      for (const event of stored.slice(0, payloads.length)) expect(event.metadata).toEqual(metadata);
      expect(stored[payloads.length]?.metadata).toEqual({});
      expect(await store.getEvent(events[0]!.id)).toMatchObject({ data: payloads[0], metadata });
    });
  });
}
