import type { DeliveredEvent } from "@tributary/protocol";
import type { EventHandler, HandlerContext } from "./consumer.js";

/**
 * The record of handled events in a service's own database, next to the data its handlers write.
 * `Transaction` is what a handler writes through: the store's transaction or connection.
 */
export interface IdempotencyStore<Transaction> {
  /**
   * Runs `work` in one transaction of the service's database together with recording
   * (`scope`, `eventId`) as processed: both commit, or neither does (when `work` throws, which
   * rethrows). When the pair is already recorded, `work` does not run and this resolves `false`.
   * Two instances running the same event at once are serialized by the record's key: the second
   * waits for the first to commit, then skips (or runs, if the first rolled back).
   */
  runOnce(
    scope: string,
    eventId: string,
    work: (transaction: Transaction) => Promise<void>,
  ): Promise<boolean>;
  /** Creates the table if it is missing. `runOnce` and `purge` call it on first use. */
  createTable(): Promise<void>;
  /**
   * Deletes the records of events processed before `olderThan`, resolving with how many. Once an
   * event's record is gone a redelivery of it would run again, so keep records longer than an event
   * can take to be delivered again: longer than the ack timeout and backoff, and longer than any
   * replay (`reset`) you may run over old events — e.g. the topic's retention.
   */
  purge(options: { olderThan: Date }): Promise<number>;
}

/** What the idempotency stores take besides the database. */
export interface IdempotencyStoreOptions {
  /** The table of processed events, optionally schema-qualified (default `processed_events`). */
  table?: string;
}

/** A handler that writes its effects through `transaction`, so that they commit with the record. */
export type TransactionalHandler<Transaction> = (
  event: DeliveredEvent,
  transaction: Transaction,
  context: HandlerContext,
) => Promise<void> | void;

export interface IdempotentOptions<Transaction> {
  store: IdempotencyStore<Transaction>;
  /**
   * Whose processing is recorded: by default the subscription (consumer group) name, so that two
   * subscriptions of one service each handle an event once.
   */
  scope?: string;
}

/**
 * Makes a handler's effects happen once per event even though delivery is at least once: it runs
 * the handler in a transaction of the service's own database together with an insert of the event id
 * into the processed-events table, and skips events already recorded. Effects outside that database
 * (an e-mail, an HTTP call) are not covered: they can still happen twice.
 *
 * @example
 * const store = postgresIdempotencyStore(sql);
 * await client.subscribe("billing", { topic: "orders" }, idempotent(async (event, tx) => {
 *   await tx`INSERT INTO invoices ${tx({ order_id: event.key, amount: event.data.total })}`;
 * }, { store }));
 */
export function idempotent<Transaction>(
  handler: TransactionalHandler<Transaction>,
  options: IdempotentOptions<Transaction>,
): EventHandler {
  return async (event, context) => {
    await options.store.runOnce(options.scope ?? context.subscription, event.id, async (transaction) => {
      await handler(event, transaction, context);
    });
  };
}

const tableNamePattern = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** The table name as a quoted SQL identifier; anything but plain (schema.)name is refused. */
export function quoteTableName(table: string): string {
  if (!tableNamePattern.test(table)) {
    throw new TypeError(`invalid table name ${JSON.stringify(table)}: expected name or schema.name`);
  }
  return table
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}
