import type { Database } from "better-sqlite3";
import { type SqliteMigration, sqliteMigrations } from "./migrations.js";

/**
 * Applies the migrations that `schema_migrations` does not list yet, in version order, and records
 * each. Everything runs in one `BEGIN IMMEDIATE` transaction: it takes the database's write lock
 * before reading what is applied, so when two processes migrate one file at once the second waits
 * (up to the busy timeout), then finds the work done. A failing migration rolls back all of them.
 * Returns the versions it applied (empty when the schema was current).
 */
export function applyMigrations(
  db: Database,
  migrations: readonly SqliteMigration[] = sqliteMigrations,
): number[] {
  const applied: number[] = [];
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL
      ) STRICT`);
    const done = new Set(db.prepare("SELECT version FROM schema_migrations").pluck().all() as number[]);
    const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, new Date().toISOString());
      applied.push(migration.version);
    }
    db.exec("COMMIT");
  } catch (error) {
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
  return applied;
}
