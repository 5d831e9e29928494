import type { SubscriptionInfo } from "@tributary/protocol";
import type { ISql, Sql } from "postgres";
import type { SubscriptionState, SubscriptionStore } from "../../subscriptions/subscription-store.js";
import {
  type ConsumerRow,
  type DeadLetterRow,
  definitionJson,
  type PartitionRow,
  partitionColumnArrays,
  toConsumerState,
  toDeadLetterRecord,
  toPartitionState,
} from "./subscription-rows.js";
import { transactSubscription } from "./subscription-transaction.js";
import { createTransactionGate } from "./transaction-gate.js";

export interface PostgresSubscriptionStoreOptions {
  /** Runs an operation on the store's pool, turning driver failures into the port's errors. */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * The pool's size. Transactions hold at most one connection fewer at once, so that the event
   * reads of their changes always find one.
   */
  maxConnections: number;
  /** Where updates with `announce` are notified (the schema's channel) and who this instance is. */
  notify: { channel: string; source: string };
  /** Subscribes to the changes other processes announced. */
  onChange(listener: (name: string) => void): () => void;
}

/** How often `create` looks again for a subscription that a concurrent delete removed meanwhile. */
const createAttempts = 3;

async function getSubscription(sql: ISql, name: string): Promise<SubscriptionInfo | undefined> {
  const [row] = await sql<{ definition: SubscriptionInfo }[]>`
    SELECT definition FROM subscriptions WHERE name = ${name}`;
  return row?.definition;
}

/**
 * The state in one statement, so one snapshot, and without `FOR UPDATE`: a plain read takes no row
 * lock and no transaction id, so it waits for no transaction of the subscription and writes no WAL.
 * The rows travel as json (bigints as numbers, exact far beyond any offset or epoch millisecond).
 */
async function readState(sql: ISql, name: string): Promise<SubscriptionState | undefined> {
  const [row] = await sql<
    { definition: SubscriptionInfo; now: string; partitions: PartitionRow[]; consumers: ConsumerRow[] }[]
  >`
    SELECT definition, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now,
      (SELECT coalesce(json_agg(p ORDER BY p.partition), '[]'::json) FROM (
        SELECT partition, checkpoint, cursor, pending, owner, lease_expires_at, ack_deadline, retry_at,
          last_error
        FROM subscription_partitions WHERE subscription = subscriptions.name) AS p) AS partitions,
      (SELECT coalesce(json_agg(c ORDER BY c.consumer), '[]'::json) FROM (
        SELECT consumer, expires_at FROM subscription_consumers
        WHERE subscription = subscriptions.name) AS c) AS consumers
    FROM subscriptions WHERE name = ${name}`;
  if (row === undefined) return undefined;
  return {
    now: Number(row.now),
    subscription: row.definition,
    partitions: row.partitions.map(toPartitionState),
    consumers: row.consumers.map(toConsumerState),
  };
}

/**
 * The subscription state of the PostgreSQL store, in the tables of migration 3. Every change to a
 * subscription runs in `transact` under the lock of its `subscriptions` row, held to commit, so bus
 * processes sharing the database take turns on one subscription while different subscriptions
 * never wait for each other. Within one process, transactions of one subscription queue before they
 * take a connection (see `createTransactionGate`).
 *
 * Ids sort bytewise (the tables' COLLATE "C"), as on SQLite.
 */
export function createPostgresSubscriptionStore(
  options: PostgresSubscriptionStoreOptions,
): SubscriptionStore {
  const { run } = options;
  const gate = createTransactionGate(Math.max(1, options.maxConnections - 1));

  return {
    create: (subscription, partitions) =>
      run(async (sql) => {
        const columns = partitionColumnArrays(partitions);
        for (let attempt = 0; attempt < createAttempts; attempt += 1) {
          // One statement, so atomic without a transaction. On a conflict with a concurrent create,
          // ON CONFLICT waits for it to commit and inserts nothing; the winner is then read by a
          // statement of its own, whose snapshot sees that commit.
          const [created] = await sql<{ definition: SubscriptionInfo }[]>`
            WITH created AS (
              INSERT INTO subscriptions (name, topic, definition, created_at)
              VALUES (
                ${subscription.name}, ${subscription.topic}, ${definitionJson(subscription)}::text::jsonb,
                ${subscription.createdAt}::timestamptz
              )
              ON CONFLICT (name) DO NOTHING
              RETURNING name, definition
            ), created_partitions AS (
              INSERT INTO subscription_partitions (
                subscription, partition, checkpoint, cursor, pending, owner, lease_expires_at,
                ack_deadline, retry_at, last_error
              )
              SELECT created.name, partition, checkpoint, cursor, pending::jsonb, owner, lease_expires_at,
                ack_deadline, retry_at, last_error::jsonb
              FROM created, unnest(
                ${columns.partition}::integer[], ${columns.checkpoint}::bigint[], ${columns.cursor}::bigint[],
                ${columns.pending}::text[], ${columns.owner}::text[], ${columns.leaseExpiresAt}::bigint[],
                ${columns.ackDeadline}::bigint[], ${columns.retryAt}::bigint[], ${columns.lastError}::text[]
              ) AS written (
                partition, checkpoint, cursor, pending, owner, lease_expires_at, ack_deadline, retry_at,
                last_error
              )
            )
            SELECT definition FROM created`;
          if (created !== undefined) return { subscription: created.definition, created: true };
          const existing = await getSubscription(sql, subscription.name);
          if (existing !== undefined) return { subscription: existing, created: false };
        }
        throw new Error(`subscription ${subscription.name} neither inserted nor found`);
      }),

    get: (name) => run((sql) => getSubscription(sql, name)),

    // Not through the gate either: a read does not queue behind this process's transactions.
    read: (name) => run((sql) => readState(sql, name)),

    list: () =>
      run(async (sql) => {
        const rows = await sql<{ definition: SubscriptionInfo }[]>`
          SELECT definition FROM subscriptions ORDER BY name`;
        return rows.map((row) => row.definition);
      }),

    // Partitions, consumers and dead letters go with it (ON DELETE CASCADE). A transaction of the
    // subscription in progress holds its row lock: the delete waits for it to commit.
    delete: (name) =>
      run(async (sql) => {
        const rows = await sql`DELETE FROM subscriptions WHERE name = ${name} RETURNING name`;
        return rows.length > 0;
      }),

    transact: (name, change) =>
      gate.run(name, () => run((sql) => transactSubscription(sql, name, change, options.notify))),
    onChange: (listener) => options.onChange(listener),

    listDeadLetters: (name, listOptions) =>
      run(async (sql) => {
        const after = listOptions.after === undefined ? sql`` : sql`AND event_id > ${listOptions.after}`;
        const only =
          listOptions.ids === undefined ? sql`` : sql`AND event_id = ANY(${listOptions.ids}::text[])`;
        // The primary key (subscription, event_id) serves both the keyset and the order.
        const rows = await sql<DeadLetterRow[]>`
          SELECT event_id, partition, "offset", attempts, error, dead_at
          FROM subscription_dead_letters
          WHERE subscription = ${name} ${after} ${only}
          ORDER BY event_id
          LIMIT ${listOptions.limit}`;
        return rows.map(toDeadLetterRecord);
      }),

    countDeadLetters: (name) =>
      run(async (sql) => {
        const [row] = await sql<{ count: number }[]>`
          SELECT count(*)::integer AS count FROM subscription_dead_letters WHERE subscription = ${name}`;
        return row?.count ?? 0;
      }),
  };
}
