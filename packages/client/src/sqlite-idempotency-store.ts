import { type IdempotencyStore, type IdempotencyStoreOptions, quoteTableName } from "./idempotent.js";

/** What the store needs of a better-sqlite3 `Database` (typed by shape: no dependency on the driver). */
export interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): { run(...parameters: unknown[]): { changes: number | bigint } };
  readonly inTransaction: boolean;
}

/** One queue per connection, so that two handlers never share one open transaction. */
const queues = new WeakMap<object, Promise<unknown>>();

function exclusive<T>(db: object, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(db) ?? Promise.resolve();
  const result = previous.then(work, work);
  queues.set(
    db,
    result.catch(() => {}),
  );
  return result;
}

/**
 * The processed-events record in a SQLite database opened with better-sqlite3; handlers get the
 * `Database` itself and write through it.
 *
 * better-sqlite3 runs statements synchronously and its `db.transaction()` cannot span an `await`, so
 * this store opens the transaction by hand: `BEGIN IMMEDIATE` (taking the write lock at once, so the
 * record and the effects cannot meet a conflicting writer halfway), the insert, the async handler,
 * `COMMIT` (or `ROLLBACK` when it throws). Handlers on one connection run one after another through
 * a per-connection queue; other processes wait on the file lock (the driver's busy timeout). While a
 * handler runs, anything else that uses the same connection outside this store joins the open
 * transaction: give the store a connection of its own, and keep handlers short, since the write lock
 * is held throughout.
 *
 * @example
 * const db = new Database("service.db");
 * db.pragma("journal_mode = WAL");
 * const store = sqliteIdempotencyStore(db);
 * await client.subscribe("profiles", { topic: "users" }, idempotent(async (event, db) => {
 *   db.prepare("INSERT INTO profiles (id, name) VALUES (?, ?)").run(event.key, event.data.name);
 * }, { store }));
 */
export function sqliteIdempotencyStore<Database extends SqliteDatabase>(
  db: Database,
  options: IdempotencyStoreOptions = {},
): IdempotencyStore<Database> {
  const table = quoteTableName(options.table ?? "processed_events");
  let isCreated = false;

  function createTableNow(): void {
    if (isCreated) return;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (
        scope TEXT NOT NULL,
        event_id TEXT NOT NULL,
        processed_at INTEGER NOT NULL,
        PRIMARY KEY (scope, event_id)
      ) WITHOUT ROWID`,
    );
    isCreated = true;
  }

  return {
    createTable: () => exclusive(db, async () => createTableNow()),

    runOnce(scope, eventId, work) {
      return exclusive(db, async () => {
        createTableNow();
        if (db.inTransaction) throw new Error("the connection is already in a transaction");
        db.exec("BEGIN IMMEDIATE");
        try {
          const inserted = db
            .prepare(
              `INSERT INTO ${table} (scope, event_id, processed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
            )
            .run(scope, eventId, Date.now());
          if (Number(inserted.changes) === 0) {
            db.exec("COMMIT");
            return false;
          }
          await work(db);
          db.exec("COMMIT");
          return true;
        } catch (error) {
          // SQLite may have rolled back already (e.g. on a full disk); a second ROLLBACK would throw.
          if (db.inTransaction) db.exec("ROLLBACK");
          throw error;
        }
      });
    },

    purge({ olderThan }) {
      return exclusive(db, async () => {
        createTableNow();
        const deleted = db.prepare(`DELETE FROM ${table} WHERE processed_at < ?`).run(olderThan.getTime());
        return Number(deleted.changes);
      });
    },
  };
}
