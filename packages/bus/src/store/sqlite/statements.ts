import type { ValidationPolicy } from "@tributary/protocol";
import type { Database, Statement } from "better-sqlite3";
import { type DeliveryTuple, deliveryColumns, type EventRow, eventColumns } from "./event-row.js";

/** A stored event as the idempotency check needs it: its coordinates and content digest. */
export interface StoredIdentityRow {
  id: string;
  topic: string;
  partition: number;
  offset: number;
  position: number;
  version: number | null;
  time: string;
  digest: string;
}

export interface TopicRow {
  name: string;
  partitions: number;
  retention: string;
  validation: ValidationPolicy;
  created_at: string;
}

export interface HeadRow {
  topic: string;
  partition: number;
  next_offset: number;
}

/**
 * Every fixed statement of the store, prepared once per connection. They are prepared on first use
 * rather than at open because preparing needs the tables, which exist only after `migrate()`.
 */
export interface SqliteStatements {
  insertEvent: Statement<
    [string, string, number, number, string | null, number | null, string, string, string, string, string]
  >;
  /** The stored events among a JSON array of ids: one statement, no bound-variable limit. */
  selectStoredIds: Statement<[string], StoredIdentityRow>;
  /** Current versions of the streams of one topic among a JSON array of keys. */
  selectVersions: Statement<[string, string], { key: string; version: number }>;
  updateNextOffset: Statement<[number, string, number]>;
  upsertStream: Statement<[string, string, number]>;

  selectTopic: Statement<[string], TopicRow>;
  selectTopics: Statement<[], TopicRow>;
  selectPartitionCount: Statement<[string], number>;
  selectHeads: Statement<[string], number>;
  selectAllHeads: Statement<[], HeadRow>;
  insertTopic: Statement<[string, number, string, string]>;
  insertPartition: Statement<[string, number]>;
  updateValidation: Statement<[string, string]>;
  updateRetention: Statement<[string, string]>;

  readPartition: Statement<[string, number, number, number], EventRow>;
  /** Raw rows: arrays rather than objects, as there are thousands per catch-up read. */
  readPartitionForDelivery: Statement<[string, number, number, number], DeliveryTuple>;
  readKey: Statement<[string, string, number, number], EventRow>;
  readKeyAsOf: Statement<[string, string, number, string, number], EventRow>;
  getEvent: Statement<[string], EventRow>;
  /** The commit time and position of the event at an offset, if stored. */
  selectEventTimeAt: Statement<[string, number, number], { time: string; position: number }>;
  /** The lowest stored offset of a partition (null when it has no events). */
  selectFirstOffset: Statement<[string, number], number | null>;
  ping: Statement<[], number>;
}

export function prepareStatements(db: Database): SqliteStatements {
  return {
    insertEvent: db.prepare(
      `INSERT INTO events (id, topic, "partition", "offset", key, version, type, time, data, metadata, digest)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    selectStoredIds: db.prepare(
      `SELECT id, topic, "partition" AS partition, "offset" AS offset, position, version, time, digest
       FROM events WHERE id IN (SELECT value FROM json_each(?))`,
    ),
    selectVersions: db.prepare(
      "SELECT key, version FROM streams WHERE topic = ? AND key IN (SELECT value FROM json_each(?))",
    ),
    updateNextOffset: db.prepare(`UPDATE partitions SET next_offset = ? WHERE topic = ? AND "partition" = ?`),
    upsertStream: db.prepare(
      `INSERT INTO streams (topic, key, version) VALUES (?, ?, ?)
       ON CONFLICT (topic, key) DO UPDATE SET version = excluded.version`,
    ),

    selectTopic: db.prepare(
      "SELECT name, partitions, retention, validation, created_at FROM topics WHERE name = ?",
    ),
    selectTopics: db.prepare(
      "SELECT name, partitions, retention, validation, created_at FROM topics ORDER BY name",
    ),
    selectPartitionCount: db
      .prepare<[string], number>("SELECT partitions FROM topics WHERE name = ?")
      .pluck(),
    selectHeads: db
      .prepare<[string], number>(`SELECT next_offset FROM partitions WHERE topic = ? ORDER BY "partition"`)
      .pluck(),
    selectAllHeads: db.prepare(
      `SELECT topic, "partition" AS partition, next_offset FROM partitions ORDER BY topic, "partition"`,
    ),
    insertTopic: db.prepare(
      "INSERT INTO topics (name, partitions, retention, created_at) VALUES (?, ?, ?, ?)",
    ),
    insertPartition: db.prepare(`INSERT INTO partitions (topic, "partition", next_offset) VALUES (?, ?, 0)`),
    updateRetention: db.prepare("UPDATE topics SET retention = ? WHERE name = ?"),
    updateValidation: db.prepare("UPDATE topics SET validation = ? WHERE name = ?"),

    readPartition: db.prepare(
      `SELECT ${eventColumns} FROM events
       WHERE topic = ? AND "partition" = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?`,
    ),
    readPartitionForDelivery: db
      .prepare<[string, number, number, number], DeliveryTuple>(
        `SELECT ${deliveryColumns} FROM events
         WHERE topic = ? AND "partition" = ? AND "offset" >= ? ORDER BY "offset" LIMIT ?`,
      )
      .raw(true),
    readKey: db.prepare(
      `SELECT ${eventColumns} FROM events
       WHERE topic = ? AND key = ? AND version >= ? ORDER BY version LIMIT ?`,
    ),
    readKeyAsOf: db.prepare(
      `SELECT ${eventColumns} FROM events
       WHERE topic = ? AND key = ? AND version >= ? AND time <= ? ORDER BY version LIMIT ?`,
    ),
    getEvent: db.prepare(`SELECT ${eventColumns} FROM events WHERE id = ?`),
    selectEventTimeAt: db.prepare(
      `SELECT time, position FROM events WHERE topic = ? AND "partition" = ? AND "offset" = ?`,
    ),
    selectFirstOffset: db
      .prepare<[string, number], number | null>(
        `SELECT min("offset") FROM events WHERE topic = ? AND "partition" = ?`,
      )
      .pluck(),
    ping: db.prepare<[], number>("SELECT 1").pluck(),
  };
}
