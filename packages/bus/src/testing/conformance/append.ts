import { type EventCoordinates, partitionForKey } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import {
  appendCommand,
  appendGroup,
  type ConformanceContext,
  expectCommitted,
  expectFailed,
  noAutoCreate,
  organizationEvent,
  range,
  userCreated,
  userEvent,
  userRenamed,
} from "./fixtures.js";

/** appendGroup: topics, coordinates, atomicity of commands, independence of a group's commands. */
export function describeAppendConformance(context: ConformanceContext): void {
  describe("appendGroup", () => {
    it("creates an unknown topic with the default partition count", async () => {
      // Given an empty store
      const store = context.store();

      // When a user is appended to the unknown users topic with auto-creation of 3 partitions
      const outcome = await appendCommand(store, "users", [userCreated("user-1")], {
        autoCreate: true,
        defaultPartitions: 3,
      });

      // Then the topic exists with 3 partitions and the event
      const [event] = expectCommitted(outcome);
      expect(event).toMatchObject({ topic: "users", partition: partitionForKey("user-1", 3), offset: 0 });
      expect(await store.getTopic("users")).toMatchObject({ name: "users", partitions: 3, events: 1 });
    });

    it("without auto-creation, fails topic-not-found for an unknown topic and still commits the others", async () => {
      // Given the organizations topic only
      const store = context.store();
      await store.putTopic("organizations", { partitions: 1 });

      // When a group appends to the unknown users topic and to organizations, auto-creation off
      const [users, organizations] = await appendGroup(
        store,
        [
          { topic: "users", events: [userCreated("user-1")] },
          { topic: "organizations", events: [organizationEvent("OrganizationCreated", "org-1")] },
        ],
        noAutoCreate,
      );

      // Then the users command fails and creates nothing; the organizations command commits
      expectFailed(users, "topic-not-found");
      expect(await store.getTopic("users")).toBeUndefined();
      expectCommitted(organizations);
      expect(await store.getTopic("organizations")).toMatchObject({ events: 1 });
    });

    it("places each event in the partition of its key, or of its id when it has no key", async () => {
      // Given the users topic with 4 partitions
      const store = context.store();
      await store.putTopic("users", { partitions: 4 });

      // When 20 users and 5 keyless events are appended
      const keyed = range(20).map((index) => userCreated(`user-${index}`));
      const keyless = range(5).map(() => userEvent("UserImportStarted", undefined));
      const events = expectCommitted(await appendCommand(store, "users", [...keyed, ...keyless]));

      // Then each event sits in partition floor(md5(key or id) * 4 / 2^128)
      for (const [index, event] of events.entries()) {
        const prepared = [...keyed, ...keyless][index]!;
        expect(event.id).toBe(prepared.id);
        expect(event.partition).toBe(partitionForKey(prepared.key ?? prepared.id, 4));
      }
    });

    it("numbers offsets contiguously per partition from 0, across commands and groups", async () => {
      // Given the users topic with 4 partitions
      const store = context.store();
      await store.putTopic("users", { partitions: 4 });

      // When 60 events of 12 users are appended by single commands, multi-event commands and groups
      const committed: EventCoordinates[] = [];
      for (const index of range(12)) {
        committed.push(
          ...expectCommitted(await appendCommand(store, "users", [userCreated(`user-${index}`)])),
        );
      }
      for (const round of range(2)) {
        const events = range(12).map((index) => userRenamed(`user-${index}`, `name ${round}`));
        committed.push(...expectCommitted(await appendCommand(store, "users", events)));
      }
      const outcomes = await appendGroup(
        store,
        range(4).map((round) => ({
          topic: "users",
          events: range(6).map((index) => userRenamed(`user-${index + (round % 2) * 6}`, `group ${round}`)),
        })),
      );
      for (const outcome of outcomes) committed.push(...expectCommitted(outcome));

      // Then in every partition the offsets are 0 … n-1, each once, as the partition reads them
      expect(committed).toHaveLength(60);
      for (const partition of range(4)) {
        const offsets = committed
          .filter((event) => event.partition === partition)
          .map((event) => event.offset)
          .sort((a, b) => a - b);
        expect(offsets).toEqual(range(offsets.length));
        const read = await store.readPartition("users", partition, 0, 1_000);
        expect(read.map((event) => event.offset)).toEqual(offsets);
      }
    });

    it("gives increasing positions in commit order", async () => {
      // Given events appended by three commands in two groups, in two topics
      const store = context.store();
      const first = expectCommitted(
        await appendCommand(store, "users", [
          userCreated("user-1"),
          userCreated("user-2"),
          userCreated("user-3"),
        ]),
      );
      const [second, third] = await appendGroup(store, [
        { topic: "organizations", events: [organizationEvent("OrganizationCreated", "org-1")] },
        { topic: "users", events: [userRenamed("user-1", "Ada"), userRenamed("user-2", "Grace")] },
      ]);

      // When their positions are taken in commit order
      const positions = [...first, ...expectCommitted(second), ...expectCommitted(third)].map(
        (event) => event.position,
      );

      // Then they strictly increase
      for (const [index, position] of positions.entries()) {
        expect(Number.isSafeInteger(position)).toBe(true);
        if (index > 0) expect(position).toBeGreaterThan(positions[index - 1]!);
      }
    });

    it("counts versions 1, 2, 3 per topic and key, and gives keyless events none", async () => {
      // Given an empty store
      const store = context.store();

      // When user-1 is created and renamed twice, then org "user-1" and a keyless event are appended
      const [created] = expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));
      const renamed = expectCommitted(
        await appendCommand(store, "users", [userRenamed("user-1", "Ada"), userRenamed("user-1", "Ada L.")]),
      );
      const [sameKeyOtherTopic] = expectCommitted(
        await appendCommand(store, "organizations", [organizationEvent("OrganizationCreated", "user-1")]),
      );
      const [keyless] = expectCommitted(
        await appendCommand(store, "users", [userEvent("UsersImported", undefined)]),
      );

      // Then user-1 has versions 1, 2, 3; the other topic's stream starts at 1; keyless has null
      expect([created, ...renamed].map((event) => event?.version)).toEqual([1, 2, 3]);
      expect(sameKeyOtherTopic?.version).toBe(1);
      expect(keyless?.version).toBeNull();
      const stored = await store.getEvent(keyless!.id);
      expect(stored).toMatchObject({ key: null, version: null });
    });

    it("stamps the commit time as ISO 8601 UTC, shared by the events committed together", async () => {
      // Given an empty store
      const store = context.store();
      const before = Date.now();

      // When a group of two commands is appended
      const [users, organizations] = await appendGroup(store, [
        { topic: "users", events: [userCreated("user-1"), userCreated("user-2")] },
        { topic: "organizations", events: [organizationEvent("OrganizationCreated", "org-1")] },
      ]);
      const after = Date.now();

      // Then every event has the same time, in UTC with milliseconds, during the call
      const events = [...expectCommitted(users), ...expectCommitted(organizations)];
      const time = events[0]!.time;
      expect(new Date(time).toISOString()).toBe(time);
      expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1_000);
      expect(Date.parse(time)).toBeLessThanOrEqual(after + 1_000);
      for (const event of events) expect(event.time).toBe(time);
      expect((await store.getEvent(events[0]!.id))?.time).toBe(time);
    });

    it("stores none of a command's events when its third event conflicts, and consumes no offsets", async () => {
      // Given the users topic with 1 partition and user-1 at version 1
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));

      // When a command creates user-2, renames user-2, then renames user-1 expecting version 5
      const outcome = await appendCommand(store, "users", [
        userCreated("user-2", { expectedVersion: "no_stream" }),
        userRenamed("user-2", "Grace", { expectedVersion: 1 }),
        userRenamed("user-1", "Ada", { expectedVersion: 5 }),
      ]);

      // Then the command fails and nothing of it is stored
      expectFailed(outcome, "version-conflict");
      expect(await store.readPartition("users", 0, 0, 100)).toHaveLength(1);
      expect((await store.readKey("users", "user-2", { fromVersion: 1, limit: 100 })).events).toEqual([]);
      expect(await store.getTopic("users")).toMatchObject({ events: 1, headOffsets: [1] });

      // And the next event takes offset 1 and creates user-2 at version 1
      const [next] = expectCommitted(await appendCommand(store, "users", [userCreated("user-2")]));
      expect(next).toMatchObject({ offset: 1, version: 1 });
    });

    it("commits a group's commands independently, each seeing the effects of the earlier ones", async () => {
      // Given the users topic with 1 partition and the organizations topic
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      await store.putTopic("organizations", { partitions: 1 });

      // When one group creates user-1, fails on user-2, renames user-1 at version 1, then creates org-1
      const [create, conflict, rename, organization] = await appendGroup(store, [
        { topic: "users", events: [userCreated("user-1", { expectedVersion: "no_stream" })] },
        {
          topic: "users",
          events: [userCreated("user-2"), userRenamed("user-2", "Grace", { expectedVersion: 5 })],
        },
        { topic: "users", events: [userRenamed("user-1", "Ada", { expectedVersion: 1 })] },
        { topic: "organizations", events: [organizationEvent("OrganizationCreated", "org-1")] },
      ]);

      // Then the outcomes are in command order; the failure left no trace for the commands after it
      expect(expectCommitted(create)).toMatchObject([{ offset: 0, version: 1 }]);
      const error = expectFailed(conflict, "version-conflict");
      expect(error.details).toMatchObject({ key: "user-2", expectedVersion: 5, actualVersion: 1 });
      expect(expectCommitted(rename)).toMatchObject([{ offset: 1, version: 2 }]);
      expect(expectCommitted(organization)).toMatchObject([
        { topic: "organizations", offset: 0, version: 1 },
      ]);
      const users = await store.readPartition("users", 0, 0, 100);
      expect(users.map((event) => [event.key, event.type, event.version])).toEqual([
        ["user-1", "UserCreated", 1],
        ["user-1", "UserRenamed", 2],
      ]);
    });
  });
}
