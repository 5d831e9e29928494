import type { SubscriptionInfo } from "@tributary/protocol";
import type {
  ConsumerState,
  DeadLetterRecord,
  PartitionState,
  PendingDelivery,
} from "../../subscriptions/subscription-store.js";

/**
 * A `subscription_partitions` row as the driver returns it: bigint columns as decimal strings,
 * jsonb parsed.
 */
export interface PartitionRow {
  partition: number;
  checkpoint: string;
  cursor: string;
  pending: PendingDelivery[];
  owner: string | null;
  lease_expires_at: string;
  ack_deadline: string;
  retry_at: string;
  last_error: PartitionState["lastError"];
}

export interface ConsumerRow {
  consumer: string;
  expires_at: string;
}

export interface DeadLetterRow {
  event_id: string;
  partition: number;
  offset: string;
  attempts: number;
  error: string;
  dead_at: string;
}

/** Bigints become numbers: exact up to 2^53, far beyond any offset or epoch millisecond. */
export function toPartitionState(row: PartitionRow): PartitionState {
  return {
    partition: row.partition,
    checkpoint: Number(row.checkpoint),
    cursor: Number(row.cursor),
    pending: row.pending,
    owner: row.owner,
    leaseExpiresAt: Number(row.lease_expires_at),
    ackDeadline: Number(row.ack_deadline),
    retryAt: Number(row.retry_at),
    lastError: row.last_error,
  };
}

export function toConsumerState(row: ConsumerRow): ConsumerState {
  return { id: row.consumer, expiresAt: Number(row.expires_at) };
}

export function toDeadLetterRecord(row: DeadLetterRow): DeadLetterRecord {
  return {
    eventId: row.event_id,
    partition: row.partition,
    offset: Number(row.offset),
    attempts: row.attempts,
    error: row.error,
    deadAt: Number(row.dead_at),
  };
}

/**
 * Partition states as one array per column, for `unnest` in a single multi-row statement. JSON
 * columns travel as text (cast to jsonb by the statement): the driver would stringify a string
 * parameter again if it were typed json.
 */
export function partitionColumnArrays(partitions: readonly PartitionState[]) {
  return {
    partition: partitions.map((state) => state.partition),
    checkpoint: partitions.map((state) => state.checkpoint),
    cursor: partitions.map((state) => state.cursor),
    pending: partitions.map((state) => JSON.stringify(state.pending)),
    owner: partitions.map((state) => state.owner),
    leaseExpiresAt: partitions.map((state) => state.leaseExpiresAt),
    ackDeadline: partitions.map((state) => state.ackDeadline),
    retryAt: partitions.map((state) => state.retryAt),
    lastError: partitions.map((state) => (state.lastError === null ? null : JSON.stringify(state.lastError))),
  };
}

/** Dead letters as one array per column, for `unnest`. */
export function deadLetterColumnArrays(records: readonly DeadLetterRecord[]) {
  return {
    eventId: records.map((record) => record.eventId),
    partition: records.map((record) => record.partition),
    offset: records.map((record) => record.offset),
    attempts: records.map((record) => record.attempts),
    error: records.map((record) => record.error),
    deadAt: records.map((record) => record.deadAt),
  };
}

/** The definition as stored in `subscriptions.definition`: the whole SubscriptionInfo. */
export function definitionJson(subscription: SubscriptionInfo): string {
  return JSON.stringify(subscription);
}
