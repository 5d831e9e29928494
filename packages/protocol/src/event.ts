import type { ValidationPolicy } from "./schema.js";

/**
 * The expected version of an entity stream, checked before an event is appended:
 * `"no_stream"` — the (topic, key) stream must not exist yet; `"any"` — no check;
 * a number — the stream's current version must equal it (its last event's `version`).
 */
export type ExpectedVersion = "no_stream" | "any" | number;

/** Well-known metadata fields; any other JSON field may be added by the producer. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  traceparent?: string;
  /** The producer, e.g. `users-service` (CloudEvents `source`). */
  source?: string;
  schemaVersion?: number;
  [field: string]: unknown;
}

/** An event as a producer sends it. */
export interface EventInput {
  /** Client-chosen id for idempotency; a UUIDv7 is assigned when absent. */
  id?: string;
  type: string;
  /** Entity / partition key. Events of one key keep their order. */
  key?: string;
  data?: unknown;
  metadata?: EventMetadata;
  expectedVersion?: ExpectedVersion;
}

/** Where an event was committed. */
export interface EventCoordinates {
  id: string;
  topic: string;
  partition: number;
  /** Contiguous per topic partition, from 0. */
  offset: number;
  /** Store-wide and increasing, for cross-topic queries (not for tailing: use offsets). */
  position: number;
  /** 1, 2, 3… per (topic, key); `null` for an event without a key. */
  version: number | null;
  /** Commit time, ISO 8601 UTC. */
  time: string;
}

/** A committed event as readers see it. */
export interface StoredEvent extends EventCoordinates {
  type: string;
  key: string | null;
  data: unknown;
  metadata: EventMetadata;
}

/** The body of a 200/201 answer to an append. */
export interface AppendResponse {
  events: EventCoordinates[];
}

/** A page of a partition, read from an offset. */
export interface PartitionPage {
  events: StoredEvent[];
  /** The offset to read from next. */
  next: number;
}

/**
 * A page of a cross-topic query: at most its `limit` events and the bus's batch budget of bytes
 * (at least one event).
 */
export interface QueryPage {
  events: StoredEvent[];
  /**
   * Opaque cursor right after this page's last event, also when the budget cut the page short;
   * `null` when this page is the last one.
   */
  next: string | null;
}

/**
 * A page of an entity stream (topic, key), in version order: at most its `limit` events and the
 * bus's batch budget of bytes (at least one event).
 */
export interface KeyPage {
  events: StoredEvent[];
  /**
   * The version to read from next, also when the budget cut the page short; `null` when the stream
   * has no more events now.
   */
  next: number | null;
}

/** Retention of a topic. `null` fields mean "keep forever". */
export interface RetentionPolicy {
  maxAgeMs?: number | null;
}

export interface TopicInfo {
  name: string;
  partitions: number;
  retention: RetentionPolicy;
  /** Whether appends are checked against the registered schemas of their types. */
  validation: ValidationPolicy;
  /** Number of events stored in the topic. */
  events: number;
  /** Per partition, the offset the next event will get (the count of events in it). */
  headOffsets: number[];
  createdAt: string;
}

export interface TopicSettings {
  partitions?: number;
  retention?: RetentionPolicy;
  /** Default `if-registered`. */
  validation?: ValidationPolicy;
}
