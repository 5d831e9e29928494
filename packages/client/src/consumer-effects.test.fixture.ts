import Database from "better-sqlite3";
import postgres from "postgres";
import type { EventHandler } from "./consumer.js";
import { idempotent } from "./idempotent.js";
import { postgresIdempotencyStore } from "./postgres-idempotency-store.js";
import { sqliteIdempotencyStore } from "./sqlite-idempotency-store.js";

/** Where the consumers of the shared-subscription tests write their effects (a service's database). */
export type EffectsLocation =
  | { kind: "sqlite"; file: string }
  | { kind: "postgres"; url: string; schema: string };

/** One effect of the example domain: a user event applied by one consumer instance. */
export interface Effect {
  eventId: string;
  key: string;
  version: number;
  consumer: string;
}

export interface Effects {
  /** Applies each event once across every instance, recording which instance did. */
  handler(consumer: string): EventHandler;
  /** Every effect in commit order. */
  list(): Promise<Effect[]>;
  close(): Promise<void>;
}

/** Opens the effects database; `create` makes its table (once, by the test that owns it). */
export async function openEffects(location: EffectsLocation, create = false): Promise<Effects> {
  if (location.kind === "sqlite") {
    const db = new Database(location.file, { timeout: 10_000 });
    db.pragma("journal_mode = WAL");
    if (create) {
      db.exec(
        "CREATE TABLE IF NOT EXISTS effects (seq INTEGER PRIMARY KEY, event_id TEXT, key TEXT, version INTEGER, consumer TEXT)",
      );
    }
    const store = sqliteIdempotencyStore(db);
    if (create) await store.createTable();
    return {
      handler: (consumer) =>
        idempotent(
          async (event, transaction) => {
            transaction
              .prepare("INSERT INTO effects (event_id, key, version, consumer) VALUES (?, ?, ?, ?)")
              .run(event.id, event.key, event.version, consumer);
          },
          { store },
        ),
      async list() {
        const rows = db
          .prepare("SELECT event_id, key, version, consumer FROM effects ORDER BY seq")
          .all() as Array<{ event_id: string; key: string; version: number; consumer: string }>;
        return rows.map((row) => ({
          eventId: row.event_id,
          key: row.key,
          version: row.version,
          consumer: row.consumer,
        }));
      },
      async close() {
        db.close();
      },
    };
  }
  const sql = postgres(location.url, {
    max: 4,
    onnotice: () => {},
    connection: { search_path: location.schema },
  });
  if (create) {
    await sql`CREATE TABLE IF NOT EXISTS effects (seq bigserial PRIMARY KEY, event_id text, key text, version integer, consumer text)`;
  }
  const store = postgresIdempotencyStore(sql);
  if (create) await store.createTable();
  return {
    handler: (consumer) =>
      idempotent(
        async (event, transaction) => {
          await transaction`INSERT INTO effects (event_id, key, version, consumer)
            VALUES (${event.id}, ${event.key}, ${event.version ?? null}, ${consumer})`;
        },
        { store },
      ),
    async list() {
      const rows = await sql<Array<{ event_id: string; key: string; version: number; consumer: string }>>`
        SELECT event_id, key, version, consumer FROM effects ORDER BY seq`;
      return rows.map((row) => ({
        eventId: row.event_id,
        key: row.key,
        version: row.version,
        consumer: row.consumer,
      }));
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
