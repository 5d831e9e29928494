import { describe, expect, it } from "vitest";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  expectFailed,
  userCreated,
  userRenamed,
} from "./fixtures.js";

/** Optimistic concurrency: `expectedVersion` per (topic, key). */
export function describeExpectedVersionConformance(context: ConformanceContext): void {
  describe("expectedVersion", () => {
    it('"no_stream" accepts a new stream and refuses an existing one', async () => {
      // Given an empty store
      const store = context.store();

      // When user-1 is created twice, each time expecting no stream
      const first = await appendCommand(store, "users", [
        userCreated("user-1", { expectedVersion: "no_stream" }),
      ]);
      const second = await appendCommand(store, "users", [
        userCreated("user-1", { expectedVersion: "no_stream" }),
      ]);

      // Then the first commits and the second is a version conflict against version 1
      expect(expectCommitted(first)).toMatchObject([{ version: 1 }]);
      const error = expectFailed(second, "version-conflict");
      expect(error.details).toMatchObject({ key: "user-1", expectedVersion: "no_stream", actualVersion: 1 });
      expect((await store.readKey("users", "user-1", { fromVersion: 1, limit: 10 })).events).toHaveLength(1);
    });

    it("a number must equal the stream's current version", async () => {
      // Given user-1 at version 1
      const store = context.store();
      expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));

      // When user-1 is renamed expecting 1, then again expecting 1
      const first = await appendCommand(store, "users", [
        userRenamed("user-1", "Ada", { expectedVersion: 1 }),
      ]);
      const second = await appendCommand(store, "users", [
        userRenamed("user-1", "Grace", { expectedVersion: 1 }),
      ]);

      // Then the first commits as version 2 and the second conflicts with the actual version 2
      expect(expectCommitted(first)).toMatchObject([{ version: 2 }]);
      const error = expectFailed(second, "version-conflict");
      expect(error.details).toMatchObject({ key: "user-1", expectedVersion: 1, actualVersion: 2 });
    });

    it("expecting version 0 is expecting no stream", async () => {
      // Given an empty store
      const store = context.store();

      // When user-1 is created expecting 0, then again expecting 0
      const first = await appendCommand(store, "users", [userCreated("user-1", { expectedVersion: 0 })]);
      const second = await appendCommand(store, "users", [userCreated("user-1", { expectedVersion: 0 })]);

      // Then the first commits and the second conflicts
      expect(expectCommitted(first)).toMatchObject([{ version: 1 }]);
      expect(expectFailed(second, "version-conflict").details).toMatchObject({
        expectedVersion: 0,
        actualVersion: 1,
      });
    });

    it("a conflict on a stream without events reports actual version 0", async () => {
      // Given an empty store
      const store = context.store();

      // When user-1 is renamed expecting version 2
      const outcome = await appendCommand(store, "users", [
        userRenamed("user-1", "Ada", { expectedVersion: 2 }),
      ]);

      // Then it conflicts with version 0 and nothing is stored
      const error = expectFailed(outcome, "version-conflict");
      expect(error.details).toMatchObject({ key: "user-1", expectedVersion: 2, actualVersion: 0 });
      expect((await store.readKey("users", "user-1", { fromVersion: 1, limit: 10 })).events).toEqual([]);
    });

    it('"any" never conflicts', async () => {
      // Given user-1 at version 2
      const store = context.store();
      expectCommitted(
        await appendCommand(store, "users", [userCreated("user-1"), userRenamed("user-1", "Ada")]),
      );

      // When user-1 is renamed expecting any version
      const outcome = await appendCommand(store, "users", [
        userRenamed("user-1", "Grace", { expectedVersion: "any" }),
      ]);

      // Then it commits as version 3
      expect(expectCommitted(outcome)).toMatchObject([{ version: 3 }]);
    });

    it("checks each event of a command against the version just before that event", async () => {
      // Given an empty store
      const store = context.store();

      // When one command creates user-1 expecting no stream, then renames it expecting 1, then 2
      const created = await appendCommand(store, "users", [
        userCreated("user-1", { expectedVersion: "no_stream" }),
        userRenamed("user-1", "Ada", { expectedVersion: 1 }),
        userRenamed("user-1", "Ada L.", { expectedVersion: 2 }),
      ]);
      // And another renames it expecting 3, then expecting 3 again
      const stale = await appendCommand(store, "users", [
        userRenamed("user-1", "Grace", { expectedVersion: 3 }),
        userRenamed("user-1", "Grace H.", { expectedVersion: 3 }),
      ]);

      // Then the first commits versions 1, 2, 3; the second fails on its second event and stores nothing
      expect(expectCommitted(created).map((event) => event.version)).toEqual([1, 2, 3]);
      const error = expectFailed(stale, "version-conflict");
      expect(error.details).toMatchObject({ key: "user-1", expectedVersion: 3, actualVersion: 4 });
      const stream = (await store.readKey("users", "user-1", { fromVersion: 1, limit: 10 })).events;
      expect(stream.map((event) => event.version)).toEqual([1, 2, 3]);
    });
  });
}
