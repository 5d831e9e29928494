import type { ReservedSql, Sql, TransactionSql } from "postgres";
import { isConnectionLost } from "./store-errors.js";

/**
 * Waits for every query of a pipeline and returns their results, or throws the first failure (in
 * pipeline order) once all of them have settled, so that the connection is idle again. A lost
 * connection is thrown at once: the driver (postgres 3.4.9) may never settle the queries queued
 * behind the one that saw the connection close, and that connection is not used again anyway.
 */
export function settleAll<T extends readonly unknown[]>(
  queries: readonly [...{ [K in keyof T]: PromiseLike<T[K]> }],
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const settled: PromiseSettledResult<unknown>[] = new Array(queries.length);
    let pending = queries.length;
    const finish = () => {
      pending -= 1;
      if (pending > 0) return;
      const values: unknown[] = [];
      for (const result of settled) {
        if (result.status === "rejected") {
          reject(result.reason);
          return;
        }
        values.push(result.value);
      }
      resolve(values as unknown as T);
    };
    if (pending === 0) resolve([] as unknown as T);
    queries.forEach((query, index) => {
      Promise.resolve(query).then(
        (value) => {
          settled[index] = { status: "fulfilled", value };
          finish();
        },
        (reason: unknown) => {
          if (isConnectionLost(reason)) reject(reason);
          settled[index] = { status: "rejected", reason };
          finish();
        },
      );
    });
  });
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

/** A transaction whose BEGIN and COMMIT travel in the same pipelines as its queries. */
export interface PipelinedTransaction {
  /** The transaction's own connection: queries sent without awaiting each other form one pipeline. */
  sql: ReservedSql;
  /** The BEGIN, already sent: settle it together with the first pipeline. */
  begun: Promise<unknown>;
  /** Sends COMMIT behind the queries sent so far; settle it together with the last pipeline. */
  commit(): Promise<void>;
}

/**
 * Runs `work` in one transaction on a reserved connection, in as few round trips as its pipelines:
 * BEGIN goes out with the first pipeline and COMMIT with the last, where `sql.begin` would wait a
 * round trip for each. A query that fails aborts the transaction, so every later query of the
 * pipeline fails too and the COMMIT behind them ends it as a rollback; `commit()` settles only when
 * the server answered COMMIT. When `work` throws, or returns without committing, the transaction is
 * rolled back, except on a lost connection (the server rolls back the dead session itself, and the
 * driver must not write to a closed socket); then the lost-connection error is what is thrown.
 */
export async function withPipelinedTransaction<T>(
  pool: Sql,
  work: (transaction: PipelinedTransaction) => Promise<T>,
): Promise<T> {
  const sql = await pool.reserve();
  let committed = false;
  const quiet = <P extends Promise<unknown>>(promise: P): P => {
    // Settled by the caller's pipeline; this only keeps an early failure from going unhandled.
    promise.catch(() => undefined);
    return promise;
  };
  const begun = quiet(sql`BEGIN`.execute());
  const commit = () =>
    quiet(
      (async () => {
        const result = await sql`COMMIT`.execute();
        if (result.command !== "COMMIT") throw new Error(`the transaction ended with ${result.command}`);
        committed = true;
      })(),
    );
  let result: T;
  try {
    result = await work({ sql, begun, commit });
    if (!committed) throw new Error("the transaction's work returned without committing");
  } catch (error) {
    // A lost connection is never handed back: the driver (postgres 3.4.9) would put it among its
    // open connections, and the next write to its closed socket throws from a timer, where nothing
    // can catch it. The pool that owns it is retired on this error and ends it.
    if (isConnectionLost(error)) throw error;
    if (!committed) {
      try {
        await sql`ROLLBACK`.execute();
      } catch (rollbackError) {
        if (isConnectionLost(rollbackError)) throw rollbackError;
      }
    }
    sql.release();
    throw error;
  }
  sql.release();
  return result;
}
