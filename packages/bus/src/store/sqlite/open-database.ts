import Database from "better-sqlite3";
import { isUnavailableError } from "./sqlite-errors.js";

/**
 * How long a statement waits for another connection's write lock before failing `SQLITE_BUSY`
 * (then `store-unavailable`): long enough to ride out another process's migration or checkpoint.
 */
export const busyTimeoutMs = 5_000;

/**
 * Opens (creating when missing) a database file with the settings the store's guarantees rest on:
 * WAL, so readers never block the writer; `synchronous = FULL`, so a transaction is on disk when
 * COMMIT returns (acknowledged means durable, even across power loss); a busy timeout, so a
 * competing connection waits instead of failing at once. `":memory:"` has no WAL and stays in
 * memory mode.
 */
export function openDatabase(path: string): Database.Database {
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const journalMode = switchToWal(db);
    if (journalMode !== "wal" && !(db.memory && journalMode === "memory")) {
      throw new Error(`SQLite refused WAL mode for ${path} (journal_mode is ${journalMode})`);
    }
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    // 64 MiB of page cache keeps the hot index pages of a large events table in memory.
    db.pragma("cache_size = -65536");
    db.pragma("temp_store = MEMORY");
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Makes `db` a connection that only reads, for a thread that must never wait for a lock (the
 * event loop): `query_only`, so that a write statement fails at once (`SQLITE_READONLY`) instead
 * of taking the write lock, and no busy timeout, so that a lock it meets fails at once
 * (`SQLITE_BUSY`) instead of blocking. In WAL mode reads need no lock that a writer holds.
 */
export function setReadOnly(db: Database.Database): void {
  db.pragma("query_only = ON");
  db.pragma("busy_timeout = 0");
}

/**
 * Runs `work` with the writes and the busy timeout of a connection made read-only by
 * `setReadOnly` back, then makes it read-only again (also when `work` throws).
 */
export function withWrites<T>(db: Database.Database, work: () => T): T {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma("query_only = OFF");
  try {
    return work();
  } finally {
    setReadOnly(db);
  }
}

/** Pause between attempts to switch a file to WAL while another connection holds it. */
const walRetryDelayMs = 10;

/**
 * Sets WAL mode and returns the journal mode in force. Switching a new file to WAL needs an
 * exclusive lock, and SQLite answers `SQLITE_BUSY` at once, without the busy handler, when another
 * process is opening or switching the same file: so it is retried here for up to the busy timeout.
 * The loop blocks the thread, as every better-sqlite3 call does; it only runs while opening.
 */
function switchToWal(db: Database.Database): string {
  const deadline = Date.now() + busyTimeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      const mode = String(db.pragma("journal_mode = WAL", { simple: true }));
      if (mode === "wal" || db.memory || Date.now() >= deadline) return mode;
    } catch (error) {
      if (!isUnavailableError(error) || Date.now() >= deadline) throw error;
    }
    Atomics.wait(pause, 0, 0, walRetryDelayMs);
  }
}
