import type { StoredEvent } from "./event.js";

/** Where a subscription begins, or where `reset` moves it. */
export type StartPosition =
  | "earliest"
  | "latest"
  /** The first event committed at or after this ISO 8601 time, per partition. */
  | { time: string }
  /** The first event at or after this store position, per partition. */
  | { position: number };

/** A reset target: a start position, or explicit offsets per partition (others keep theirs). */
export type ResetTarget = StartPosition | { offsets: Record<string, number> };

export type DeliveryMode =
  | { mode: "pull" }
  | {
      mode: "push";
      /** The service endpoint that receives batches (CloudEvents batch JSON). */
      url: string;
      /** Events in one POST at most (default 100). */
      batchSize?: number;
      /** Milliseconds before a POST counts as failed (default 10,000). */
      timeoutMs?: number;
    };

export interface BackoffPolicy {
  /** Delay before the first redelivery. */
  initialMs: number;
  /** Cap of the exponential growth. */
  maxMs: number;
}

/** What `PUT /v1/subscriptions/{name}` takes; every field but `topic` has a default. */
export interface SubscriptionSettings {
  topic: string;
  /** Event types delivered; absent or `null`: all. */
  types?: string[] | null;
  start?: StartPosition;
  delivery?: DeliveryMode;
  maxAttempts?: number;
  backoff?: Partial<BackoffPolicy>;
  onFailure?: "dead-letter" | "block";
  ackTimeoutMs?: number;
  leaseMs?: number;
}

/** A subscription's definition with its defaults filled in. */
export interface SubscriptionInfo {
  name: string;
  topic: string;
  types: string[] | null;
  start: StartPosition;
  delivery: DeliveryMode;
  maxAttempts: number;
  backoff: BackoffPolicy;
  onFailure: "dead-letter" | "block";
  ackTimeoutMs: number;
  leaseMs: number;
  createdAt: string;
}

/** An event as a consumer receives it: `attempt` is 1 on the first delivery. */
export interface DeliveredEvent extends StoredEvent {
  attempt: number;
}

/** The answer to a poll. */
export interface PollResponse {
  events: DeliveredEvent[];
  /** The partitions leased to the polling consumer now. */
  partitions: number[];
}

export interface DeliveryError {
  message: string;
  eventId: string | null;
  at: string;
}

export interface PartitionStatus {
  partition: number;
  /** Every offset below is done (acknowledged, dead-lettered or filtered out). */
  checkpoint: number;
  /** The offset the next event of the partition will get. */
  head: number;
  lag: number;
  owner: string | null;
  leaseExpiresAt: string | null;
  /** Events delivered and not yet acknowledged, nacked or timed out. */
  inFlight: number;
  /** Events waiting to be delivered again (nacked, timed out or redriven). */
  retrying: number;
  retryAt: string | null;
  lastError: DeliveryError | null;
}

export interface ConsumerStatus {
  id: string;
  partitions: number[];
  expiresAt: string;
}

export interface BreakerStatus {
  state: "closed" | "open" | "half-open";
  failures: number;
  openedAt: string | null;
}

export interface SubscriptionStatus extends SubscriptionInfo {
  consumers: ConsumerStatus[];
  partitions: PartitionStatus[];
  lag: number;
  deadLetters: number;
  lastError: DeliveryError | null;
  push?: { breaker: BreakerStatus };
}

/** An event that failed `maxAttempts` times, kept for inspection, redrive or discard. */
export interface DeadLetter {
  /** The event's id. */
  id: string;
  partition: number;
  offset: number;
  attempts: number;
  error: string;
  deadAt: string;
  /** The event, while the store still holds it. */
  event: StoredEvent | null;
}

export interface DeadLetterPage {
  deadLetters: DeadLetter[];
  /** Pass as `after` for the next page; `null` on the last. */
  next: string | null;
}

/** `[A-Za-z0-9._:-]{1,128}`: consumer instance ids. */
export const consumerIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export function isValidConsumerId(id: string): boolean {
  return consumerIdPattern.test(id);
}
