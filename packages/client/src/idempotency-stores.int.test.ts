import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestSchema } from "@tributary/bus/testing";
import type { DeliveredEvent } from "@tributary/protocol";
import Database from "better-sqlite3";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdempotencyStore, idempotent } from "./idempotent.js";
import { postgresIdempotencyStore } from "./postgres-idempotency-store.js";
import { sqliteIdempotencyStore } from "./sqlite-idempotency-store.js";

/** One backend under test: a store, and a table of effects written through its transactions. */
interface Backend<Transaction> {
  store: IdempotencyStore<Transaction>;
  /** A store on the same database with another table name. */
  storeWithTable(table: string): IdempotencyStore<Transaction>;
  writeEffect(transaction: Transaction, eventId: string): Promise<void>;
  effects(): Promise<string[]>;
  /** Backdates every record of `eventId`, to test purging. */
  backdate(table: string, eventId: string): Promise<void>;
  close(): Promise<void>;
}

function registered(id: string): DeliveredEvent {
  return { id, type: "UserRegistered", key: "user-ada", data: {}, attempt: 1 } as unknown as DeliveredEvent;
}

const context = { subscription: "welcome-emails", consumer: "test-consumer" };

function describeIdempotencyStore<Transaction>(kind: string, create: () => Promise<Backend<Transaction>>) {
  describe(`the ${kind} idempotency store`, () => {
    let backend: Backend<Transaction>;
    beforeAll(async () => {
      backend = await create();
    });
    afterAll(async () => {
      await backend?.close();
    });

    it("runs a handler once per event and scope", async () => {
      // Given a handler that writes an effect through the transaction
      const handle = idempotent<Transaction>(
        (event, transaction) => backend.writeEffect(transaction, event.id),
        {
          store: backend.store,
        },
      );
      // When the same event comes twice, and once for another scope
      await handle(registered("user-ada-registered"), context);
      await handle(registered("user-ada-registered"), context);
      await idempotent<Transaction>((event, transaction) => backend.writeEffect(transaction, event.id), {
        store: backend.store,
        scope: "audit",
      })(registered("user-ada-registered"), context);
      // Then the effect happened once per scope
      expect(await backend.effects()).toEqual(["user-ada-registered", "user-ada-registered"]);
      expect(await backend.store.runOnce("audit", "user-ada-registered", async () => {})).toBe(false);
    });

    it("rolls the record back with the effects when the handler throws", async () => {
      // Given a handler that writes an effect, then fails
      const failing = backend.store.runOnce("welcome-emails", "user-bob-registered", async (transaction) => {
        await backend.writeEffect(transaction, "user-bob-registered");
        throw new Error("mail server down");
      });
      // When it runs
      await expect(failing).rejects.toThrow("mail server down");
      // Then neither the effect nor the record stayed: the redelivery runs it
      expect(await backend.effects()).not.toContain("user-bob-registered");
      const ran = await backend.store.runOnce("welcome-emails", "user-bob-registered", (transaction) =>
        backend.writeEffect(transaction, "user-bob-registered"),
      );
      expect(ran).toBe(true);
      expect((await backend.effects()).filter((id) => id === "user-bob-registered")).toHaveLength(1);
    });

    it("lets one of several concurrent runs of an event through", async () => {
      // Given five deliveries of one event handled at the same time
      const runs = Array.from({ length: 5 }, () =>
        backend.store.runOnce("welcome-emails", "user-carol-registered", async (transaction) => {
          await backend.writeEffect(transaction, "user-carol-registered");
          await new Promise((resolve) => setTimeout(resolve, 5));
        }),
      );
      // Then exactly one ran
      expect((await Promise.all(runs)).filter(Boolean)).toHaveLength(1);
      expect((await backend.effects()).filter((id) => id === "user-carol-registered")).toHaveLength(1);
    });

    it("purges records older than a time, in a table of its own name", async () => {
      // Given two records in a custom table, one of them old
      const store = backend.storeWithTable("handled_user_events");
      await store.createTable();
      await store.runOnce("welcome-emails", "old-event", async () => {});
      await store.runOnce("welcome-emails", "new-event", async () => {});
      await backend.backdate("handled_user_events", "old-event");
      // When records older than an hour are purged
      const purged = await store.purge({ olderThan: new Date(Date.now() - 3_600_000) });
      // Then only the old one went: it would run again, the new one would not
      expect(purged).toBe(1);
      expect(await store.runOnce("welcome-emails", "new-event", async () => {})).toBe(false);
      expect(await store.runOnce("welcome-emails", "old-event", async () => {})).toBe(true);
    });

    it("refuses a table name that is not a plain identifier", () => {
      expect(() => backend.storeWithTable("events; DROP TABLE users")).toThrow(TypeError);
    });
  });
}

describeIdempotencyStore("sqlite", async () => {
  const folder = mkdtempSync(join(tmpdir(), "tributary-idempotency-"));
  const db = new Database(join(folder, "service.db"));
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE effects (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL)");
  return {
    store: sqliteIdempotencyStore(db),
    storeWithTable: (table) => sqliteIdempotencyStore(db, { table }),
    async writeEffect(transaction, eventId) {
      transaction.prepare("INSERT INTO effects (event_id) VALUES (?)").run(eventId);
    },
    async effects() {
      const rows = db.prepare("SELECT event_id FROM effects ORDER BY seq").all() as Array<{
        event_id: string;
      }>;
      return rows.map((row) => row.event_id);
    },
    async backdate(table, eventId) {
      db.prepare(`UPDATE ${table} SET processed_at = processed_at - 86400000 WHERE event_id = ?`).run(
        eventId,
      );
    },
    async close() {
      db.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

describeIdempotencyStore("postgres", async () => {
  const schema = await createTestSchema();
  const sql = postgres(schema.url, {
    max: 5,
    onnotice: () => {},
    connection: { search_path: schema.schema },
  });
  await sql`CREATE TABLE effects (seq bigserial PRIMARY KEY, event_id text NOT NULL)`;
  return {
    store: postgresIdempotencyStore(sql),
    storeWithTable: (table) => postgresIdempotencyStore(sql, { table }),
    async writeEffect(transaction, eventId) {
      await transaction`INSERT INTO effects (event_id) VALUES (${eventId})`;
    },
    async effects() {
      const rows = await sql<Array<{ event_id: string }>>`SELECT event_id FROM effects ORDER BY seq`;
      return rows.map((row) => row.event_id);
    },
    async backdate(table, eventId) {
      await sql`UPDATE ${sql(table)} SET processed_at = processed_at - interval '1 day' WHERE event_id = ${eventId}`;
    },
    async close() {
      await sql.end({ timeout: 5 });
      await schema.drop();
    },
  };
});
