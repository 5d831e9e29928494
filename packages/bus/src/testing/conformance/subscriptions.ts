import { describe, expect, it } from "vitest";
import type { DeadLetterRecord } from "../../subscriptions/subscription-store.js";
import { type ConformanceContext, expectRejection } from "./fixtures.js";
import { busyPartition, freshPartitions, readState, usersSubscription } from "./subscription-fixtures.js";

function deadLetter(eventId: string, offset: number): DeadLetterRecord {
  return {
    eventId,
    partition: 1,
    offset,
    attempts: 5,
    error: `failed ${eventId}`,
    deadAt: 1_800_000_000_000,
  };
}

/** Subscription definitions (create, get, list, delete) and dead-letter listing of the port. */
export function describeSubscriptionConformance(context: ConformanceContext): void {
  describe("subscription definitions", () => {
    it("create stores the definition and its partitions; get and list return it", async () => {
      // Given an empty store
      const store = context.store();
      const definition = usersSubscription("user-mailer", {
        types: null,
        start: { time: "2025-01-01T00:00:00.000Z" },
        delivery: { mode: "push", url: "http://mailer.local/events", batchSize: 10, timeoutMs: 5000 },
        onFailure: "block",
      });

      // When a subscription is created
      const answer = await store.subscriptions.create(definition, [
        busyPartition(0),
        ...freshPartitions(3).slice(1),
      ]);

      // Then it was created, and every read returns the definition and its partitions
      expect(answer).toEqual({ subscription: definition, created: true });
      expect(await store.subscriptions.get("user-mailer")).toEqual(definition);
      expect(await store.subscriptions.list()).toEqual([definition]);
      const state = await readState(store, "user-mailer");
      expect(state.subscription).toEqual(definition);
      expect(state.partitions).toEqual([busyPartition(0), ...freshPartitions(3).slice(1)]);
      expect(state.consumers).toEqual([]);
    });

    it("create of an existing name changes nothing and returns the stored definition", async () => {
      // Given user-mailer with 2 partitions
      const store = context.store();
      const stored = usersSubscription("user-mailer");
      await store.subscriptions.create(stored, freshPartitions(2));

      // When it is created again with another definition and partitions
      const answer = await store.subscriptions.create(
        usersSubscription("user-mailer", { topic: "organizations", maxAttempts: 9 }),
        [busyPartition(0), busyPartition(1), busyPartition(2)],
      );

      // Then the stored definition is returned as it was, and the partitions are untouched
      expect(answer).toEqual({ subscription: stored, created: false });
      expect(await store.subscriptions.get("user-mailer")).toEqual(stored);
      expect((await readState(store, "user-mailer")).partitions).toEqual(freshPartitions(2));
    });

    it("list returns every subscription in name order; get of an unknown name is undefined", async () => {
      // Given three subscriptions created out of order
      const store = context.store();
      for (const name of ["search-index", "audit", "user-mailer"]) {
        await store.subscriptions.create(usersSubscription(name), freshPartitions(1));
      }

      // When they are listed
      const listed = await store.subscriptions.list();

      // Then they come in name order, and an unknown name is not found
      expect(listed.map((subscription) => subscription.name)).toEqual([
        "audit",
        "search-index",
        "user-mailer",
      ]);
      expect(await store.subscriptions.get("billing")).toBeUndefined();
    });

    it("delete removes the subscription with its partitions, consumers and dead letters", async () => {
      // Given user-mailer with a consumer, a busy partition and a dead letter, and audit beside it
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), [busyPartition(0)]);
      await store.subscriptions.create(usersSubscription("audit"), freshPartitions(1));
      await store.subscriptions.transact("user-mailer", () => ({
        result: undefined,
        upsertConsumers: [{ id: "mailer-1", expiresAt: 1_900_000_000_000 }],
        insertDeadLetters: [deadLetter("evt-1", 1)],
      }));

      // When it is deleted, twice
      const deleted = await store.subscriptions.delete("user-mailer");
      const again = await store.subscriptions.delete("user-mailer");

      // Then the first delete removed everything of it, the second found nothing, audit is intact
      expect([deleted, again]).toEqual([true, false]);
      expect(await store.subscriptions.get("user-mailer")).toBeUndefined();
      expect((await store.subscriptions.list()).map((subscription) => subscription.name)).toEqual(["audit"]);
      await expectRejection(readState(store, "user-mailer"), "subscription-not-found");
      expect(await store.subscriptions.countDeadLetters("user-mailer")).toBe(0);
      expect(await store.subscriptions.listDeadLetters("user-mailer", { limit: 10 })).toEqual([]);

      // And a subscription created again under that name starts with nothing of the old one
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2));
      const state = await readState(store, "user-mailer");
      expect(state.partitions).toEqual(freshPartitions(2));
      expect(state.consumers).toEqual([]);
      expect(await store.subscriptions.countDeadLetters("user-mailer")).toBe(0);
    });
  });

  describe("dead letters", () => {
    it("are listed in event-id order (bytewise), keyset-paginated by id, and counted", async () => {
      // Given user-mailer with dead letters written out of id order, and one of audit
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2));
      await store.subscriptions.create(usersSubscription("audit"), freshPartitions(2));
      const ids = ["evt-c", "evt-a", "Evt-Z", "evt-b", "evt-a-2", "evt-d"];
      await store.subscriptions.transact("user-mailer", () => ({
        result: undefined,
        insertDeadLetters: ids.map((id, index) => deadLetter(id, 3_000_000_000 + index)),
      }));
      await store.subscriptions.transact("audit", () => ({
        result: undefined,
        insertDeadLetters: [deadLetter("evt-0", 0)],
      }));

      // When they are listed page by page
      const first = await store.subscriptions.listDeadLetters("user-mailer", { limit: 2 });
      const second = await store.subscriptions.listDeadLetters("user-mailer", { limit: 2, after: "evt-a" });
      const rest = await store.subscriptions.listDeadLetters("user-mailer", { limit: 10, after: "evt-a-2" });
      const past = await store.subscriptions.listDeadLetters("user-mailer", { limit: 10, after: "evt-d" });

      // Then pages follow bytewise id order (upper case first), each record exact
      expect(first.map((record) => record.eventId)).toEqual(["Evt-Z", "evt-a"]);
      expect(first[1]).toEqual(deadLetter("evt-a", 3_000_000_001));
      expect(second.map((record) => record.eventId)).toEqual(["evt-a-2", "evt-b"]);
      expect(rest.map((record) => record.eventId)).toEqual(["evt-b", "evt-c", "evt-d"]);
      expect(past).toEqual([]);
      expect(await store.subscriptions.countDeadLetters("user-mailer")).toBe(6);
      expect(await store.subscriptions.countDeadLetters("audit")).toBe(1);
      expect(await store.subscriptions.countDeadLetters("unknown")).toBe(0);
      expect(await store.subscriptions.listDeadLetters("unknown", { limit: 10 })).toEqual([]);
    });

    it("are filtered by ids, with the keyset and limit applied too", async () => {
      // Given user-mailer with dead letters evt-a to evt-e
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2));
      const ids = ["evt-a", "evt-b", "evt-c", "evt-d", "evt-e"];
      await store.subscriptions.transact("user-mailer", () => ({
        result: undefined,
        insertDeadLetters: ids.map((id, index) => deadLetter(id, index)),
      }));

      // When some are asked for by id
      const named = await store.subscriptions.listDeadLetters("user-mailer", {
        limit: 10,
        ids: ["evt-e", "evt-b", "evt-unknown", "evt-d"],
      });
      const page = await store.subscriptions.listDeadLetters("user-mailer", {
        limit: 1,
        after: "evt-b",
        ids: ["evt-e", "evt-b", "evt-d"],
      });
      const none = await store.subscriptions.listDeadLetters("user-mailer", { limit: 10, ids: [] });

      // Then only those come back, in id order; unknown ids are ignored
      expect(named).toEqual([deadLetter("evt-b", 1), deadLetter("evt-d", 3), deadLetter("evt-e", 4)]);
      expect(page).toEqual([deadLetter("evt-d", 3)]);
      expect(none).toEqual([]);
    });

    it("an insert of an existing id replaces it; a delete removes only the named ones", async () => {
      // Given user-mailer with dead letters evt-a, evt-b, evt-c
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2));
      await store.subscriptions.transact("user-mailer", () => ({
        result: undefined,
        insertDeadLetters: ["evt-a", "evt-b", "evt-c"].map((id, index) => deadLetter(id, index)),
      }));

      // When evt-a dies again and evt-b and an unknown id are deleted
      const replaced = { ...deadLetter("evt-a", 0), attempts: 10, error: "again", deadAt: 1_800_000_000_500 };
      await store.subscriptions.transact("user-mailer", () => ({
        result: undefined,
        insertDeadLetters: [replaced],
        deleteDeadLetters: ["evt-b", "evt-unknown"],
      }));

      // Then evt-a is the new record, evt-b is gone, evt-c is untouched
      expect(await store.subscriptions.listDeadLetters("user-mailer", { limit: 10 })).toEqual([
        replaced,
        deadLetter("evt-c", 2),
      ]);
    });
  });
}
