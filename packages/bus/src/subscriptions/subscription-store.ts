import type { SubscriptionInfo } from "@tributary/protocol";

/** A delivery of a partition that is not done yet. */
export interface PendingDelivery {
  offset: number;
  id: string;
  /** Failed deliveries so far (nack, ack timeout, lost lease). */
  failures: number;
  /** Delivered to the partition's owner and waiting for its ack or nack. */
  outstanding: boolean;
  /** Delivered again from the dead letters: below the checkpoint, so it does not hold it back. */
  redriven?: boolean;
  lastError?: string;
}

/** The delivery state of one partition of a subscription. Times are epoch milliseconds. */
export interface PartitionState {
  partition: number;
  /** Every offset below is done: acknowledged, dead-lettered or filtered out. Only moves forward (reset aside). */
  checkpoint: number;
  /** The next offset not yet read for delivery; offsets in [checkpoint, cursor) not pending are done. */
  cursor: number;
  /** In offset order. */
  pending: PendingDelivery[];
  owner: string | null;
  /** 0 when there is no owner. */
  leaseExpiresAt: number;
  /** When outstanding deliveries count as failed; 0 when none are outstanding. */
  ackDeadline: number;
  /** Pending deliveries are not sent again before this time; 0 when they may be. */
  retryAt: number;
  lastError: { message: string; eventId: string | null; at: number } | null;
}

/** A consumer instance: live while `expiresAt` is in the future. */
export interface ConsumerState {
  id: string;
  expiresAt: number;
}

export interface DeadLetterRecord {
  eventId: string;
  partition: number;
  offset: number;
  attempts: number;
  error: string;
  deadAt: number;
}

/** What a transaction sees: the store's wall clock (not a transaction's frozen start time). */
export interface SubscriptionState {
  now: number;
  subscription: SubscriptionInfo;
  /** One per partition of the topic, in partition order. */
  partitions: PartitionState[];
  consumers: ConsumerState[];
}

/**
 * What a transaction writes back. Absent fields change nothing. Deletes apply before upserts and
 * inserts, so an update that names a consumer (or dead letter) in both keeps it.
 */
export interface SubscriptionUpdate<T> {
  result: T;
  subscription?: SubscriptionInfo;
  /** Whole rows of the partitions that changed. */
  partitions?: PartitionState[];
  upsertConsumers?: ConsumerState[];
  deleteConsumers?: string[];
  insertDeadLetters?: DeadLetterRecord[];
  /** Event ids. */
  deleteDeadLetters?: string[];
  /**
   * The update may be lost to a power failure or a database crash after it was acknowledged: it only
   * moves deliveries forward (polls, acks, nacks, heartbeats), so losing it means delivering again,
   * which at-least-once allows. The store may then commit it without waiting for the disk.
   */
  mayLoseOnCrash?: boolean;
  /**
   * Polls of this subscription waiting in other bus processes should look again (a batch finished,
   * partitions were freed or moved): the store tells them through `onChange`.
   */
  announce?: boolean;
}

export interface DeadLetterListOptions {
  /** Keyset: only dead letters after this event id (ascending id order). */
  after?: string;
  limit: number;
  /** Only these event ids. */
  ids?: string[];
}

/**
 * The storage port of subscriptions: definitions, per-partition delivery state, consumer instances
 * and dead letters. `transact` serializes every change to one subscription (PostgreSQL: a row lock
 * held to commit, so bus processes sharing the store take turns; SQLite: one process, a lock in
 * memory), which makes leases and checkpoints safe against concurrent polls and acks.
 */
export interface SubscriptionStore {
  /**
   * Inserts a subscription and its partition rows unless one with that name exists. Returns the
   * stored definition and whether it was created (an existing one is returned unchanged).
   */
  create(
    subscription: SubscriptionInfo,
    partitions: PartitionState[],
  ): Promise<{ subscription: SubscriptionInfo; created: boolean }>;
  get(name: string): Promise<SubscriptionInfo | undefined>;
  /** In name order (byte order). */
  list(): Promise<SubscriptionInfo[]>;
  /**
   * The subscription's state as its last transaction left it, read without locking or writing
   * anything: a transaction of the subscription in progress (here or in another bus process) is not
   * waited for and does not wait. One consistent snapshot; `now` is the store's clock at the read.
   * `undefined` when the subscription does not exist. For status and metrics: an update must start
   * from `transact`'s state, never from this one.
   */
  read(name: string): Promise<SubscriptionState | undefined>;
  /** Removes the subscription with its partitions, consumers and dead letters. False when unknown. */
  delete(name: string): Promise<boolean>;
  /**
   * Runs `change` with exclusive access to the subscription's state and writes its update in one
   * transaction. `change` may await other store reads (events), not other transactions. Rejects
   * `subscription-not-found` when the subscription does not exist, and with `change`'s error
   * (writing nothing) when it throws.
   */
  transact<T>(
    name: string,
    change: (state: SubscriptionState) => Promise<SubscriptionUpdate<T>> | SubscriptionUpdate<T>,
  ): Promise<T>;
  /** Dead letters in event-id order (byte order). */
  listDeadLetters(name: string, options: DeadLetterListOptions): Promise<DeadLetterRecord[]>;
  countDeadLetters(name: string): Promise<number>;
  /**
   * Calls `listener` with a subscription's name when another bus process committed an update of it
   * with `announce` (PostgreSQL: NOTIFY, delivered at its commit). A store owned by one process never
   * calls it. Returns an unsubscribe.
   */
  onChange(listener: (name: string) => void): () => void;
}
