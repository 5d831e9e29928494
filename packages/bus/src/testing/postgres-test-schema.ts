import { randomBytes } from "node:crypto";
import postgres from "postgres";

/** A schema of its own for one test file or test. */
export interface TestSchema {
  /** The database URL (without the schema). */
  url: string;
  /** The schema's name, for `createPostgresStore({ url, schema })`. */
  schema: string;
  /** Drops the schema and everything in it. Idempotent. */
  drop(): Promise<void>;
}

/** The database the PostgreSQL tests use: `TRIBUTARY_TEST_POSTGRES_URL`, else the local default. */
export function testPostgresUrl(): string {
  return process.env["TRIBUTARY_TEST_POSTGRES_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

async function withConnection(url: string, work: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await work(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Creates a fresh, empty, uniquely named schema (`tributary_test_<random>`) in the test database,
 * so that test files running in parallel against one database never see each other's tables.
 * The store's `migrate()` fills it.
 */
export async function createTestSchema(): Promise<TestSchema> {
  const url = testPostgresUrl();
  const schema = `tributary_test_${randomBytes(6).toString("hex")}`;
  await withConnection(url, (sql) => sql`CREATE SCHEMA ${sql(schema)}`);
  return {
    url,
    schema,
    drop: () => withConnection(url, (sql) => sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`),
  };
}
