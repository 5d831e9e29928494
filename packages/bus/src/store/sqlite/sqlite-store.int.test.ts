import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isStoreUnavailable } from "@tributary/protocol";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import { freshPartitions, usersSubscription } from "../../testing/conformance/subscription-fixtures.js";
import { describeStoreConformance } from "../../testing/store-conformance.js";
import type { EventStore } from "../event-store.js";
import { applyMigrations } from "./migrate.js";
import { sqliteMigrations } from "./migrations.js";
import { openDatabase } from "./open-database.js";
import { createSqliteStore } from "./sqlite-store.js";

const folder = mkdtempSync(join(tmpdir(), "tributary-sqlite-"));
let files = 0;

/** A path for a new database file in this test file's temp folder. */
function newDatabasePath(): string {
  files += 1;
  return join(folder, `store-${files}.db`);
}

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describeStoreConformance({
  name: "sqlite",
  create: async () => {
    const store = createSqliteStore({ path: newDatabasePath() });
    await store.migrate();
    return store;
  },
});

/** A process of the migration race, migrating `paths` one round at a time. */
interface Racer {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the racer has printed `ready` (or `done`) `count` times in all. */
  announced(count: number): Promise<void>;
  /** Everything the racer printed, once it exited successfully. */
  exited: Promise<string>;
}

/** Starts the migration-race fixture in its own process, from its source (through tsx). */
function startRacer(paths: string[]): Racer {
  const fixture = join(dirname(fileURLToPath(import.meta.url)), "migration-race.fixture.ts");
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env: { ...process.env, TRIBUTARY_SQLITE_PATHS: paths.join("\n") },
    stdio: "pipe",
  });
  let output = "";
  let waiting: { count: number; resolve: () => void } | undefined;
  const announcements = () => output.split("\n").filter((line) => line === "ready" || line === "done").length;
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (waiting !== undefined && announcements() >= waiting.count) waiting.resolve();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<string>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`racer exited ${code}: ${output}`)),
    );
  });
  return {
    child,
    exited,
    announced: (count) =>
      new Promise<void>((resolve, reject) => {
        if (announcements() >= count) return resolve();
        waiting = { count, resolve };
        exited.then(() => reject(new Error(`racer ended before round ${count}: ${output}`)), reject);
      }),
  };
}

describe("SQLite store", () => {
  it("opens the file in WAL mode with synchronous FULL", async () => {
    // Given a store on a new file, migrated
    const path = newDatabasePath();
    const store = createSqliteStore({ path });
    await store.migrate();

    // When the file and a connection opened like the store's are inspected
    const other = new Database(path);
    const journalMode = other.pragma("journal_mode", { simple: true });
    other.close();
    const db = openDatabase(path);
    const synchronous = db.pragma("synchronous", { simple: true });
    const busyTimeout = db.pragma("busy_timeout", { simple: true });
    db.close();
    await store.close();

    // Then the file is WAL, commits sync fully (2 = FULL), and a locked file is waited for
    expect(journalMode).toBe("wal");
    expect(synchronous).toBe(2);
    expect(busyTimeout).toBeGreaterThan(0);
  });

  it("applies each migration once and records it in schema_migrations", () => {
    // Given a new file
    const db = openDatabase(newDatabasePath());

    // When it is migrated twice
    const first = applyMigrations(db);
    const second = applyMigrations(db);

    // Then the first run applied every migration, the second none, and each is recorded once
    const recorded = db.prepare("SELECT version, name FROM schema_migrations ORDER BY version").all();
    db.close();
    expect(first).toEqual(sqliteMigrations.map((migration) => migration.version));
    expect(second).toEqual([]);
    expect(recorded).toEqual(sqliteMigrations.map(({ version, name }) => ({ version, name })));
  });

  it("rolls back every migration of a run when one fails", () => {
    // Given a new file and a migration list whose second entry is broken
    const db = openDatabase(newDatabasePath());
    const broken = [
      { version: 1, name: "good", sql: "CREATE TABLE good (id INTEGER PRIMARY KEY)" },
      { version: 2, name: "broken", sql: "CREATE TABLE broken (" },
    ];

    // When it is migrated
    const attempt = () => applyMigrations(db, broken);

    // Then it throws and leaves neither the tables nor their records
    expect(attempt).toThrow();
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    db.close();
    expect(tables).not.toContain("good");
    expect(tables).not.toContain("schema_migrations");
  });

  it("several processes opening and migrating one new file at once all succeed and migrate it once", async () => {
    // Given 6 processes, each ready to open and migrate the same new files, one file per round
    const paths = Array.from({ length: 15 }, () => newDatabasePath());
    const racers = Array.from({ length: 6 }, () => startRacer(paths));

    // When, round after round, they are all told to go at once
    for (const round of paths.keys()) {
      await Promise.all(racers.map((racer) => racer.announced(round + 1)));
      for (const racer of racers) racer.child.stdin.write("go\n");
    }
    await Promise.all(racers.map((racer) => racer.announced(paths.length + 1)));
    for (const racer of racers) racer.child.stdin.end();
    const outputs = await Promise.all(racers.map((racer) => racer.exited));

    // Then each racer migrated every file without error, and every file records each migration once
    for (const output of outputs) expect(output).toContain("done");
    for (const path of paths) {
      const db = new Database(path, { readonly: true });
      const versions = db.prepare("SELECT version FROM schema_migrations ORDER BY version").pluck().all();
      db.close();
      expect(versions).toEqual(sqliteMigrations.map((migration) => migration.version));
    }
  });

  it("keeps committed events, topics and heads across close and reopen", async () => {
    // Given a store file holding two users events, closed
    const path = newDatabasePath();
    const first = createSqliteStore({ path });
    await first.migrate();
    await first.putTopic("users", { partitions: 1, retention: { maxAgeMs: 60_000 } });
    const events = [
      prepareEvent("users", { type: "UserCreated", key: "user-1", data: { name: "Ada" } }),
      prepareEvent("users", { type: "UserRenamed", key: "user-1", data: { name: "Ada L." } }),
    ];
    const [outcome] = await first.appendGroup([{ topic: "users", events }], {
      autoCreate: false,
      defaultPartitions: 1,
    });
    await first.close();

    // When the file is opened again
    const second = createSqliteStore({ path });
    await second.migrate();
    const topic = await second.getTopic("users");
    const stream = (await second.readKey("users", "user-1", { fromVersion: 1, limit: 10 })).events;
    const [next] = await second.appendGroup(
      [{ topic: "users", events: [prepareEvent("users", { type: "UserRenamed", key: "user-1", data: {} })] }],
      { autoCreate: false, defaultPartitions: 1 },
    );
    await second.close();

    // Then the topic, the events and the stream's version are as committed
    expect(outcome?.ok).toBe(true);
    expect(topic).toMatchObject({
      partitions: 1,
      retention: { maxAgeMs: 60_000 },
      events: 2,
      headOffsets: [2],
    });
    expect(stream.map((event) => [event.version, event.data])).toEqual([
      [1, { name: "Ada" }],
      [2, { name: "Ada L." }],
    ]);
    expect(next).toMatchObject({ ok: true, events: [{ offset: 2, version: 3 }] });
  });

  it("fails appends store-unavailable while its writer thread cannot open the file, then recovers", async () => {
    // Given a migrated store whose folder is moved away after it opened its file
    const home = mkdtempSync(join(folder, "moving-"));
    const store = createSqliteStore({ path: join(home, "tributary.db") });
    await store.migrate();
    const options = { autoCreate: true, defaultPartitions: 4 };
    const append = (name: string) =>
      store.appendGroup(
        [{ topic: "users", events: [prepareEvent("users", { type: name, key: "u" })] }],
        options,
      );
    renameSync(home, `${home}-away`);
    try {
      // When an append starts the writer thread, which cannot open the file
      const failure = await append("Lost").catch((error: unknown) => error);
      // Then the append fails store-unavailable and nothing is stored
      expect(isStoreUnavailable(failure)).toBe(true);
    } finally {
      renameSync(`${home}-away`, home);
    }
    // And once the file is back, the next append starts a new writer and commits
    expect(await append("Found")).toMatchObject([{ ok: true, events: [{ offset: 0, version: 1 }] }]);
    expect(
      (await store.readKey("users", "u", { fromVersion: 1, limit: 10 })).events.map((event) => event.type),
    ).toEqual(["Found"]);
    await store.close();
  });

  it("prepares the statements of its own connection once, not on every call", async () => {
    // Given a store, and a round of every call it serves, run once
    const store = createSqliteStore({ path: newDatabasePath() });
    await store.migrate();
    await everyCall(store, 0);

    // When more rounds run while the connections of this thread are watched
    const prepare = vi.spyOn(Database.prototype, "prepare");
    let prepared: unknown[];
    try {
      await everyCall(store, 1);
      await everyCall(store, 2);
    } finally {
      prepared = prepare.mock.calls.map(([sql]) => sql);
      prepare.mockRestore();
      await store.close();
    }

    // Then none of them prepared a statement
    expect(prepared).toEqual([]);
  });
});

/** Every read and write of the store once, as requests make them; `round` makes the writes new. */
async function everyCall(store: EventStore, round: number): Promise<void> {
  const createdAt = "2025-03-04T05:06:07.089Z";
  await store.putTopic("users", { partitions: 2 });
  const event = prepareEvent("users", { type: "UserCreated", key: `user-${round}`, data: {} });
  await store.appendGroup([{ topic: "users", events: [event] }], { autoCreate: true, defaultPartitions: 2 });
  await store.getTopic("users");
  await store.listTopics();
  await store.readPartition("users", 0, 0, 10);
  await store.readPartitionForDelivery("users", 0, 0, 10);
  await store.readKey("users", "user-0", { fromVersion: 1, limit: 10 });
  await store.readKey("users", "user-0", { fromVersion: 1, limit: 10, asOf: new Date() });
  await store.query({ topic: "users", order: "asc", limit: 10 });
  await store.getEvent(event.id);
  await store.offsetsAt("users", { time: new Date(0) });
  await store.offsetsAt("users", { position: 1 });
  await store.ping();

  await store.registry.transact(async (transaction) => {
    await transaction.versions("users-value");
    await transaction.compatibility(null);
    const id = await transaction.schemaId(`{"title":"users ${round}"}`);
    await transaction.insertVersion({ subject: "users-value", version: round + 1, id, createdAt });
  });
  await store.registry.subjects({ deleted: false });
  await store.registry.subjects({ deleted: true });
  await store.registry.versions("users-value", { deleted: false });
  await store.registry.versions("users-value", { deleted: true });
  await store.registry.schemaById(1);
  await store.registry.versionsOfSchema(1);
  await store.registry.compatibility("users-value");

  const grants = { produce: ["users"], consume: [], admin: false };
  await store.auth.createKey({
    id: `k-${round}`,
    principal: "user-service",
    secretHash: "h",
    grants,
    createdAt,
  });
  await store.auth.key(`k-${round}`);
  await store.auth.keys();
  await store.auth.revokeKey(`k-${round}`, createdAt);
  await store.auth.putPrincipal("billing", grants, createdAt);
  await store.auth.principal("billing");
  await store.auth.principals();
  await store.auth.countKeys();

  const name = `user-mailer-${round}`;
  await store.subscriptions.create(usersSubscription(name), freshPartitions(2));
  await store.subscriptions.get(name);
  await store.subscriptions.list();
  await store.subscriptions.transact(name, () => ({ result: undefined, mayLoseOnCrash: true }));
  await store.subscriptions.listDeadLetters(name, { limit: 10 });
  await store.subscriptions.listDeadLetters(name, { limit: 10, ids: ["evt-1"] });
  await store.subscriptions.countDeadLetters(name);
  await store.subscriptions.delete(name);
}
