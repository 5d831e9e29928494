import type { CompatibilityMode } from "@tributary/protocol";
import type { Sql } from "postgres";
import type {
  RegistryStore,
  RegistryTransaction,
  StoredSchemaVersion,
} from "../../registry/registry-store.js";
import { withTransaction } from "./transaction.js";

interface VersionRow {
  subject: string;
  version: number;
  schema_id: string;
  schema: string;
  deleted: boolean;
  created_at: Date;
}

function toVersion(row: VersionRow): StoredSchemaVersion {
  return {
    subject: row.subject,
    version: row.version,
    id: Number(row.schema_id),
    schema: row.schema,
    deleted: row.deleted,
    createdAt: row.created_at.toISOString(),
  };
}

/** Any one key: registry changes of every process sharing the schema take turns on it. */
const registryLockKey = 0x7472_6962;

export interface PostgresRegistryStoreOptions {
  /** Runs work on the pool, mapping driver failures to store errors. */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  notify: { channel: string; source: string };
  /** Registry changes committed by other processes, heard on the schema's channel. */
  onRemoteChange(listener: () => void): () => void;
}

/**
 * The registry on PostgreSQL. A change runs in one transaction that first takes a transaction-level
 * advisory lock, so changes from every bus process run one at a time (registrations are rare; one
 * lock keeps "compare with the latest versions, then add one" simple and safe). Its commit sends a
 * NOTIFY, so the other processes drop their cached schemas.
 */
export function createPostgresRegistryStore(options: PostgresRegistryStoreOptions): RegistryStore {
  const { run, notify } = options;
  const listeners = new Set<() => void>();
  const emit = () => {
    for (const listener of [...listeners]) listener();
  };
  const selectVersions = (sql: Sql, subject: string, deleted: boolean) =>
    sql<VersionRow[]>`
      SELECT v.subject, v.version, v.schema_id, s.schema, v.deleted, v.created_at
      FROM registry_versions v JOIN registry_schemas s ON s.id = v.schema_id
      WHERE v.subject = ${subject} AND (${deleted} OR NOT v.deleted)
      ORDER BY v.version`.then((rows) => rows.map(toVersion));
  const selectCompatibility = (sql: Sql, subject: string | null) =>
    sql<{ compatibility: CompatibilityMode }[]>`
      SELECT compatibility FROM registry_config WHERE subject = ${subject ?? ""}`.then(
      (rows) => rows[0]?.compatibility,
    );

  options.onRemoteChange(emit);

  return {
    subjects: ({ deleted }) =>
      run((sql) =>
        sql<{ subject: string }[]>`
          SELECT DISTINCT subject FROM registry_versions WHERE ${deleted} OR NOT deleted
          ORDER BY subject`.then((rows) => rows.map((row) => row.subject)),
      ),
    versions: (subject, { deleted }) => run((sql) => selectVersions(sql, subject, deleted)),
    schemaById: (id) =>
      run((sql) =>
        sql<{ schema: string }[]>`SELECT schema FROM registry_schemas WHERE id = ${id}`.then(
          (rows) => rows[0]?.schema,
        ),
      ),
    versionsOfSchema: (id) =>
      run((sql) =>
        sql<VersionRow[]>`
          SELECT v.subject, v.version, v.schema_id, s.schema, v.deleted, v.created_at
          FROM registry_versions v JOIN registry_schemas s ON s.id = v.schema_id
          WHERE v.schema_id = ${id}
          ORDER BY v.subject, v.version`.then((rows) => rows.map(toVersion)),
      ),
    compatibility: (subject) => run((sql) => selectCompatibility(sql, subject)),

    async transact(change) {
      let wrote = false;
      const result = await run((pool) =>
        withTransaction(pool, async (sql) => {
          await sql`SELECT pg_advisory_xact_lock(${registryLockKey})`;
          const asSql = sql as unknown as Sql;
          const transaction: RegistryTransaction = {
            versions: (subject) => selectVersions(asSql, subject, true),
            compatibility: (subject) => selectCompatibility(asSql, subject),
            async schemaId(schema) {
              const [existing] = await sql<{ id: string }[]>`
                SELECT id FROM registry_schemas WHERE schema = ${schema}`;
              if (existing !== undefined) return Number(existing.id);
              wrote = true;
              const [created] = await sql<{ id: string }[]>`
                INSERT INTO registry_schemas (id, schema)
                SELECT coalesce(max(id), 0) + 1, ${schema} FROM registry_schemas
                RETURNING id`;
              return Number(created?.id);
            },
            async insertVersion({ subject, version, id, createdAt }) {
              wrote = true;
              await sql`
                INSERT INTO registry_versions (subject, version, schema_id, created_at)
                VALUES (${subject}, ${version}, ${id}, ${createdAt})`;
            },
            async markDeleted(subject, versions, deleted) {
              wrote = true;
              await sql`
                UPDATE registry_versions SET deleted = ${deleted}
                WHERE subject = ${subject} AND version = ANY(${versions}::integer[])`;
            },
            async removeVersions(subject, versions) {
              wrote = true;
              await sql`
                DELETE FROM registry_versions
                WHERE subject = ${subject} AND version = ANY(${versions}::integer[])`;
            },
            async setCompatibility(subject, mode) {
              wrote = true;
              if (mode === null) await sql`DELETE FROM registry_config WHERE subject = ${subject ?? ""}`;
              else
                await sql`
                  INSERT INTO registry_config (subject, compatibility) VALUES (${subject ?? ""}, ${mode})
                  ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility`;
            },
          };
          const value = await change(transaction);
          if (wrote) {
            // Delivered to the other processes' LISTEN at COMMIT, and not at all on a rollback.
            const payload = JSON.stringify({ source: notify.source, registry: true });
            await sql`SELECT pg_notify(${notify.channel}, ${payload})`;
          }
          return value;
        }),
      );
      if (wrote) emit();
      return result;
    },

    onChange(listener) {
      const subscription = () => listener();
      listeners.add(subscription);
      return () => {
        listeners.delete(subscription);
      };
    },
  };
}
