import { type SubscriptionInfo, TributaryError } from "@tributary/protocol";
import type { Database } from "better-sqlite3";
import type {
  ConsumerState,
  DeadLetterRecord,
  PartitionState,
  SubscriptionState,
  SubscriptionStore,
  SubscriptionUpdate,
} from "../../subscriptions/subscription-store.js";
import { type QueuedStatement, WriteQueue } from "./write-queue.js";
import type { WriteStatement } from "./writer-protocol.js";

interface PartitionRow {
  partition: number;
  checkpoint: number;
  cursor: number;
  pending: string;
  owner: string | null;
  lease_expires_at: number;
  ack_deadline: number;
  retry_at: number;
  last_error: string | null;
}

interface DeadLetterRow {
  event_id: string;
  partition: number;
  offset: number;
  attempts: number;
  error: string;
  dead_at: number;
}

const updatePartitionSql = `UPDATE subscription_partitions SET checkpoint = ?, cursor = ?, pending = ?, owner = ?,
  lease_expires_at = ?, ack_deadline = ?, retry_at = ?, last_error = ? WHERE subscription = ? AND "partition" = ?`;
const insertPartitionSql = `INSERT INTO subscription_partitions (subscription, "partition", checkpoint, cursor, pending,
  owner, lease_expires_at, ack_deadline, retry_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const upsertConsumerSql = `INSERT INTO subscription_consumers (subscription, consumer, expires_at) VALUES (?, ?, ?)
  ON CONFLICT (subscription, consumer) DO UPDATE SET expires_at = excluded.expires_at`;
const upsertDeadLetterSql = `INSERT INTO subscription_dead_letters
  (subscription, event_id, "partition", "offset", attempts, error, dead_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (subscription, event_id) DO UPDATE SET attempts = excluded.attempts, error = excluded.error,
  dead_at = excluded.dead_at`;

function partitionParams(name: string, partition: PartitionState): WriteStatement["params"] {
  return [
    partition.checkpoint,
    partition.cursor,
    JSON.stringify(partition.pending),
    partition.owner,
    partition.leaseExpiresAt,
    partition.ackDeadline,
    partition.retryAt,
    partition.lastError === null ? null : JSON.stringify(partition.lastError),
    name,
    partition.partition,
  ];
}

function toPartitionState(row: PartitionRow): PartitionState {
  return {
    partition: row.partition,
    checkpoint: row.checkpoint,
    cursor: row.cursor,
    pending: JSON.parse(row.pending),
    owner: row.owner,
    leaseExpiresAt: row.lease_expires_at,
    ackDeadline: row.ack_deadline,
    retryAt: row.retry_at,
    lastError: row.last_error === null ? null : JSON.parse(row.last_error),
  };
}

function toDeadLetter(row: DeadLetterRow): DeadLetterRecord {
  return {
    eventId: row.event_id,
    partition: row.partition,
    offset: row.offset,
    attempts: row.attempts,
    error: row.error,
    deadAt: row.dead_at,
  };
}

/** The statements that write `update` for subscription `name`. */
function updateStatements(name: string, update: SubscriptionUpdate<unknown>): QueuedStatement[] {
  const statements: QueuedStatement[] = [];
  if (update.subscription !== undefined) {
    statements.push({
      sql: "UPDATE subscriptions SET topic = ?, definition = ? WHERE name = ?",
      params: [update.subscription.topic, JSON.stringify(update.subscription), name],
      row: `subscription\u0000${name}`,
    });
  }
  for (const partition of update.partitions ?? []) {
    statements.push({
      sql: updatePartitionSql,
      // Partition states are never changed once made, so serializing late writes what was queued.
      params: () => partitionParams(name, partition),
      row: `partition\u0000${name}\u0000${partition.partition}`,
    });
  }
  // Deletes before upserts (as on PostgreSQL): an update that names one consumer in both keeps it.
  for (const consumer of update.deleteConsumers ?? []) {
    statements.push({
      sql: "DELETE FROM subscription_consumers WHERE subscription = ? AND consumer = ?",
      params: [name, consumer],
      row: `consumer\u0000${name}\u0000${consumer}`,
    });
  }
  for (const consumer of update.upsertConsumers ?? []) {
    statements.push({
      sql: upsertConsumerSql,
      params: [name, consumer.id, consumer.expiresAt],
      row: `consumer\u0000${name}\u0000${consumer.id}`,
    });
  }
  for (const eventId of update.deleteDeadLetters ?? []) {
    statements.push({
      sql: "DELETE FROM subscription_dead_letters WHERE subscription = ? AND event_id = ?",
      params: [name, eventId],
      row: `dead letter\u0000${name}\u0000${eventId}`,
    });
  }
  for (const letter of update.insertDeadLetters ?? []) {
    statements.push({
      sql: upsertDeadLetterSql,
      params: [
        name,
        letter.eventId,
        letter.partition,
        letter.offset,
        letter.attempts,
        letter.error,
        letter.deadAt,
      ],
      row: `dead letter\u0000${name}\u0000${letter.eventId}`,
    });
  }
  return statements;
}

/** A subscription's state in memory: what a transaction sees besides the clock. */
type CachedState = Omit<SubscriptionState, "now">;

/** The state an update leaves: rows it names replaced, consumers deleted before upserts. */
function applyUpdate(state: CachedState, update: SubscriptionUpdate<unknown>): CachedState {
  let partitions = state.partitions;
  if (update.partitions !== undefined && update.partitions.length > 0) {
    const byNumber = new Map(update.partitions.map((partition) => [partition.partition, partition]));
    partitions = partitions.map((partition) => byNumber.get(partition.partition) ?? partition);
  }
  let consumers = state.consumers;
  if ((update.deleteConsumers ?? []).length > 0 || (update.upsertConsumers ?? []).length > 0) {
    const byId = new Map(consumers.map((consumer) => [consumer.id, consumer]));
    for (const id of update.deleteConsumers ?? []) byId.delete(id);
    for (const consumer of update.upsertConsumers ?? []) byId.set(consumer.id, consumer);
    consumers = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return { subscription: update.subscription ?? state.subscription, partitions, consumers };
}

export interface SqliteSubscriptionStoreOptions {
  /** The store's reading connection. */
  db: Database;
  /**
   * Commits statements together (on the writer thread, in turn with the appends); not `durable`:
   * without waiting for the disk.
   */
  write(statements: WriteStatement[], durable?: boolean): Promise<void>;
  /** Rejects when the store is closed. */
  assertOpen(): void;
  /**
   * Hears of every failed write transaction, once, whoever waited for it: updates written behind
   * have nobody else to tell (the store reads the file again; what they held is delivered again).
   */
  onWriteFailure?: (error: unknown) => void;
}

/**
 * Subscriptions in the SQLite file. One process owns the file, so a lock in memory per
 * subscription serializes its transactions, and the state they work on is kept in memory: the file
 * follows through the writer thread, in order, several updates per commit. Updates that may be
 * lost on a crash (polls, acks, nacks: losing one means delivering again) are written behind, so a
 * poll or an ack never waits for the disk or for an append's commit; the others are answered once
 * written. `now` is this process's wall clock, read after the lock is taken.
 */
export function createSqliteSubscriptionStore(
  options: SqliteSubscriptionStoreOptions,
): SubscriptionStore & { drain(): Promise<void> } {
  const { db, write } = options;
  const locks = new Map<string, Promise<unknown>>();
  let statements: ReturnType<typeof prepare> | undefined;

  function prepare() {
    return {
      selectSubscription: db.prepare<[string], { definition: string }>(
        "SELECT definition FROM subscriptions WHERE name = ?",
      ),
      selectSubscriptions: db.prepare<[], { definition: string }>(
        "SELECT definition FROM subscriptions ORDER BY name",
      ),
      selectPartitions: db.prepare<[string], PartitionRow>(
        `SELECT "partition" AS partition, checkpoint, cursor, pending, owner, lease_expires_at, ack_deadline,
         retry_at, last_error FROM subscription_partitions WHERE subscription = ? ORDER BY "partition"`,
      ),
      selectConsumers: db.prepare<[string], { consumer: string; expires_at: number }>(
        "SELECT consumer, expires_at FROM subscription_consumers WHERE subscription = ? ORDER BY consumer",
      ),
      selectDeadLetters: db.prepare<[string, string, number], DeadLetterRow>(
        `SELECT event_id, "partition" AS partition, "offset" AS offset, attempts, error, dead_at
         FROM subscription_dead_letters WHERE subscription = ? AND event_id > ? ORDER BY event_id LIMIT ?`,
      ),
      selectDeadLettersById: db.prepare<[string, string, string, number], DeadLetterRow>(
        `SELECT event_id, "partition" AS partition, "offset" AS offset, attempts, error, dead_at
         FROM subscription_dead_letters WHERE subscription = ? AND event_id > ?
         AND event_id IN (SELECT value FROM json_each(?)) ORDER BY event_id LIMIT ?`,
      ),
      countDeadLetters: db
        .prepare<[string], number>("SELECT count(*) FROM subscription_dead_letters WHERE subscription = ?")
        .pluck(),
    };
  }

  const prepared = () => {
    options.assertOpen();
    statements ??= prepare();
    return statements;
  };

  /** Runs `work` after every earlier holder of `name`'s lock is done. */
  function locked<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = locks.get(name) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    locks.set(name, tail);
    void tail.then(() => {
      if (locks.get(name) === tail) locks.delete(name);
    });
    return result;
  }

  /**
   * The state of the subscriptions used lately, as their last transaction left it. One process owns
   * the file, so memory is the truth and the file follows it; it is dropped whenever a write fails,
   * and the next transaction reads the file again.
   */
  const cached = new Map<string, CachedState>();
  const queue = new WriteQueue({
    write: (statements, durable) => write(statements, durable),
    onFailure: (error) => {
      cached.clear();
      options.onWriteFailure?.(error);
    },
  });

  const load = (name: string): CachedState | undefined => {
    const subscription = readSubscription(name);
    if (subscription === undefined) return undefined;
    return {
      subscription,
      partitions: prepared().selectPartitions.all(name).map(toPartitionState),
      consumers: prepared()
        .selectConsumers.all(name)
        .map((row): ConsumerState => ({ id: row.consumer, expiresAt: row.expires_at })),
    };
  };

  const readSubscription = (name: string): SubscriptionInfo | undefined => {
    const row = prepared().selectSubscription.get(name);
    return row === undefined ? undefined : (JSON.parse(row.definition) as SubscriptionInfo);
  };

  return {
    create(subscription, partitions) {
      return locked(subscription.name, async () => {
        const existing = readSubscription(subscription.name);
        if (existing !== undefined) return { subscription: existing, created: false };
        await queue.enqueue(
          [
            {
              sql: "INSERT INTO subscriptions (name, topic, definition, created_at) VALUES (?, ?, ?, ?)",
              params: [
                subscription.name,
                subscription.topic,
                JSON.stringify(subscription),
                subscription.createdAt,
              ],
            },
            ...partitions.map((partition) => {
              const params = partitionParams(subscription.name, partition);
              return {
                sql: insertPartitionSql,
                params: [subscription.name, partition.partition, ...params.slice(0, 8)],
              };
            }),
          ],
          true,
        );
        return { subscription, created: true };
      });
    },

    get: async (name) => readSubscription(name),

    // Outside the lock: memory holds what the last transaction left (the file may lag behind it),
    // and this runs in one go, so it never sees a transaction half applied. Not cached: only a
    // transaction, under the lock, puts state in memory.
    read: async (name) => {
      const state = cached.get(name) ?? load(name);
      return state === undefined ? undefined : { now: Date.now(), ...state };
    },

    list: async () =>
      prepared()
        .selectSubscriptions.all()
        .map((row) => JSON.parse(row.definition) as SubscriptionInfo),

    delete(name) {
      return locked(name, async () => {
        if (readSubscription(name) === undefined) return false;
        cached.delete(name);
        await queue.enqueue(
          ["subscription_dead_letters", "subscription_consumers", "subscription_partitions"]
            .map((table) => ({ sql: `DELETE FROM ${table} WHERE subscription = ?`, params: [name] }))
            .concat([{ sql: "DELETE FROM subscriptions WHERE name = ?", params: [name] }]),
          true,
        );
        return true;
      });
    },

    transact(name, change) {
      return locked(name, async () => {
        const current = cached.get(name) ?? load(name);
        if (current === undefined) {
          throw new TributaryError("subscription-not-found", { details: { subscription: name } });
        }
        const update = await change({
          now: Date.now(),
          subscription: current.subscription,
          partitions: [...current.partitions],
          consumers: [...current.consumers],
        });
        cached.set(name, applyUpdate(current, update));
        const written = queue.enqueue(updateStatements(name, update), update.mayLoseOnCrash !== true);
        // What may be lost on a crash is written behind: the next transaction already sees it in
        // memory. Dead letters are read from the file, so an update that moves them is waited for.
        const isWrittenBehind =
          update.mayLoseOnCrash === true &&
          (update.insertDeadLetters ?? []).length === 0 &&
          (update.deleteDeadLetters ?? []).length === 0;
        // Its failure is reported once per transaction by the queue's `onFailure`, not here.
        if (isWrittenBehind) written.catch(() => undefined);
        else await written;
        return update.result;
      });
    },

    async listDeadLetters(name, listOptions) {
      const after = listOptions.after ?? "";
      const rows =
        listOptions.ids === undefined
          ? prepared().selectDeadLetters.all(name, after, listOptions.limit)
          : prepared().selectDeadLettersById.all(
              name,
              after,
              JSON.stringify(listOptions.ids),
              listOptions.limit,
            );
      return rows.map(toDeadLetter);
    },

    countDeadLetters: async (name) => prepared().countDeadLetters.get(name) ?? 0,

    // One process owns the file: the subscriptions core wakes its own polls.
    onChange: () => () => undefined,

    /** Waits until everything written behind is in the file (before the store closes). */
    drain: () => queue.drain(),
  };
}
