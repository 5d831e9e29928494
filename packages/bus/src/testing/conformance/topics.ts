import { partitionForKey } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  expectRejection,
  organizationEvent,
  range,
  userCreated,
} from "./fixtures.js";

/** putTopic, getTopic and listTopics. */
export function describeTopicConformance(context: ConformanceContext): void {
  describe("topics", () => {
    it("putTopic creates a topic with its partitions, empty", async () => {
      // Given an empty store
      const store = context.store();
      const before = Date.now();

      // When the users topic is created with 3 partitions and a retention
      const { topic, created } = await store.putTopic("users", {
        partitions: 3,
        retention: { maxAgeMs: 86_400_000 },
      });

      // Then it exists, empty, with a head of 0 per partition
      expect(created).toBe(true);
      expect(topic).toMatchObject({
        name: "users",
        partitions: 3,
        retention: { maxAgeMs: 86_400_000 },
        events: 0,
        headOffsets: [0, 0, 0],
      });
      expect(new Date(topic.createdAt).toISOString()).toBe(topic.createdAt);
      expect(Date.parse(topic.createdAt)).toBeGreaterThanOrEqual(before - 1_000);
      expect(await store.getTopic("users")).toEqual(topic);
    });

    it("putTopic without retention keeps events forever", async () => {
      // Given an empty store
      const store = context.store();

      // When a topic is created without a retention
      const { topic } = await store.putTopic("users", { partitions: 1 });

      // Then its retention has no maximum age
      expect(topic.retention.maxAgeMs ?? null).toBeNull();
    });

    it("putTopic with the same settings leaves the topic unchanged", async () => {
      // Given the users topic
      const store = context.store();
      const first = await store.putTopic("users", { partitions: 3, retention: { maxAgeMs: 1_000 } });

      // When it is put again with the same settings
      const second = await store.putTopic("users", { partitions: 3, retention: { maxAgeMs: 1_000 } });

      // Then nothing is created or changed
      expect(second.created).toBe(false);
      expect(second.topic).toEqual(first.topic);
    });

    it("putTopic without a partition count leaves an existing topic's count", async () => {
      // Given the users topic with 3 partitions
      const store = context.store();
      await store.putTopic("users", { partitions: 3 });

      // When it is put with no settings
      const { topic, created } = await store.putTopic("users", {});

      // Then it keeps its 3 partitions
      expect(created).toBe(false);
      expect(topic.partitions).toBe(3);
    });

    it("putTopic with another partition count is a topic-conflict and changes nothing", async () => {
      // Given the users topic with 3 partitions
      const store = context.store();
      const { topic } = await store.putTopic("users", { partitions: 3 });

      // When it is put with 5 partitions
      const attempt = store.putTopic("users", { partitions: 5 });

      // Then it fails topic-conflict and the topic keeps its 3 partitions
      await expectRejection(attempt, "topic-conflict");
      expect(await store.getTopic("users")).toEqual(topic);
    });

    it("putTopic with another retention updates the retention", async () => {
      // Given the users topic kept for a day
      const store = context.store();
      await store.putTopic("users", { partitions: 2, retention: { maxAgeMs: 86_400_000 } });

      // When it is put with a retention of an hour
      const { topic, created } = await store.putTopic("users", {
        partitions: 2,
        retention: { maxAgeMs: 3_600_000 },
      });

      // Then the retention is an hour, the rest unchanged
      expect(created).toBe(false);
      expect(topic).toMatchObject({ partitions: 2, retention: { maxAgeMs: 3_600_000 } });
      expect((await store.getTopic("users"))?.retention).toEqual({ maxAgeMs: 3_600_000 });
    });

    it("getTopic of an unknown topic is undefined and an empty store lists no topics", async () => {
      // Given an empty store
      const store = context.store();

      // When an unknown topic is read and the topics listed
      const topic = await store.getTopic("users");
      const topics = await store.listTopics();

      // Then there is none
      expect(topic).toBeUndefined();
      expect(topics).toEqual([]);
    });

    it("getTopic and listTopics count the events and give each partition's head", async () => {
      // Given 10 users in a topic of 4 partitions and 2 organizations in a topic of 1
      const store = context.store();
      await store.putTopic("users", { partitions: 4 });
      await store.putTopic("organizations", { partitions: 1 });
      const keys = range(10).map((index) => `user-${index}`);
      expectCommitted(
        await appendCommand(
          store,
          "users",
          keys.map((key) => userCreated(key)),
        ),
      );
      expectCommitted(
        await appendCommand(store, "organizations", [
          organizationEvent("OrganizationCreated", "org-1"),
          organizationEvent("OrganizationCreated", "org-2"),
        ]),
      );

      // When the topics are read
      const users = await store.getTopic("users");
      const topics = await store.listTopics();

      // Then each head counts the events of its partition
      const expectedHeads = [0, 0, 0, 0];
      for (const key of keys) expectedHeads[partitionForKey(key, 4)]! += 1;
      expect(users).toMatchObject({ name: "users", partitions: 4, events: 10, headOffsets: expectedHeads });
      const byName = [...topics].sort((a, b) => a.name.localeCompare(b.name));
      expect(byName.map(({ name, events, headOffsets }) => ({ name, events, headOffsets }))).toEqual([
        { name: "organizations", events: 2, headOffsets: [2] },
        { name: "users", events: 10, headOffsets: expectedHeads },
      ]);
    });
  });
}
