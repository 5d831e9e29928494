import { type IdempotencyStore, type IdempotencyStoreOptions, quoteTableName } from "./idempotent.js";

/** What the store runs queries through: a postgres.js `Sql` or `TransactionSql` (typed by shape). */
export interface PostgresQueryable {
  unsafe(query: string, parameters?: unknown[]): PromiseLike<{ count: number }>;
}

/**
 * What the store needs of a postgres.js `Sql` instance: `begin` with options, whose callback's
 * transaction type is what handlers get (inferred from the instance passed in).
 */
export interface PostgresSql<Transaction extends PostgresQueryable> extends PostgresQueryable {
  begin(options: string, work: (transaction: Transaction) => Promise<unknown>): Promise<unknown>;
}

/** Concurrent `CREATE TABLE IF NOT EXISTS` may still collide in the catalogue: the table is there then. */
const alreadyExistsCodes = new Set(["23505", "42P07"]);

/**
 * The processed-events record in PostgreSQL through a postgres.js `Sql` instance: `sql.begin()` runs
 * the insert of the record and the handler, which gets the transaction (`tx`) to write through. The
 * record's primary key makes a second instance handling the same event wait for the first one's
 * commit, then skip it.
 *
 * @example
 * const sql = postgres(process.env.DATABASE_URL);
 * const store = postgresIdempotencyStore(sql, { table: "billing.processed_events" });
 * await client.subscribe("billing", { topic: "orders" }, idempotent(async (event, tx) => {
 *   await tx`UPDATE accounts SET balance = balance - ${event.data.total} WHERE id = ${event.key}`;
 * }, { store }));
 */
export function postgresIdempotencyStore<Transaction extends PostgresQueryable>(
  sql: PostgresSql<Transaction>,
  options: IdempotencyStoreOptions = {},
): IdempotencyStore<Transaction> {
  const table = quoteTableName(options.table ?? "processed_events");
  let created: Promise<void> | undefined;

  function createTable(): Promise<void> {
    created ??= (async () => {
      try {
        await sql.unsafe(
          `CREATE TABLE IF NOT EXISTS ${table} (
            scope text NOT NULL,
            event_id text NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, event_id)
          )`,
        );
      } catch (error) {
        if (!alreadyExistsCodes.has((error as { code?: string }).code ?? "")) throw error;
      }
    })().catch((error: unknown) => {
      created = undefined;
      throw error;
    });
    return created;
  }

  return {
    createTable,

    async runOnce(scope, eventId, work) {
      await createTable();
      let hasRun = false;
      await sql.begin("read write", async (transaction) => {
        const inserted = await transaction.unsafe(
          `INSERT INTO ${table} (scope, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          [scope, eventId],
        );
        if (inserted.count === 0) return;
        await work(transaction);
        hasRun = true;
      });
      return hasRun;
    },

    async purge({ olderThan }) {
      await createTable();
      const deleted = await sql.unsafe(`DELETE FROM ${table} WHERE processed_at < $1::timestamptz`, [
        olderThan.toISOString(),
      ]);
      return deleted.count;
    },
  };
}
