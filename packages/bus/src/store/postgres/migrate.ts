import type { Sql } from "postgres";
import { migrations } from "./migrations.js";
import { migrationLockName, quoteIdentifier } from "./schema-names.js";
import { withTransaction } from "./transaction.js";

/**
 * Brings `schema` up to the latest migration, creating the schema when missing. Everything runs in
 * one transaction under an advisory lock keyed by the schema name, so bus processes that start at
 * the same time migrate one after the other (the later ones find nothing to do) and a failed
 * migration leaves the schema as it was. Other schemas of the database are not blocked.
 */
export async function migrate(sql: Sql, schema: string): Promise<void> {
  const quoted = quoteIdentifier(schema);
  await withTransaction(sql, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${migrationLockName(schema)}, 0))`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    // The connections' search_path names the schema already; set it here too so that a schema
    // created by this very transaction is certainly the one the migrations write into.
    await tx.unsafe(`SET LOCAL search_path TO ${quoted}`);
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
    const applied = await tx<{ version: number }[]>`SELECT version FROM schema_migrations`;
    const appliedVersions = new Set(applied.map((row) => row.version));
    for (const migration of migrations) {
      if (appliedVersions.has(migration.version)) continue;
      await tx.unsafe(migration.sql).simple();
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${migration.version}, ${migration.name})`;
    }
  });
}
