import type { BackoffPolicy, SubscriptionInfo } from "@tributary/protocol";
import type { DeadLetterRecord, PartitionState, PendingDelivery } from "./subscription-store.js";

/**
 * The checkpoint a partition may have now: below its first pending delivery that is not a redrive
 * (redriven events are below it already), or its cursor when none is pending. Never below the
 * stored checkpoint: checkpoints only move forward.
 */
export function checkpointOf(partition: PartitionState): number {
  let candidate = partition.cursor;
  for (const entry of partition.pending) {
    if (entry.redriven !== true && entry.offset < candidate) candidate = entry.offset;
  }
  return Math.max(partition.checkpoint, candidate);
}

/**
 * The delay before a delivery that failed `failures` times is sent again: exponential from
 * `initialMs`, capped at `maxMs`, with jitter (50–100 %) so that consumers failing together do
 * not retry together.
 */
export function backoffDelay(backoff: BackoffPolicy, failures: number, random = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  return Math.round(delay * (0.5 + random() / 2));
}

export interface FailureOutcome {
  partition: PartitionState;
  deadLetters: DeadLetterRecord[];
}

/**
 * Records a failure of the given outstanding deliveries of a partition (nack, ack timeout, lost
 * lease). Each failed delivery counts one more failure; one that reached `maxAttempts` goes to the
 * dead letters (unless the subscription blocks instead). Outstanding deliveries after the first
 * failed one are returned to the queue uncounted, so the partition is delivered again in order.
 * The partition waits `retryAfterMs` (default: the backoff of the most failed delivery) before its
 * pending deliveries go out again.
 */
export function failDeliveries(
  subscription: SubscriptionInfo,
  partition: PartitionState,
  failedIds: ReadonlySet<string>,
  error: string,
  now: number,
  retryAfterMs?: number,
): FailureOutcome {
  const failedOffsets = partition.pending.filter((entry) => failedIds.has(entry.id)).map((e) => e.offset);
  const firstFailed = failedOffsets.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...failedOffsets);
  const deadLetters: DeadLetterRecord[] = [];
  const pending: PendingDelivery[] = [];
  let mostFailures = 0;
  let lastFailedId: string | null = null;
  for (const entry of partition.pending) {
    if (failedIds.has(entry.id)) {
      const failures = entry.failures + 1;
      lastFailedId = entry.id;
      if (failures >= subscription.maxAttempts && subscription.onFailure === "dead-letter") {
        deadLetters.push({
          eventId: entry.id,
          partition: partition.partition,
          offset: entry.offset,
          attempts: failures,
          error,
          deadAt: now,
        });
        continue;
      }
      mostFailures = Math.max(mostFailures, failures);
      pending.push({ ...entry, failures, outstanding: false, lastError: error });
    } else if (entry.outstanding && entry.offset > firstFailed) {
      pending.push({ ...entry, outstanding: false });
    } else {
      pending.push(entry);
    }
  }
  const stillOutstanding = pending.some((entry) => entry.outstanding);
  const waitsForRetry = pending.some((entry) => !entry.outstanding);
  const delay = retryAfterMs ?? (mostFailures > 0 ? backoffDelay(subscription.backoff, mostFailures) : 0);
  const next: PartitionState = {
    ...partition,
    pending,
    ackDeadline: stillOutstanding ? partition.ackDeadline : 0,
    retryAt: waitsForRetry ? Math.max(partition.retryAt, now + delay) : 0,
    lastError: { message: error, eventId: lastFailedId, at: now },
  };
  next.checkpoint = checkpointOf(next);
  return { partition: next, deadLetters };
}

/** Ids of the partition's outstanding deliveries. */
export function outstandingIds(partition: PartitionState): Set<string> {
  return new Set(partition.pending.filter((entry) => entry.outstanding).map((entry) => entry.id));
}

/**
 * Returns the outstanding deliveries of a partition to the queue without counting a failure (the
 * consumer left gracefully, or the subscription was reset).
 */
export function releaseOutstanding(partition: PartitionState): PartitionState {
  if (!partition.pending.some((entry) => entry.outstanding)) return partition;
  return {
    ...partition,
    pending: partition.pending.map((entry) => (entry.outstanding ? { ...entry, outstanding: false } : entry)),
    ackDeadline: 0,
  };
}

/** Removes acknowledged deliveries and moves the checkpoint past them. */
export function acknowledge(partition: PartitionState, ids: ReadonlySet<string>): PartitionState {
  const pending = partition.pending.filter((entry) => !ids.has(entry.id));
  const next: PartitionState = {
    ...partition,
    pending,
    ackDeadline: pending.some((entry) => entry.outstanding) ? partition.ackDeadline : 0,
    retryAt: pending.some((entry) => !entry.outstanding) ? partition.retryAt : 0,
  };
  next.checkpoint = checkpointOf(next);
  return next;
}
