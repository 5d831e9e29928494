import { createSqliteStore } from "@tributary/bus";
import Database from "better-sqlite3";

/**
 * A raw-driver writer on a fresh SQLite file with the durability the bus promises (WAL,
 * `synchronous=FULL`): the fastest honest way to put the same rows in with better-sqlite3, a
 * prepared statement run in a loop inside one transaction per batch.
 */
export async function createRawSqliteWriter({ path }) {
  // The bus's own migrations, so the raw driver writes to the very same `events` table, with the
  // same constraints and indexes. It only uses that table: it keeps no partition heads and reads no
  // stream versions, it inserts rows computed ahead.
  const store = createSqliteStore({ path });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  // The bus's page-cache size too, so that the baseline is not slowed by a smaller cache.
  db.pragma("cache_size = -65536");
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
