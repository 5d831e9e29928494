import type { CompatibilityMode } from "@tributary/protocol";
import type { Database } from "better-sqlite3";
import type {
  RegistryStore,
  RegistryTransaction,
  StoredSchemaVersion,
} from "../../registry/registry-store.js";
import type { RunWriteOperation } from "./write-operations.js";
import type { WriteStatement } from "./writer-protocol.js";

interface VersionRow {
  subject: string;
  version: number;
  schema_id: number;
  schema: string;
  deleted: number;
  created_at: string;
}

const versionColumns = `v.subject, v.version, v.schema_id, s.schema, v.deleted, v.created_at
  FROM registry_versions v JOIN registry_schemas s ON s.id = v.schema_id`;

function toVersion(row: VersionRow): StoredSchemaVersion {
  return {
    subject: row.subject,
    version: row.version,
    id: row.schema_id,
    schema: row.schema,
    deleted: row.deleted === 1,
    createdAt: row.created_at,
  };
}

const insertSchemaSql = "INSERT INTO registry_schemas (id, schema) VALUES (?, ?)";
const insertVersionSql =
  "INSERT INTO registry_versions (subject, version, schema_id, created_at) VALUES (?, ?, ?, ?)";
const markDeletedSql = "UPDATE registry_versions SET deleted = ? WHERE subject = ? AND version = ?";
const removeVersionSql = "DELETE FROM registry_versions WHERE subject = ? AND version = ?";
const removeCompatibilitySql = "DELETE FROM registry_config WHERE subject = ?";
const setCompatibilitySql = `INSERT INTO registry_config (subject, compatibility) VALUES (?, ?)
  ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility`;

/** The registry's reads, prepared once per connection. */
function prepareReads(db: Database) {
  return {
    versions: db.prepare<[string], VersionRow>(
      `SELECT ${versionColumns} WHERE v.subject = ? ORDER BY v.version`,
    ),
    liveVersions: db.prepare<[string], VersionRow>(
      `SELECT ${versionColumns} WHERE v.subject = ? AND v.deleted = 0 ORDER BY v.version`,
    ),
    compatibility: db.prepare<[string], { compatibility: CompatibilityMode }>(
      "SELECT compatibility FROM registry_config WHERE subject = ?",
    ),
    schemaIdOf: db.prepare<[string], number>("SELECT id FROM registry_schemas WHERE schema = ?").pluck(),
    maxSchemaId: db.prepare<[], number | null>("SELECT max(id) FROM registry_schemas").pluck(),
    subjects: db
      .prepare<[], string>("SELECT DISTINCT subject FROM registry_versions ORDER BY subject")
      .pluck(),
    liveSubjects: db
      .prepare<[], string>(
        "SELECT DISTINCT subject FROM registry_versions WHERE deleted = 0 ORDER BY subject",
      )
      .pluck(),
    schemaById: db.prepare<[number], string>("SELECT schema FROM registry_schemas WHERE id = ?").pluck(),
    versionsOfSchema: db.prepare<[number], VersionRow>(
      `SELECT ${versionColumns} WHERE v.schema_id = ? ORDER BY v.subject, v.version`,
    ),
  };
}

export interface SqliteRegistryStoreOptions {
  /** The store's reading connection. */
  db: Database;
  /** Runs a write on the store's writing connection. */
  write: RunWriteOperation;
  /** Throws `store-unavailable` once the store is closed. */
  assertOpen(): void;
  /** Maps a driver error to the store's errors. */
  toStoreError(error: unknown): unknown;
}

/**
 * The registry on SQLite: reads on the store's own connection; a change's writes are gathered and
 * committed together in one durable transaction by the store's writer, and the change resolves
 * once they are. One process owns the file, so a promise chain in memory is enough to run changes
 * one at a time: what a change reads (the latest versions, the next schema id) cannot move before
 * its writes commit.
 */
export function createSqliteRegistryStore(options: SqliteRegistryStoreOptions): RegistryStore {
  const { db } = options;
  const listeners = new Set<() => void>();
  let queue: Promise<unknown> = Promise.resolve();
  let statements: ReturnType<typeof prepareReads> | undefined;

  const read = <T>(work: (prepared: ReturnType<typeof prepareReads>) => T): Promise<T> => {
    try {
      options.assertOpen();
      statements ??= prepareReads(db);
      return Promise.resolve(work(statements));
    } catch (error) {
      return Promise.reject(options.toStoreError(error));
    }
  };
  const versionsOf = (subject: string, deleted: boolean) =>
    read((prepared) => (deleted ? prepared.versions : prepared.liveVersions).all(subject).map(toVersion));
  const compatibilityOf = (subject: string | null) =>
    read((prepared) => prepared.compatibility.get(subject ?? "")?.compatibility);

  async function runChange<T>(change: (transaction: RegistryTransaction) => Promise<T>): Promise<T> {
    options.assertOpen();
    const writes: WriteStatement[] = [];
    const newIds = new Map<string, number>();
    let nextId: number | undefined;
    const transaction: RegistryTransaction = {
      versions: (subject) => versionsOf(subject, true),
      compatibility: (subject) => compatibilityOf(subject),
      async schemaId(schema) {
        const known = newIds.get(schema) ?? (await read((prepared) => prepared.schemaIdOf.get(schema)));
        if (known !== undefined) return known;
        nextId ??= ((await read((prepared) => prepared.maxSchemaId.get())) ?? 0) + 1;
        const id = nextId;
        nextId += 1;
        newIds.set(schema, id);
        writes.push({ sql: insertSchemaSql, params: [id, schema] });
        return id;
      },
      async insertVersion({ subject, version, id, createdAt }) {
        writes.push({ sql: insertVersionSql, params: [subject, version, id, createdAt] });
      },
      async markDeleted(subject, versions, deleted) {
        for (const version of versions) {
          writes.push({ sql: markDeletedSql, params: [deleted ? 1 : 0, subject, version] });
        }
      },
      async removeVersions(subject, versions) {
        for (const version of versions) writes.push({ sql: removeVersionSql, params: [subject, version] });
      },
      async setCompatibility(subject, mode) {
        writes.push(
          mode === null
            ? { sql: removeCompatibilitySql, params: [subject ?? ""] }
            : { sql: setCompatibilitySql, params: [subject ?? "", mode] },
        );
      },
    };
    const result = await change(transaction);
    if (writes.length > 0) {
      await options.write("statements", writes, true);
      for (const listener of [...listeners]) listener();
    }
    return result;
  }

  return {
    subjects: ({ deleted }) =>
      read((prepared) => (deleted ? prepared.subjects : prepared.liveSubjects).all()),
    versions: (subject, { deleted }) => versionsOf(subject, deleted),
    schemaById: (id) => read((prepared) => prepared.schemaById.get(id)),
    versionsOfSchema: (id) => read((prepared) => prepared.versionsOfSchema.all(id).map(toVersion)),
    compatibility: (subject) => compatibilityOf(subject),
    transact(change) {
      const result = queue.then(() => runChange(change));
      queue = result.catch(() => undefined);
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
