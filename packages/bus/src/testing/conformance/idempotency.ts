import { describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import {
  appendCommand,
  appendGroup,
  type ConformanceContext,
  expectCommitted,
  expectFailed,
  userCreated,
  userRenamed,
} from "./fixtures.js";

/** Idempotent appends: a resent id returns the stored coordinates; a reused id is a conflict. */
export function describeIdempotencyConformance(context: ConformanceContext): void {
  describe("idempotency", () => {
    it("resending stored events returns their coordinates, replayed, and stores nothing new", async () => {
      // Given user-1 created and renamed
      const store = context.store();
      // A resend carries the ids of the first send (ids the store assigned are never resent)
      const events = [userCreated("user-1", { id: "evt-1" }), userRenamed("user-1", "Ada", { id: "evt-2" })];
      const stored = expectCommitted(await appendCommand(store, "users", events));

      // When the same events are sent again
      const outcome = await appendCommand(store, "users", events);

      // Then the answer is the stored coordinates, replayed, and the topic still holds 2 events
      expect(expectCommitted(outcome, true)).toEqual(stored);
      expect(await store.getTopic("users")).toMatchObject({ events: 2 });
    });

    it("a resend skips the expectedVersion check that its first append passed", async () => {
      // Given user-1 created expecting no stream
      const store = context.store();
      const event = userCreated("user-1", { id: "evt-1", expectedVersion: "no_stream" });
      const [stored] = expectCommitted(await appendCommand(store, "users", [event]));

      // When the same event is sent again (its expectedVersion would now fail)
      const outcome = await appendCommand(store, "users", [event]);

      // Then it is a replay of the stored event, not a version conflict
      expect(expectCommitted(outcome, true)).toEqual([stored]);
    });

    it("a stored id with other content is an id-conflict and stores nothing of its command", async () => {
      // Given user-1 created with a client-chosen id
      const store = context.store();
      expectCommitted(await appendCommand(store, "users", [userCreated("user-1", { id: "evt-1" })]));

      // When a command sends user-2 and then another event under the id evt-1
      const outcome = await appendCommand(store, "users", [
        userCreated("user-2"),
        userRenamed("user-1", "Ada", { id: "evt-1" }),
      ]);

      // Then it is an id-conflict naming the id, and user-2 is not stored
      expect(expectFailed(outcome, "id-conflict").details).toMatchObject({ id: "evt-1" });
      expect(await store.getTopic("users")).toMatchObject({ events: 1 });
      expect((await store.readKey("users", "user-2", { fromVersion: 1, limit: 10 })).events).toEqual([]);
    });

    it("an id stored in another topic is an id-conflict", async () => {
      // Given evt-1 stored in the users topic
      const store = context.store();
      expectCommitted(await appendCommand(store, "users", [userCreated("user-1", { id: "evt-1" })]));

      // When evt-1 is sent to the organizations topic with the same type, key and data
      const moved = prepareEvent("organizations", {
        id: "evt-1",
        type: "UserCreated",
        key: "user-1",
        data: { userId: "user-1", name: "Name of user-1" },
      });
      const outcome = await appendCommand(store, "organizations", [moved]);

      // Then it is an id-conflict
      expectFailed(outcome, "id-conflict");
    });

    it("a command mixing stored and new events stores the new ones and returns the stored coordinates", async () => {
      // Given user-1 created
      const store = context.store();
      const created = userCreated("user-1", { id: "evt-1" });
      const [stored] = expectCommitted(await appendCommand(store, "users", [created]));

      // When a command resends it together with a rename
      const outcome = await appendCommand(store, "users", [created, userRenamed("user-1", "Ada")]);

      // Then the created event keeps its coordinates and the rename is stored as version 2
      const [resent, renamed] = expectCommitted(outcome, false);
      expect(resent).toEqual(stored);
      expect(renamed).toMatchObject({ version: 2 });
      expect(renamed!.position).toBeGreaterThan(stored!.position);
      expect(await store.getTopic("users")).toMatchObject({ events: 2 });
    });

    it("an event stored under an id the bus assigned is a replay when a client resends it with that id", async () => {
      // Given an event whose id the bus assigned
      const store = context.store();
      const assigned = userCreated("user-1");
      expect(assigned.idAssigned).toBe(true);
      const [stored] = expectCommitted(await appendCommand(store, "users", [assigned]));

      // When a client resends it with the id it got back
      const resent = userCreated("user-1", { id: assigned.id });
      expect(resent.idAssigned).toBe(false);
      const outcome = await appendCommand(store, "users", [resent]);

      // Then it is a replay with the stored coordinates, and other content under that id is refused
      expect(expectCommitted(outcome, true)).toEqual([stored]);
      const reused = await appendCommand(store, "users", [userCreated("user-2", { id: assigned.id })]);
      expect(expectFailed(reused, "id-conflict").details).toMatchObject({ id: assigned.id });
    });

    it("the same new id in two commands of one group: the second is a replay of the first", async () => {
      // Given an empty store
      const store = context.store();
      const event = userCreated("user-1");

      // When one group carries two commands with the same event
      const [first, second] = await appendGroup(store, [
        { topic: "users", events: [event] },
        { topic: "users", events: [event] },
      ]);

      // Then the event is stored once and both commands answer its coordinates
      const committed = expectCommitted(first, false);
      expect(expectCommitted(second, true)).toEqual(committed);
      expect(await store.getEvent(event.id)).toMatchObject(committed[0]!);
      expect(await store.getTopic("users")).toMatchObject({ events: 1 });
    });

    it("the same new id with other content in two commands of one group: the second is an id-conflict", async () => {
      // Given an empty store
      const store = context.store();

      // When one group carries evt-1 as a creation, then evt-1 as a rename
      const [first, second] = await appendGroup(store, [
        { topic: "users", events: [userCreated("user-1", { id: "evt-1" })] },
        { topic: "users", events: [userRenamed("user-1", "Ada", { id: "evt-1" })] },
      ]);

      // Then the first is stored and the second fails
      expectCommitted(first);
      expectFailed(second, "id-conflict");
      expect(await store.getEvent("evt-1")).toMatchObject({ type: "UserCreated" });
    });

    it("the same id twice in one command: stored once when identical, an id-conflict otherwise", async () => {
      // Given an empty store
      const store = context.store();
      const created = userCreated("user-1");

      // When a command carries the same event twice, and another carries evt-2 with two contents
      const twice = await appendCommand(store, "users", [created, created]);
      const conflicting = await appendCommand(store, "users", [
        userRenamed("user-1", "Ada", { id: "evt-2" }),
        userRenamed("user-1", "Grace", { id: "evt-2" }),
      ]);

      // Then the first stores the event once and answers its coordinates twice; the second fails
      const [first, second] = expectCommitted(twice, false);
      expect(second).toEqual(first);
      expectFailed(conflicting, "id-conflict");
      expect(await store.getEvent("evt-2")).toBeUndefined();
      expect(await store.getTopic("users")).toMatchObject({ events: 1 });
    });
  });
}
