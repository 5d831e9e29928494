import { describe, expect, it } from "vitest";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  range,
  userCreated,
  userEvent,
} from "./fixtures.js";

/** Many appendGroup calls at once: offsets, ids and versions stay exact. */
export function describeConcurrencyConformance(context: ConformanceContext): void {
  describe("concurrent appends", () => {
    it("50 appends at once to one partition take offsets 0 to 49, each once", async () => {
      // Given the users topic with 1 partition
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });

      // When 50 groups are appended at once
      const outcomes = await Promise.all(
        range(50).map((index) =>
          appendCommand(store, "users", [
            userEvent("UserSeen", index % 2 === 0 ? `user-${index % 7}` : undefined),
          ]),
        ),
      );

      // Then every offset from 0 to 49 is taken exactly once, positions follow offsets
      const events = outcomes.flatMap((outcome) => expectCommitted(outcome));
      expect(events.map((event) => event.offset).sort((a, b) => a - b)).toEqual(range(50));
      const read = await store.readPartition("users", 0, 0, 100);
      expect(read.map((event) => event.offset)).toEqual(range(50));
      for (const [index, event] of read.entries()) {
        if (index > 0) expect(event.position).toBeGreaterThan(read[index - 1]!.position);
      }
      expect(await store.getTopic("users")).toMatchObject({ events: 50, headOffsets: [50] });
    });

    it("the same event sent 10 times at once is stored once", async () => {
      // Given one event of user-1
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      const event = userCreated("user-1", { id: "evt-1" });

      // When it is appended 10 times at once
      const outcomes = await Promise.all(range(10).map(() => appendCommand(store, "users", [event])));

      // Then one append stored it, the others replayed it, and all answer the same coordinates
      const committed = outcomes.filter((outcome) => outcome.ok && !outcome.replayed);
      expect(committed).toHaveLength(1);
      const [stored] = expectCommitted(committed[0]);
      for (const outcome of outcomes) {
        expect(outcome.ok && outcome.events).toEqual([stored]);
      }
      expect(await store.readPartition("users", 0, 0, 100)).toHaveLength(1);
    });

    it("of 10 creations of one key at once expecting version 0, exactly one commits", async () => {
      // Given an empty store
      const store = context.store();
      await store.putTopic("users", { partitions: 2 });

      // When 10 different creations of user-1 expecting version 0 are appended at once
      const outcomes = await Promise.all(
        range(10).map((index) =>
          appendCommand(store, "users", [
            userCreated("user-1", { expectedVersion: 0, data: { userId: "user-1", attempt: index } }),
          ]),
        ),
      );

      // Then one commits as version 1 and the others are version conflicts against version 1
      const committed = outcomes.filter((outcome) => outcome.ok);
      expect(committed).toHaveLength(1);
      expect(expectCommitted(committed[0])).toMatchObject([{ version: 1 }]);
      for (const outcome of outcomes.filter((candidate) => !candidate.ok)) {
        expect(outcome.ok ? undefined : outcome.error).toMatchObject({
          code: "version-conflict",
          details: { key: "user-1", expectedVersion: 0, actualVersion: 1 },
        });
      }
      expect((await store.readKey("users", "user-1", { fromVersion: 1, limit: 100 })).events).toHaveLength(1);
    });
  });
}
