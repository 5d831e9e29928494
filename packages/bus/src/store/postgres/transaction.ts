import type { Sql, TransactionSql } from "postgres";
import { isConnectionLost } from "./store-errors.js";

/**
 * Waits for every query of a pipeline and returns their results, or throws the first failure (in
 * pipeline order) once all of them have settled, so that the connection is idle again.
 */
export async function settleAll<T extends readonly unknown[]>(
  queries: readonly [...{ [K in keyof T]: PromiseLike<T[K]> }],
): Promise<T> {
  const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled(queries);
  const values: unknown[] = [];
  for (const result of settled) {
    if (result.status === "rejected") throw result.reason;
    values.push(result.value);
  }
  return values as unknown as T;
}

/** How long a transaction that saw a lost-connection error waits for the driver to notice the close. */
const closeNoticeMilliseconds = 10_000;

/**
 * Runs `work` in one transaction (`sql.begin`): COMMIT when it resolves, ROLLBACK when it throws.
 *
 * One exception, for a flaw of the driver (postgres 3.4.9): when the connection is lost inside the
 * transaction, `sql.begin` rejects by itself, but would then still send ROLLBACK on the closed
 * connection, which throws an uncatchable TypeError from a timer and brings the process down. So
 * once `work` fails with a lost connection, its callback never settles: the caller gets the
 * rejection of `sql.begin`, no ROLLBACK is sent (the server rolls back the dead session itself),
 * and the pool replaces its connections. Should the connection unexpectedly stay open, the failure
 * is thrown after a while and rolled back as usual.
 */
export async function withTransaction<T>(pool: Sql, work: (sql: TransactionSql) => Promise<T>): Promise<T> {
  let markEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    markEnded = resolve;
  });
  const transaction = pool.begin(async (sql) => {
    try {
      return await work(sql);
    } catch (error) {
      if (!isConnectionLost(error)) throw error;
      let timer: NodeJS.Timeout | undefined;
      const isClosed = await Promise.race([
        ended.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), closeNoticeMilliseconds);
        }),
      ]);
      clearTimeout(timer);
      if (isClosed) await new Promise<never>(() => {});
      throw error;
    }
  });
  transaction.then(markEnded, markEnded);
  return (await transaction) as T;
}
