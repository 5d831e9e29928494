import type { CompatibilityMode } from "@tributary/protocol";
import type { Database } from "better-sqlite3";
import type {
  RegistryStore,
  RegistryTransaction,
  StoredSchemaVersion,
} from "../../registry/registry-store.js";

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

export interface SqliteRegistryStoreOptions {
  db: Database;
  /** Throws `store-unavailable` once the store is closed. */
  assertOpen(): void;
  /** Maps a driver error to the store's errors. */
  toStoreError(error: unknown): unknown;
}

/**
 * The registry on SQLite: reads and writes on the store's own connection. Registry changes are
 * rare and small, so a change writes synchronously in one IMMEDIATE transaction (durable at once,
 * like a topic's creation) rather than through the append writer. One process owns the file, so a
 * promise chain in memory is enough to run changes one at a time.
 */
export function createSqliteRegistryStore(options: SqliteRegistryStoreOptions): RegistryStore {
  const { db } = options;
  const listeners = new Set<() => void>();
  let queue: Promise<unknown> = Promise.resolve();

  const read = <T>(work: () => T): Promise<T> => {
    try {
      options.assertOpen();
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(options.toStoreError(error));
    }
  };
  const versionsOf = (subject: string, deleted: boolean): StoredSchemaVersion[] =>
    (
      db
        .prepare(
          `SELECT ${versionColumns} WHERE v.subject = ? ${deleted ? "" : "AND v.deleted = 0"} ORDER BY v.version`,
        )
        .all(subject) as VersionRow[]
    ).map(toVersion);
  const compatibilityOf = (subject: string | null): CompatibilityMode | undefined =>
    (
      db.prepare("SELECT compatibility FROM registry_config WHERE subject = ?").get(subject ?? "") as
        | { compatibility: CompatibilityMode }
        | undefined
    )?.compatibility;

  async function runChange<T>(change: (transaction: RegistryTransaction) => Promise<T>): Promise<T> {
    options.assertOpen();
    const writes: (() => void)[] = [];
    const newIds = new Map<string, number>();
    let nextId: number | undefined;
    const transaction: RegistryTransaction = {
      versions: (subject) => read(() => versionsOf(subject, true)),
      compatibility: (subject) => read(() => compatibilityOf(subject)),
      async schemaId(schema) {
        const known =
          newIds.get(schema) ??
          (
            db.prepare("SELECT id FROM registry_schemas WHERE schema = ?").get(schema) as
              | { id: number }
              | undefined
          )?.id;
        if (known !== undefined) return known;
        nextId ??=
          ((db.prepare("SELECT max(id) AS id FROM registry_schemas").get() as { id: number | null }).id ??
            0) + 1;
        const id = nextId;
        nextId += 1;
        newIds.set(schema, id);
        writes.push(() =>
          db.prepare("INSERT INTO registry_schemas (id, schema) VALUES (?, ?)").run(id, schema),
        );
        return id;
      },
      async insertVersion({ subject, version, id, createdAt }) {
        writes.push(() =>
          db
            .prepare(
              "INSERT INTO registry_versions (subject, version, schema_id, created_at) VALUES (?, ?, ?, ?)",
            )
            .run(subject, version, id, createdAt),
        );
      },
      async markDeleted(subject, versions, deleted) {
        writes.push(() => {
          const statement = db.prepare(
            "UPDATE registry_versions SET deleted = ? WHERE subject = ? AND version = ?",
          );
          for (const version of versions) statement.run(deleted ? 1 : 0, subject, version);
        });
      },
      async removeVersions(subject, versions) {
        writes.push(() => {
          const statement = db.prepare("DELETE FROM registry_versions WHERE subject = ? AND version = ?");
          for (const version of versions) statement.run(subject, version);
        });
      },
      async setCompatibility(subject, mode) {
        writes.push(() => {
          if (mode === null) db.prepare("DELETE FROM registry_config WHERE subject = ?").run(subject ?? "");
          else
            db.prepare(
              `INSERT INTO registry_config (subject, compatibility) VALUES (?, ?)
               ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility`,
            ).run(subject ?? "", mode);
        });
      },
    };
    const result = await change(transaction);
    if (writes.length > 0) {
      try {
        options.assertOpen();
        db.transaction(() => {
          for (const write of writes) write();
        }).immediate();
      } catch (error) {
        throw options.toStoreError(error);
      }
      for (const listener of [...listeners]) listener();
    }
    return result;
  }

  return {
    subjects: ({ deleted }) =>
      read(() =>
        (
          db
            .prepare(
              `SELECT DISTINCT subject FROM registry_versions ${deleted ? "" : "WHERE deleted = 0"} ORDER BY subject`,
            )
            .all() as { subject: string }[]
        ).map((row) => row.subject),
      ),
    versions: (subject, { deleted }) => read(() => versionsOf(subject, deleted)),
    schemaById: (id) =>
      read(
        () =>
          (
            db.prepare("SELECT schema FROM registry_schemas WHERE id = ?").get(id) as
              | { schema: string }
              | undefined
          )?.schema,
      ),
    versionsOfSchema: (id) =>
      read(() =>
        (
          db
            .prepare(`SELECT ${versionColumns} WHERE v.schema_id = ? ORDER BY v.subject, v.version`)
            .all(id) as VersionRow[]
        ).map(toVersion),
      ),
    compatibility: (subject) => read(() => compatibilityOf(subject)),
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
