import { describe, expect, it } from "vitest";
import type { ConformanceContext } from "./fixtures.js";
import { busyPartition, freshPartitions, readState, usersSubscription } from "./subscription-fixtures.js";

/** `read`: a subscription's state for status and metrics, without a lock or a write. */
export function describeSubscriptionReadConformance(context: ConformanceContext): void {
  describe("subscription reads", () => {
    it("read the state a transaction wrote, exactly, and undefined for an unknown subscription", async () => {
      // Given user-mailer whose partition 1 is busy, with a consumer
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2));
      await store.subscriptions.transact("user-mailer", () => ({
        result: undefined,
        partitions: [busyPartition(1)],
        upsertConsumers: [
          { id: "mailer-2", expiresAt: 2_147_483_648 },
          { id: "mailer-1", expiresAt: 1_900_000_000_001 },
        ],
      }));

      // When it is read
      const read = await store.subscriptions.read("user-mailer");

      // Then it is what a transaction sees, the clock aside
      const { now, ...expected } = await readState(store, "user-mailer");
      expect(read).toEqual({ ...expected, now: expect.any(Number) });
      expect(read?.consumers.map((consumer) => consumer.id)).toEqual(["mailer-1", "mailer-2"]);
      expect(Math.abs((read?.now ?? 0) - now)).toBeLessThan(60_000);
      await expect(store.subscriptions.read("nobody")).resolves.toBeUndefined();
    });

    it("do not wait for a transaction of the subscription in progress, and see what it committed after", async () => {
      // Given user-mailer, and a transaction of it that holds its lock until released
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let isHeld: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        isHeld = resolve;
      });
      const transaction = store.subscriptions.transact("user-mailer", async (state) => {
        isHeld();
        await released;
        const partition = state.partitions[0]!;
        return { result: "done", partitions: [{ ...partition, checkpoint: 3, cursor: 3 }] };
      });
      await held;

      // When the subscription is read meanwhile
      const during = await store.subscriptions.read("user-mailer");

      // Then the read answers with the state before the transaction
      expect(during?.partitions[0]?.checkpoint).toBe(0);
      // And once the transaction is done, a read sees its write
      release();
      await expect(transaction).resolves.toBe("done");
      expect((await store.subscriptions.read("user-mailer"))?.partitions[0]?.checkpoint).toBe(3);
    });
  });
}
