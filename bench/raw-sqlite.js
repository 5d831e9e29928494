import Database from "better-sqlite3";

/**
 * The bus's `events` table (SQLite migration 1) with its constraints and indexes, so the raw driver pays the
 * same index maintenance per row. Only the events table: the raw baseline keeps no partition heads
 * or stream versions, it inserts rows computed ahead.
 */
const eventsTable = `
CREATE TABLE events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  "partition" INTEGER NOT NULL,
  "offset" INTEGER NOT NULL,
  key TEXT,
  version INTEGER,
  type TEXT NOT NULL,
  time TEXT NOT NULL,
  data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  digest TEXT NOT NULL,
  UNIQUE (topic, "partition", "offset")
) STRICT;
CREATE UNIQUE INDEX events_stream_idx ON events (key, topic, version) WHERE key IS NOT NULL;
CREATE INDEX events_topic_idx ON events (topic);
CREATE INDEX events_type_idx ON events (type);
CREATE INDEX events_time_idx ON events (time);
CREATE INDEX events_correlation_idx ON events (json_extract(metadata, '$.correlationId'))
  WHERE json_extract(metadata, '$.correlationId') IS NOT NULL;
`;

/**
 * A raw-driver writer on a fresh SQLite file with the durability the bus promises (WAL,
 * `synchronous=FULL`): the fastest honest way to put the same rows in with better-sqlite3, a
 * prepared statement run in a loop inside one transaction per batch.
 */
export function createRawSqliteWriter({ path }) {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  // The bus's page-cache size too, so that the baseline is not slowed by a smaller cache.
  db.pragma("cache_size = -65536");
  db.exec(eventsTable);
  const insert = db.prepare(`
    INSERT INTO events (id, topic, "partition", "offset", key, version, type, time, data, metadata, digest)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertRow = (row, time) =>
    insert.run(
      row.id,
      row.topic,
      row.partition,
      row.offset,
      row.key,
      row.version,
      row.type,
      time,
      row.dataJson,
      row.metadataJson,
      row.digest,
    );
  const insertAll = db.transaction((rows, time) => {
    for (const row of rows) insertRow(row, time);
  });

  return {
    /** Inserts `rows` in one transaction (one commit, one WAL fsync). */
    async insertBatch(rows) {
      insertAll(rows, new Date().toISOString());
    },
    /** Inserts one row in its own transaction (autocommit: one commit, one WAL fsync). */
    async insertOne(row) {
      insertRow(row, new Date().toISOString());
    },
    /** Rows in the table (a check that the run stored what it claims). */
    async countRows() {
      return db.prepare("SELECT count(*) AS count FROM events").get().count;
    },
    async close() {
      if (db.open) db.close();
    },
  };
}
