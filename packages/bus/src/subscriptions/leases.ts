import type { SubscriptionInfo } from "@tributary/protocol";
import { failDeliveries, outstandingIds } from "./partition-state.js";
import type { ConsumerState, DeadLetterRecord, PartitionState } from "./subscription-store.js";

/** The consumers whose lease has not expired at `now`, sorted by id. */
export function liveConsumers(consumers: readonly ConsumerState[], now: number): string[] {
  return consumers
    .filter((consumer) => consumer.expiresAt > now)
    .map((consumer) => consumer.id)
    .sort();
}

/** The consumer that should own `partition` when `live` (sorted) are the live instances. */
export function desiredOwner(partition: number, live: readonly string[]): string | undefined {
  return live.length === 0 ? undefined : live[partition % live.length];
}

/**
 * Applies the clock to a partition: outstanding deliveries past their ack deadline fail ("ack
 * timeout"); a partition whose owner is no longer live loses it, and what it had outstanding fails
 * ("lease expired") — the instance may have crashed mid-batch, and counting it keeps an event that
 * crashes every consumer from cycling forever.
 */
export function expirePartition(
  subscription: SubscriptionInfo,
  partition: PartitionState,
  live: ReadonlySet<string>,
  now: number,
): { partition: PartitionState; deadLetters: DeadLetterRecord[] } {
  let current = partition;
  const deadLetters: DeadLetterRecord[] = [];
  const ownerGone = current.owner !== null && !live.has(current.owner);
  if (current.ackDeadline !== 0 && (now >= current.ackDeadline || ownerGone)) {
    const failed = outstandingIds(current);
    if (failed.size > 0) {
      const reason = ownerGone
        ? `the lease of consumer ${current.owner} expired before it acknowledged`
        : `not acknowledged within ${subscription.ackTimeoutMs} ms`;
      const outcome = failDeliveries(subscription, current, failed, reason, now);
      current = outcome.partition;
      deadLetters.push(...outcome.deadLetters);
    } else {
      current = { ...current, ackDeadline: 0 };
    }
  }
  if (ownerGone) current = { ...current, owner: null, leaseExpiresAt: 0 };
  return { partition: current, deadLetters };
}

/**
 * Moves leases towards the even share for `consumer`: it gives up partitions that are another live
 * instance's share once their batch is done, and takes free partitions that are its own share.
 * Partitions it keeps or takes get its lease expiry.
 */
export function rebalanceFor(
  partition: PartitionState,
  consumer: string,
  live: readonly string[],
  leaseExpiresAt: number,
): PartitionState {
  const desired = desiredOwner(partition.partition, live);
  if (partition.owner === consumer) {
    if (desired !== consumer && !partition.pending.some((entry) => entry.outstanding)) {
      return { ...partition, owner: null, leaseExpiresAt: 0 };
    }
    return partition.leaseExpiresAt === leaseExpiresAt ? partition : { ...partition, leaseExpiresAt };
  }
  if (partition.owner === null && desired === consumer) {
    return { ...partition, owner: consumer, leaseExpiresAt };
  }
  return partition;
}
