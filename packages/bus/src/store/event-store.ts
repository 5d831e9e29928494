import type {
  EventCoordinates,
  ExpectedVersion,
  StoredEvent,
  TopicInfo,
  TopicSettings,
  TributaryError,
} from "@tributary/protocol";
import type { AuthStore } from "../auth/auth-store.js";
import type { RegistryStore } from "../registry/registry-store.js";
import type { SubscriptionStore } from "../subscriptions/subscription-store.js";

/** One event ready to store: validated, id assigned, JSON serialized once by the core. */
export interface PreparedEvent {
  id: string;
  type: string;
  key: string | null;
  /** `data` as JSON text (`"null"` when the producer sent none). */
  dataJson: string;
  /** `metadata` as JSON text of an object. */
  metadataJson: string;
  expectedVersion: ExpectedVersion;
  /**
   * Hex digest of the event's identity-relevant content (topic, type, key, data, metadata), used to
   * tell an idempotent resend (same digest → the stored coordinates) from an id reused with other
   * content (`id-conflict`).
   */
  digest: string;
  /**
   * The bus generated the id (a fresh UUIDv7), so no stored event can have it: the store may skip
   * looking it up. The unique index on ids still guards it.
   */
  idAssigned?: boolean;
}

/** The events of one append request: they commit together or not at all. */
export interface AppendCommand {
  topic: string;
  events: PreparedEvent[];
}

export interface AppendGroupOptions {
  /** Create an unknown topic with `defaultPartitions`; otherwise the command fails `topic-not-found`. */
  autoCreate: boolean;
  defaultPartitions: number;
}

/**
 * The outcome of one command of a group. `replayed` is true when every event of the command was
 * already stored (idempotent resend, nothing new committed).
 */
export type AppendOutcome =
  | { ok: true; events: EventCoordinates[]; replayed: boolean }
  | { ok: false; error: TributaryError };

/** Announced after a commit: `nextOffset` is the partition's new head (last offset + 1). */
export interface CommitNotice {
  topic: string;
  partition: number;
  nextOffset: number;
}

/**
 * An event as delivery reads it: the fields that delivery decides on, as values, and the whole event
 * as UTF-8 JSON text. The text has the shape and field order of `JSON.stringify` of the
 * `StoredEvent` that `readPartition` returns, with `data` and `metadata` spliced in as the store
 * holds them, so that delivering an event never parses and re-serializes its payload.
 */
export interface DeliveryRow {
  id: string;
  partition: number;
  offset: number;
  type: string;
  /**
   * The event's JSON text without its closing `}`, so that a delivery appends its own fields
   * (`"attempt"`) and closes the object without copying the text: `JSON.parse(`${openJson}}`)`
   * deep-equals the `StoredEvent` of the same offset. Bytes, not a string: a poll's response is
   * these buffers put together, with no string building or UTF-8 encoding per event.
   */
  openJson: Buffer;
}

export interface ReadKeyOptions {
  /** First version to return (default 1). */
  fromVersion: number;
  /** Only events committed at or before this time: the entity's history up to a point in time. */
  asOf?: Date;
  limit: number;
  /** Bytes of payload at most, as `readPartition` counts them (the first event whatever its size). */
  maxBytes?: number;
}

export interface QueryFilter {
  topic?: string;
  type?: string;
  key?: string;
  correlationId?: string;
  /** Commit time, inclusive. */
  from?: Date;
  /** Commit time, exclusive. */
  to?: Date;
  /** Keyset: only events after this position in the chosen order. */
  afterPosition?: number;
  order: "asc" | "desc";
  limit: number;
  /** Bytes of payload at most, as `readPartition` counts them (the first event whatever its size). */
  maxBytes?: number;
}

/**
 * A page of an entity stream or a query. `isCutByBytes` is true when a matching event followed the
 * last one returned but did not fit in `maxBytes`: the page ends before its `limit`, and the next
 * page starts right after its last event. It is false when the page ends at the last matching event
 * or at `limit` (whether more follow then is not known).
 */
export interface EventPage {
  events: StoredEvent[];
  isCutByBytes: boolean;
}

/**
 * The storage port. Adapters: `createSqliteStore`, `createPostgresStore`; both pass
 * `describeStoreConformance`. Reads never return an event before the events of lower offsets in
 * its partition are visible (offsets are taken under a per-partition lock held until commit).
 */
export interface EventStore {
  readonly kind: "sqlite" | "postgres";

  /** Applies pending versioned migrations; safe to run from several processes at once. */
  migrate(): Promise<void>;

  /**
   * Creates a topic or returns the existing one. A different partition count than the existing
   * topic's is a `topic-conflict`; a different retention updates it.
   */
  putTopic(name: string, settings: TopicSettings): Promise<{ topic: TopicInfo; created: boolean }>;
  getTopic(name: string): Promise<TopicInfo | undefined>;
  listTopics(): Promise<TopicInfo[]>;

  /**
   * Commits a group of commands in one transaction (group commit: one fsync for all). Each command
   * is atomic on its own: a command that fails (version conflict, id conflict, unknown topic)
   * stores nothing and does not fail the others. Outcomes are in the order of `commands`.
   * Throws (`store-unavailable`) only when the transaction as a whole could not commit.
   */
  appendGroup(commands: AppendCommand[], options: AppendGroupOptions): Promise<AppendOutcome[]>;

  /**
   * Events of one partition from `fromOffset` in offset order, at most `limit`. With `maxBytes`,
   * also no more events than fit in it by their payload, except that the first event is returned
   * whatever its size: a read never loads an unbounded amount of memory, and an event larger than
   * the budget still moves its reader on. An event's payload is the UTF-8 bytes of its `data` and
   * `metadata` as JSON text, the parts that may be large; the rest (ids, type, key, coordinates) is
   * bounded by the limits on each and not counted. PostgreSQL counts the text of its `jsonb`
   * (`{"a": 1}`, with spaces), SQLite the text it stores.
   */
  readPartition(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    maxBytes?: number,
  ): Promise<StoredEvent[]>;
  /**
   * The events of `readPartition`, as delivery rows: same offsets, same order, same limits, but the
   * payload is passed through as stored JSON text rather than parsed.
   */
  readPartitionForDelivery(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    maxBytes?: number,
  ): Promise<DeliveryRow[]>;
  /**
   * The entity stream of (topic, key) in version order, at most `limit` events and, with
   * `maxBytes`, no more payload than that (at least one event).
   */
  readKey(topic: string, key: string, options: ReadKeyOptions): Promise<EventPage>;
  /**
   * Events across topics in position order, filtered, keyset-paginated by position: at most `limit`
   * and, with `maxBytes`, no more payload than that (at least one event).
   */
  query(filter: QueryFilter): Promise<EventPage>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  /**
   * Per partition of the topic (in partition order), the offset of its first event committed at or
   * after `time`, or at or after store `position`; the partition's head when it has none.
   * `topic-not-found` for an unknown topic.
   */
  offsetsAt(topic: string, at: { time: Date } | { position: number }): Promise<number[]>;

  /** The state of subscriptions (consumer groups), kept in the same database as the events. */
  readonly subscriptions: SubscriptionStore;
  /** The schema registry's subjects, versions and settings, in the same database. */
  readonly registry: RegistryStore;
  /** Principals, their grants and API keys. */
  readonly auth: AuthStore;

  /**
   * Calls `listener` after each commit that added events to a partition. Returns an unsubscribe.
   * PostgreSQL announces the commits of every bus process on the database (LISTEN/NOTIFY); a SQLite
   * file is owned by one process, whose own commits are all there are.
   */
  onCommit(listener: (notice: CommitNotice) => void): () => void;

  /** Resolves when the store answers a trivial query; rejects `store-unavailable` otherwise. */
  ping(): Promise<void>;
  /** Waits for in-flight work, then releases connections and file handles. Idempotent. */
  close(): Promise<void>;
}
