import { TributaryError } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import type { PartitionState } from "../../subscriptions/subscription-store.js";
import {
  appendCommand,
  type ConformanceContext,
  expectCommitted,
  expectRejection,
  range,
  userCreated,
  waitForClockTick,
} from "./fixtures.js";
import {
  busyPartition,
  freshPartition,
  freshPartitions,
  readState,
  sleep,
  usersSubscription,
} from "./subscription-fixtures.js";

/** `transact`: exclusive access to a subscription's state, written back in one transaction. */
export function describeSubscriptionTransactConformance(context: ConformanceContext): void {
  describe("subscription transactions", () => {
    it("write back every field of partitions, consumers, dead letters and the definition exactly", async () => {
      // Given user-mailer with 3 fresh partitions
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(3));
      const idle: PartitionState = {
        ...freshPartition(2, 7),
        owner: "mailer-2",
        leaseExpiresAt: 3_000_000_000,
      };
      const definition = usersSubscription("user-mailer", {
        maxAttempts: 9,
        delivery: { mode: "push", url: "http://mailer.local/events" },
        backoff: { initialMs: 1, maxMs: 2 },
      });
      const consumers = [
        { id: "mailer-1", expiresAt: 1_900_000_000_001 },
        { id: "mailer-2", expiresAt: 2_147_483_648 },
      ];
      const deadLetter = {
        eventId: "evt-dead",
        partition: 1,
        offset: 4_294_967_296,
        attempts: 1000,
        error: "HTTP 503 — «retry later»",
        deadAt: 1_900_000_000_002,
      };

      // When a transaction writes partitions 1 and 2, two consumers, a dead letter and the definition
      const result = await store.subscriptions.transact("user-mailer", () => ({
        result: "written",
        subscription: definition,
        partitions: [busyPartition(1), idle],
        upsertConsumers: consumers,
        insertDeadLetters: [deadLetter],
      }));

      // Then the next transaction sees all of it exactly, partition 0 untouched, consumers in id order
      expect(result).toBe("written");
      const state = await readState(store, "user-mailer");
      expect(state.subscription).toEqual(definition);
      expect(state.partitions).toEqual([freshPartition(0), busyPartition(1), idle]);
      expect(state.consumers).toEqual(consumers);
      expect(await store.subscriptions.get("user-mailer")).toEqual(definition);
      expect(await store.subscriptions.listDeadLetters("user-mailer", { limit: 10 })).toEqual([deadLetter]);

      // And a later write of the same rows replaces them whole: nulls, empty pending, fewer fields
      const cleared = { ...busyPartition(1), pending: [], owner: null, lastError: null, leaseExpiresAt: 0 };
      const withoutEventId = {
        ...freshPartition(0),
        lastError: { message: "lease lost", eventId: null, at: 1_900_000_000_003 },
      };
      await store.subscriptions.transact("user-mailer", () => ({
        result: undefined,
        partitions: [cleared, withoutEventId],
        upsertConsumers: [{ id: "mailer-2", expiresAt: 5 }],
        deleteConsumers: ["mailer-1", "mailer-unknown"],
      }));
      const after = await readState(store, "user-mailer");
      expect(after.partitions).toEqual([withoutEventId, cleared, idle]);
      expect(after.consumers).toEqual([{ id: "mailer-2", expiresAt: 5 }]);
      expect(after.subscription).toEqual(definition);
    });

    it("rejects subscription-not-found for an unknown name without calling change", async () => {
      // Given user-mailer only
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));
      let called = false;

      // When a transaction of another name runs
      const transaction = store.subscriptions.transact("audit", () => {
        called = true;
        return { result: undefined };
      });

      // Then it is rejected and its change never ran
      await expectRejection(transaction, "subscription-not-found");
      expect(called).toBe(false);
    });

    it("a change that throws writes nothing, and its error comes out as is", async () => {
      // Given user-mailer with fresh partitions
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2));
      const failure = new Error("the core changed its mind");
      const refusal = new TributaryError("delivery-not-held", { details: { ids: ["evt-1"] } });

      // When changes throw, synchronously and after awaiting, and one returns a failing promise
      const thrown = store.subscriptions.transact("user-mailer", () => {
        throw failure;
      });
      const rejected = store.subscriptions.transact("user-mailer", async () => {
        await sleep(1);
        throw refusal;
      });

      // Then each transaction rejects with its change's error, and nothing was written
      await expect(thrown).rejects.toBe(failure);
      await expect(rejected).rejects.toBe(refusal);
      const state = await readState(store, "user-mailer");
      expect(state.partitions).toEqual(freshPartitions(2));
      expect(state.consumers).toEqual([]);
      expect(await store.subscriptions.countDeadLetters("user-mailer")).toBe(0);
      expect(await store.subscriptions.get("user-mailer")).toEqual(usersSubscription("user-mailer"));

      // And the subscription is not left locked
      await expect(store.subscriptions.transact("user-mailer", () => ({ result: "free" }))).resolves.toBe(
        "free",
      );
    });

    it("20 concurrent transactions of one subscription take turns: every increment counts", async () => {
      // Given user-mailer with checkpoint 0 on partition 0
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));

      // When 20 transactions at once each read the checkpoint, wait, and write it plus one
      const seen = await Promise.all(
        range(20).map(() =>
          store.subscriptions.transact("user-mailer", async (state) => {
            const partition = state.partitions[0]!;
            await sleep(2);
            const checkpoint = partition.checkpoint + 1;
            return {
              result: partition.checkpoint,
              partitions: [{ ...partition, checkpoint, cursor: checkpoint }],
            };
          }),
        ),
      );

      // Then each saw a different checkpoint and the last one is 20
      expect([...seen].sort((a, b) => a - b)).toEqual(range(20));
      expect((await readState(store, "user-mailer")).partitions[0]).toMatchObject({
        checkpoint: 20,
        cursor: 20,
      });
    });

    it("now is the store's wall clock at each transaction, not a frozen time", async () => {
      // Given user-mailer
      const store = context.store();
      await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));

      // When two transactions run a few milliseconds apart
      const before = Date.now();
      const first = (await readState(store, "user-mailer")).now;
      await waitForClockTick();
      await waitForClockTick();
      const second = (await readState(store, "user-mailer")).now;
      const after = Date.now();

      // Then now moved forward, and both are wall-clock times of this moment (clocks of one machine)
      expect(second).toBeGreaterThan(first);
      expect(first).toBeGreaterThanOrEqual(before - 1000);
      expect(second).toBeLessThanOrEqual(after + 1000);
    });

    it("a change may read events of the store while it holds the subscription", async () => {
      // Given user-1 created in users, and 5 subscriptions of users
      const store = context.store();
      await store.putTopic("users", { partitions: 1 });
      const [stored] = expectCommitted(await appendCommand(store, "users", [userCreated("user-1")]));
      const names = range(5).map((index) => `reader-${index}`);
      for (const name of names) await store.subscriptions.create(usersSubscription(name), freshPartitions(1));

      // When 4 transactions of each subscription at once read the partition inside their change
      const reads = await Promise.all(
        names.flatMap((name) =>
          range(4).map(() =>
            store.subscriptions.transact(name, async (state) => {
              const events = await store.readPartition("users", 0, state.partitions[0]!.cursor, 10);
              return { result: events.map((event) => event.id) };
            }),
          ),
        ),
      );

      // Then every one of them completes with the event
      expect(reads).toEqual(reads.map(() => [stored!.id]));
    });
  });
}
