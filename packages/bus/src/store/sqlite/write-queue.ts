import type { WriteStatement } from "./writer-protocol.js";

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** A statement of the queue: with a `row` key, a later statement for the same row replaces it. */
export interface QueuedStatement {
  sql: string;
  /**
   * Its parameters, or a function that computes them when the statement is written: a row replaced
   * before then (a partition's pending deliveries, rewritten by every poll and ack) is never
   * serialized at all. The function must see the values as they were queued.
   */
  params: WriteStatement["params"] | (() => WriteStatement["params"]);
  /**
   * The row the statement sets whole (an UPDATE of every column, an upsert, a DELETE): only the
   * last statement queued for a row needs to run.
   */
  row?: string;
}

export interface WriteQueueOptions {
  write(statements: WriteStatement[], durable: boolean): Promise<void>;
  /** Hears of every failed transaction, after its waiters. */
  onFailure(error: unknown): void;
  /** How long writes that may be lost wait for company before they are committed (default 50 ms). */
  lingerMs?: number;
}

/**
 * Coalesces subscription writes into few transactions. A write that may be lost on a crash waits
 * up to `lingerMs` for others; of several statements for one row only the last runs. So polls and
 * acks at thousands a second cost a few commits a second, which keeps the WAL small and the
 * appends' commits fast. A durable write goes at once (with everything queued before it) and
 * resolves when committed. Statements keep their order, rows aside.
 */
export class WriteQueue {
  readonly #options: WriteQueueOptions;
  readonly #lingerMs: number;
  #queued: QueuedStatement[] = [];
  /** Index in `#queued` of the statement queued last for each row. */
  #rows = new Map<string, number>();
  #isDurable = false;
  #waiters: Waiter[] = [];
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: WriteQueueOptions) {
    this.#options = options;
    this.#lingerMs = options.lingerMs ?? 50;
  }

  /** Resolves once the statements committed; rejects with their transaction's error. */
  enqueue(statements: QueuedStatement[], durable: boolean): Promise<void> {
    if (statements.length === 0) return Promise.resolve();
    for (const statement of statements) {
      const earlier = statement.row === undefined ? undefined : this.#rows.get(statement.row);
      if (earlier !== undefined) {
        this.#queued[earlier] = statement;
      } else {
        if (statement.row !== undefined) this.#rows.set(statement.row, this.#queued.length);
        this.#queued.push(statement);
      }
    }
    this.#isDurable ||= durable;
    const written = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (durable) this.#startFlush();
    else this.#timer ??= setTimeout(() => this.#startFlush(), this.#lingerMs);
    return written;
  }

  /** Commits what is queued now and resolves when everything queued so far is written (or failed). */
  async drain(): Promise<void> {
    if (this.#queued.length > 0) this.#startFlush();
    while (this.#flushing !== undefined) await this.#flushing;
  }

  #startFlush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#flushing !== undefined || this.#queued.length === 0) return;
    this.#flushing = this.#flush().then(() => {
      this.#flushing = undefined;
      // Queued between the last round and now: it must not wait for a trigger that already passed.
      if (this.#queued.length > 0) this.#startFlush();
    });
  }

  /** Writes rounds of what is queued until nothing is. */
  async #flush(): Promise<void> {
    while (this.#queued.length > 0) {
      const statements = this.#queued.map(({ sql, params }) => ({
        sql,
        params: typeof params === "function" ? params() : params,
      }));
      const durable = this.#isDurable;
      const waiters = this.#waiters;
      this.#queued = [];
      this.#rows = new Map();
      this.#isDurable = false;
      this.#waiters = [];
      try {
        await this.#options.write(statements, durable);
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of waiters) waiter.reject(error);
        try {
          this.#options.onFailure(error);
        } catch {
          // A failing listener must not stop the queue: later rounds would never be written.
        }
      }
    }
  }
}
