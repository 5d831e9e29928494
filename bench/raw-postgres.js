import { createPostgresStore } from "@tributary/bus";
import postgres from "postgres";

/** Opens a pool on `databaseUrl` whose connections all use `schema`, without notices on stderr. */
export function connect(databaseUrl, { schema, max = 1 } = {}) {
  return postgres(databaseUrl, {
    max,
    onnotice: () => {},
    ...(schema === undefined ? {} : { connection: { search_path: schema } }),
  });
}

/**
 * A raw-driver writer on a fresh schema of the benchmark database: the fastest honest way to put
 * the same rows in with the `postgres` package.
 */
export async function createRawPostgresWriter({ databaseUrl, schema, connections = 1 }) {
  // The bus's own migrations, so the raw driver writes to the very same `events` table, with the
  // same constraints and indexes. It only uses that table: it keeps no partition heads and reads no
  // stream versions, it inserts rows computed ahead.
  const store = createPostgresStore({ url: databaseUrl, schema, maxConnections: 1 });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  const sql = connect(databaseUrl, { schema, max: connections });

  return {
    /**
     * Inserts `rows` as one transaction: a single `INSERT … SELECT FROM unnest(arrays)` statement in
     * autocommit, i.e. one round trip and one commit per batch, with a statement prepared once.
     */
    async insertBatch(rows) {
      const column = (name) => rows.map((row) => row[name]);
      await sql`
        INSERT INTO events (id, topic, partition, "offset", key, version, type, time, data, metadata, digest)
        SELECT id, topic, partition, "offset", key, version, type, now(), data::jsonb, metadata::jsonb, digest
        FROM unnest(
          ${column("id")}::text[], ${column("topic")}::text[], ${column("partition")}::int[],
          ${column("offset")}::int8[], ${column("key")}::text[], ${column("version")}::int8[],
          ${column("type")}::text[], ${column("dataJson")}::text[], ${column("metadataJson")}::text[],
          ${column("digest")}::text[]
        ) AS batch (id, topic, partition, "offset", key, version, type, data, metadata, digest)`;
    },
    /** Inserts one row in its own transaction (autocommit: one commit, one WAL flush). */
    async insertOne(row) {
      await sql`
        INSERT INTO events (id, topic, partition, "offset", key, version, type, time, data, metadata, digest)
        VALUES (${row.id}, ${row.topic}, ${row.partition}, ${row.offset}, ${row.key}, ${row.version},
                ${row.type}, now(), ${row.dataJson}::jsonb, ${row.metadataJson}::jsonb, ${row.digest})`;
    },
    /** Rows in the table (a check that the run stored what it claims). */
    async countRows() {
      const [{ count }] = await sql`SELECT count(*)::int AS count FROM events`;
      return count;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * Creates a database for one benchmark run (named `<prefix>_<time>_<pid>`) and returns its URL and
 * a `drop` that removes it with whatever is still connected (`WITH (FORCE)`, PostgreSQL 13+).
 */
export async function createBenchDatabase(adminUrl, prefix = "tributary_bench") {
  const name = `${prefix}_${Date.now()}_${process.pid}`;
  const admin = connect(adminUrl, {});
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    const settings = await admin`
      SELECT name, setting FROM pg_settings
      WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', 'server_version')`;
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    let dropping;
    return {
      name,
      url: url.toString(),
      settings: Object.fromEntries(settings.map((row) => [row.name, row.setting])),
      drop() {
        dropping ??= (async () => {
          await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          await admin.end({ timeout: 5 });
        })();
        return dropping;
      },
    };
  } catch (error) {
    await admin.end({ timeout: 5 });
    throw error;
  }
}
