import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isStoreUnavailable } from "@tributary/protocol";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { appendCommand, autoCreate, userCreated } from "../../testing/conformance/fixtures.js";
import {
  freshPartition,
  freshPartitions,
  usersSubscription,
} from "../../testing/conformance/subscription-fixtures.js";
import type { EventStore } from "../event-store.js";
import { createSqliteStore } from "./sqlite-store.js";

const folder = mkdtempSync(join(tmpdir(), "tributary-single-writer-"));
let files = 0;
const opened: { close(): unknown }[] = [];

/** A path for a new database file in this test file's temp folder. */
function newDatabasePath(): string {
  files += 1;
  return join(folder, `store-${files}.db`);
}

async function migratedStore(path: string): Promise<EventStore> {
  const store = createSqliteStore({ path });
  opened.push(store);
  await store.migrate();
  return store;
}

afterEach(async () => {
  for (const resource of opened.splice(0)) await resource.close();
});

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

const key = (id: string) => ({
  id,
  principal: "user-service",
  secretHash: `hash-of-${id}`,
  grants: { produce: [`users-${id}`], consume: [], admin: false },
  createdAt: "2025-03-04T05:06:07.089Z",
});

/** Registers `schema` as version 1 of `subject`, the way the registry core does. */
const register = (store: EventStore, subject: string, schema: string) =>
  store.registry.transact(async (transaction) => {
    const id = await transaction.schemaId(schema);
    await transaction.insertVersion({ subject, version: 1, id, createdAt: "2025-03-04T05:06:07.089Z" });
    return id;
  });

/** Whether `promise` settled by the time the event loop has turned once. */
async function settledWithinATurn(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe("SQLite store writes", () => {
  it("wait for another connection's write lock beside the event loop, while reads answer", async () => {
    // Given a store that appended (its writer thread runs), with a key and a subscription
    const path = newDatabasePath();
    const store = await migratedStore(path);
    expect(await appendCommand(store, "users", [userCreated("user-1")])).toMatchObject({ ok: true });
    await store.auth.createKey(key("k-1"));
    await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2));
    // And another connection holding the file's write lock
    const other = new Database(path);
    opened.push(other);
    other.exec("BEGIN IMMEDIATE");

    // When every kind of write starts
    const writes = {
      putTopic: store.putTopic("organizations", { partitions: 2 }),
      append: appendCommand(store, "users", [userCreated("user-2")]),
      register: register(store, "users-UserCreated", '{"type":"object"}'),
      createKey: store.auth.createKey(key("k-2")),
      revokeKey: store.auth.revokeKey("k-1", "2025-03-05T00:00:00.000Z"),
      putPrincipal: store.auth.putPrincipal(
        "billing",
        { produce: [], consume: ["orders"], admin: false },
        "2025-03-04T05:06:07.089Z",
      ),
      createSubscription: store.subscriptions.create(usersSubscription("user-audit"), freshPartitions(2)),
      transact: store.subscriptions.transact("user-mailer", () => ({
        result: "moved",
        partitions: [freshPartition(0, 1)],
      })),
    };
    const settled = await Promise.all(Object.values(writes).map(settledWithinATurn));
    // And reads are made while the lock is held
    const reads = await Promise.all([
      store.getTopic("users"),
      store.listTopics(),
      store.registry.subjects({ deleted: false }),
      store.auth.keys(),
      store.auth.principal("user-service"),
      store.subscriptions.get("user-mailer"),
      store.readPartition("users", 0, 0, 10),
    ]);
    other.exec("COMMIT");

    // Then no write settled while the lock was held (none blocked the event loop and failed), the
    // reads answered with what was committed before, and every write succeeds once it is released
    expect(settled).toEqual(Object.values(writes).map(() => false));
    expect(reads[0]).toMatchObject({ name: "users", events: 1 });
    expect(reads[2]).toEqual([]);
    expect(reads[3]?.map((stored) => stored.id)).toEqual(["k-1"]);
    expect(await writes.putTopic).toMatchObject({ created: true, topic: { partitions: 2 } });
    expect(await writes.append).toMatchObject({ ok: true });
    expect(await writes.register).toBe(1);
    expect(await writes.revokeKey).toBe(true);
    expect(await writes.createSubscription).toMatchObject({ created: true });
    expect(await writes.transact).toBe("moved");
    await Promise.all([writes.createKey, writes.putPrincipal]);
    expect((await store.auth.keys()).map((stored) => [stored.id, stored.revokedAt])).toEqual([
      ["k-1", "2025-03-05T00:00:00.000Z"],
      ["k-2", null],
    ]);
    expect((await store.auth.principal("user-service"))?.grants.produce).toEqual(["users-k-1", "users-k-2"]);
  });

  it("all succeed when topic, registry, key and subscription writes interleave with many appends", async () => {
    // Given a store whose own connection is read-only (a write there would fail, not wait)
    const store = await migratedStore(newDatabasePath());
    await store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(4));

    // When, round after round, appends run at once with every other kind of write
    const rounds = 15;
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < rounds; round++) {
      for (let index = 0; index < 10; index++) {
        work.push(appendCommand(store, "users", [userCreated(`user-${round}-${index}`)], autoCreate));
      }
      work.push(
        store.putTopic(`topic-${round}`, { partitions: 2 }),
        store.putTopic("users", { retention: { maxAgeMs: 1000 + round } }),
        register(store, `subject-${round}`, `{"title":"schema ${round}"}`),
        store.auth.createKey(key(`k-${round}`)),
        store.auth.revokeKey(`k-${round}`, "2025-03-05T00:00:00.000Z"),
        store.auth.putPrincipal(`principal-${round}`, { produce: [], consume: [], admin: true }, "2025"),
        store.subscriptions.create(usersSubscription(`user-audit-${round}`), freshPartitions(2)),
        store.subscriptions.transact("user-mailer", () => ({
          result: round,
          partitions: [freshPartition(round % 4, round)],
          mayLoseOnCrash: round % 2 === 0,
        })),
        store.subscriptions.delete(`user-audit-${round}`),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.allSettled(work);

    // Then every write succeeded and left what it wrote
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);
    expect(await store.getTopic("users")).toMatchObject({ events: rounds * 10 });
    expect(await store.listTopics()).toHaveLength(rounds + 1);
    expect(await store.registry.subjects({ deleted: false })).toHaveLength(rounds);
    expect((await store.auth.keys()).every((stored) => stored.revokedAt !== null)).toBe(true);
    expect(await store.auth.principals()).toHaveLength(rounds + 1);
    expect((await store.subscriptions.list()).map((subscription) => subscription.name)).toEqual([
      "user-mailer",
    ]);
  });

  it("fail store-unavailable while the writer thread cannot open the file, then succeed", async () => {
    // Given a migrated store whose folder is moved away after it opened its file
    const home = mkdtempSync(join(folder, "moving-"));
    const store = await migratedStore(join(home, "tributary.db"));
    const writeEach = () => [
      store.putTopic("users", { partitions: 2 }),
      register(store, "users-UserCreated", '{"type":"object"}'),
      store.auth.createKey(key("k-1")),
      store.auth.putPrincipal("billing", { produce: [], consume: [], admin: false }, "2025"),
      store.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(2)),
    ];
    renameSync(home, `${home}-away`);
    let failures: unknown[];
    try {
      // When each kind of write starts the writer thread, which cannot open the file
      failures = await Promise.all(writeEach().map((write) => write.catch((error: unknown) => error)));
    } finally {
      renameSync(`${home}-away`, home);
    }

    // Then each fails store-unavailable, and once the file is back each succeeds
    expect(failures.map(isStoreUnavailable)).toEqual(failures.map(() => true));
    await Promise.all(writeEach());
    expect(await store.getTopic("users")).toMatchObject({ partitions: 2 });
    expect(await store.auth.countKeys()).toBe(1);
  });
});
