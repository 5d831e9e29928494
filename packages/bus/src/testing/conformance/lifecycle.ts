import { describe, expect, it } from "vitest";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  expectRejection,
  userCreated,
} from "./fixtures.js";

/** migrate, ping and close. */
export function describeLifecycleConformance(context: ConformanceContext): void {
  describe("lifecycle", () => {
    it("ping resolves on an open store", async () => {
      // Given an open store
      const store = context.store();

      // When it is pinged
      const ping = store.ping();

      // Then it answers
      await expect(ping).resolves.toBeUndefined();
    });

    it("migrating a migrated store changes nothing", async () => {
      // Given a store holding user-1
      const store = context.store();
      const [stored] = expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));

      // When it is migrated again
      await store.migrate();

      // Then the event is still there and appends go on
      expect(await store.getEvent(stored!.id)).toMatchObject(stored!);
      const [next] = expectCommitted(await appendCommand(store, "users", [userCreated("user-2")]));
      expect(next!.position).toBeGreaterThan(stored!.position);
    });

    it("close is idempotent and every call after it rejects", async () => {
      // Given a store holding user-1
      const store = context.store();
      const [stored] = expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));

      // When it is closed twice
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();

      // Then ping and appends reject store-unavailable, and reads reject
      await expectRejection(store.ping(), "store-unavailable");
      await expectRejection(
        store.appendGroup([{ topic: "users", events: [userCreated("user-2")] }], {
          autoCreate: true,
          defaultPartitions: 4,
        }),
        "store-unavailable",
      );
      await expect(store.getEvent(stored!.id)).rejects.toThrow();
      await expect(store.readPartition("users", stored!.partition, 0, 10)).rejects.toThrow();
      await expect(store.listTopics()).rejects.toThrow();
    });
  });
}
