import { type SubscriptionInfo, TributaryError } from "@tributary/protocol";
import type { ReservedSql, Sql } from "postgres";
import type {
  ConsumerState,
  DeadLetterRecord,
  PartitionState,
  SubscriptionState,
  SubscriptionUpdate,
} from "../../subscriptions/subscription-store.js";
import {
  type ConsumerRow,
  deadLetterColumnArrays,
  definitionJson,
  type PartitionRow,
  partitionColumnArrays,
  toConsumerState,
  toPartitionState,
} from "./subscription-rows.js";
import { settleAll, withPipelinedTransaction } from "./transaction.js";

/**
 * Runs one subscription transaction in two round trips (besides `change`'s own reads):
 *
 * 1. BEGIN, lock the subscription row (FOR UPDATE, held to commit: other transactions of the
 *    subscription, from any bus process, wait here), read the clock, the partitions and the
 *    consumers. Pipelined statements run one after the other, so the clock is read after the lock
 *    was granted, and the reads see everything the previous holder committed. The clock is
 *    `clock_timestamp()`: `now()` is the transaction's start, which may lie long before the lock
 *    was granted, and leases computed from it would be short by the wait.
 * 2. After `change`, its writes and COMMIT.
 *
 * An unknown subscription rolls back and rejects `subscription-not-found`; when `change` throws,
 * the transaction rolls back and its error is rethrown as is.
 */
export function transactSubscription<T>(
  pool: Sql,
  name: string,
  change: (state: SubscriptionState) => Promise<SubscriptionUpdate<T>> | SubscriptionUpdate<T>,
  notify: { channel: string; source: string },
): Promise<T> {
  return withPipelinedTransaction(pool, async ({ sql, begun, commit }) => {
    const [, locked, clock, partitionRows, consumerRows] = await settleAll([
      begun,
      sql<{ definition: SubscriptionInfo }[]>`
        SELECT definition FROM subscriptions WHERE name = ${name} FOR UPDATE`.execute(),
      sql<{ now: string }[]>`
        SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`.execute(),
      sql<PartitionRow[]>`
        SELECT partition, checkpoint, cursor, pending, owner, lease_expires_at, ack_deadline, retry_at,
          last_error
        FROM subscription_partitions
        WHERE subscription = ${name}
        ORDER BY partition`.execute(),
      sql<ConsumerRow[]>`
        SELECT consumer, expires_at FROM subscription_consumers
        WHERE subscription = ${name}
        ORDER BY consumer`.execute(),
    ]);
    const subscription = locked[0]?.definition;
    if (subscription === undefined) {
      throw new TributaryError("subscription-not-found", { details: { subscription: name } });
    }
    const update = await change({
      now: Number(clock[0]?.now),
      subscription,
      partitions: partitionRows.map(toPartitionState),
      consumers: consumerRows.map(toConsumerState),
    });
    await settleAll([...sendWrites(sql, name, update, notify), commit()]);
    return update.result;
  });
}

/** The last entry of each key: what a sequence of writes to one row would leave. */
function lastByKey<E, K>(entries: readonly E[], key: (entry: E) => K): E[] {
  const byKey = new Map<K, E>();
  for (const entry of entries) {
    byKey.delete(key(entry));
    byKey.set(key(entry), entry);
  }
  return [...byKey.values()];
}

/**
 * Sends the update's writes without waiting, each as one statement, so that they travel in one
 * pipeline with the COMMIT. Deletions go before insertions, so a consumer or dead letter that an
 * update both deletes and writes ends up written: the update's newest word on the row.
 */
function sendWrites(
  sql: ReservedSql,
  name: string,
  update: SubscriptionUpdate<unknown>,
  notify: { channel: string; source: string },
): Promise<unknown>[] {
  const writes: Promise<unknown>[] = [];
  if (update.announce === true) {
    // Delivered to the other processes' LISTEN at COMMIT, and not at all on a rollback.
    const payload = JSON.stringify({ source: notify.source, subscription: name });
    writes.push(sql`SELECT pg_notify(${notify.channel}, ${payload})`.execute());
  }
  // Losing such an update to a database crash only means delivering again: skip the WAL flush wait.
  if (update.mayLoseOnCrash === true && update.subscription === undefined) {
    writes.push(sql`SET LOCAL synchronous_commit = off`.execute());
  }
  if (update.subscription !== undefined) {
    writes.push(
      sql`
        UPDATE subscriptions
        SET topic = ${update.subscription.topic}, definition = ${definitionJson(update.subscription)}::text::jsonb
        WHERE name = ${name}`.execute(),
    );
  }
  if (update.partitions !== undefined && update.partitions.length > 0) {
    writes.push(
      writePartitions(
        sql,
        name,
        lastByKey(update.partitions, (state) => state.partition),
      ),
    );
  }
  if (update.deleteConsumers !== undefined && update.deleteConsumers.length > 0) {
    writes.push(
      sql`
        DELETE FROM subscription_consumers
        WHERE subscription = ${name} AND consumer = ANY(${update.deleteConsumers}::text[])`.execute(),
    );
  }
  if (update.upsertConsumers !== undefined && update.upsertConsumers.length > 0) {
    writes.push(
      writeConsumers(
        sql,
        name,
        lastByKey(update.upsertConsumers, (consumer) => consumer.id),
      ),
    );
  }
  if (update.deleteDeadLetters !== undefined && update.deleteDeadLetters.length > 0) {
    writes.push(
      sql`
        DELETE FROM subscription_dead_letters
        WHERE subscription = ${name} AND event_id = ANY(${update.deleteDeadLetters}::text[])`.execute(),
    );
  }
  if (update.insertDeadLetters !== undefined && update.insertDeadLetters.length > 0) {
    writes.push(
      writeDeadLetters(
        sql,
        name,
        lastByKey(update.insertDeadLetters, (record) => record.eventId),
      ),
    );
  }
  return writes;
}

/**
 * Whole partition rows in one statement. An upsert rather than an update, so that a partition row
 * the subscription lacks is written too instead of being silently dropped.
 */
function writePartitions(sql: ReservedSql, name: string, partitions: readonly PartitionState[]) {
  const columns = partitionColumnArrays(partitions);
  return sql`
    INSERT INTO subscription_partitions AS stored (
      subscription, partition, checkpoint, cursor, pending, owner, lease_expires_at, ack_deadline,
      retry_at, last_error
    )
    SELECT ${name}, partition, checkpoint, cursor, pending::jsonb, owner, lease_expires_at, ack_deadline,
      retry_at, last_error::jsonb
    FROM unnest(
      ${columns.partition}::integer[], ${columns.checkpoint}::bigint[], ${columns.cursor}::bigint[],
      ${columns.pending}::text[], ${columns.owner}::text[], ${columns.leaseExpiresAt}::bigint[],
      ${columns.ackDeadline}::bigint[], ${columns.retryAt}::bigint[], ${columns.lastError}::text[]
    ) AS written (
      partition, checkpoint, cursor, pending, owner, lease_expires_at, ack_deadline, retry_at, last_error
    )
    ON CONFLICT (subscription, partition) DO UPDATE SET
      checkpoint = excluded.checkpoint,
      cursor = excluded.cursor,
      pending = excluded.pending,
      owner = excluded.owner,
      lease_expires_at = excluded.lease_expires_at,
      ack_deadline = excluded.ack_deadline,
      retry_at = excluded.retry_at,
      last_error = excluded.last_error`.execute();
}

function writeConsumers(sql: ReservedSql, name: string, consumers: readonly ConsumerState[]) {
  return sql`
    INSERT INTO subscription_consumers (subscription, consumer, expires_at)
    SELECT ${name}, consumer, expires_at
    FROM unnest(
      ${consumers.map((consumer) => consumer.id)}::text[],
      ${consumers.map((consumer) => consumer.expiresAt)}::bigint[]
    ) AS written (consumer, expires_at)
    ON CONFLICT (subscription, consumer) DO UPDATE SET expires_at = excluded.expires_at`.execute();
}

function writeDeadLetters(sql: ReservedSql, name: string, records: readonly DeadLetterRecord[]) {
  const columns = deadLetterColumnArrays(records);
  return sql`
    INSERT INTO subscription_dead_letters (subscription, event_id, partition, "offset", attempts, error, dead_at)
    SELECT ${name}, event_id, partition, "offset", attempts, error, dead_at
    FROM unnest(
      ${columns.eventId}::text[], ${columns.partition}::integer[], ${columns.offset}::bigint[],
      ${columns.attempts}::integer[], ${columns.error}::text[], ${columns.deadAt}::bigint[]
    ) AS written (event_id, partition, "offset", attempts, error, dead_at)
    ON CONFLICT (subscription, event_id) DO UPDATE SET
      partition = excluded.partition,
      "offset" = excluded."offset",
      attempts = excluded.attempts,
      error = excluded.error,
      dead_at = excluded.dead_at`.execute();
}
