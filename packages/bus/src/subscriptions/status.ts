import type { DeliveryError, SubscriptionStatus } from "@tributary/protocol";
import type { SubscriptionState } from "./subscription-store.js";

const iso = (ms: number) => new Date(ms).toISOString();

/** The status document of a subscription, from one consistent read of its state and the heads. */
export function buildStatus(
  state: SubscriptionState,
  heads: readonly number[],
  deadLetters: number,
  push: SubscriptionStatus["push"],
): SubscriptionStatus {
  const live = state.consumers.filter((consumer) => consumer.expiresAt > state.now);
  const liveIds = new Set(live.map((consumer) => consumer.id));
  let lastError: DeliveryError | null = null;
  let lastErrorAt = -1;
  const partitions = state.partitions.map((partition) => {
    const head = heads[partition.partition] ?? partition.cursor;
    const owner = partition.owner !== null && liveIds.has(partition.owner) ? partition.owner : null;
    const error =
      partition.lastError === null
        ? null
        : {
            message: partition.lastError.message,
            eventId: partition.lastError.eventId,
            at: iso(partition.lastError.at),
          };
    if (partition.lastError !== null && partition.lastError.at > lastErrorAt) {
      lastErrorAt = partition.lastError.at;
      lastError = error;
    }
    const expiresAt = live.find((consumer) => consumer.id === owner)?.expiresAt;
    return {
      partition: partition.partition,
      checkpoint: partition.checkpoint,
      head,
      lag: Math.max(head - partition.checkpoint, 0),
      owner,
      leaseExpiresAt: expiresAt === undefined ? null : iso(expiresAt),
      inFlight: partition.pending.filter((entry) => entry.outstanding).length,
      retrying: partition.pending.filter((entry) => !entry.outstanding).length,
      retryAt: partition.retryAt === 0 ? null : iso(partition.retryAt),
      lastError: error,
    };
  });
  return {
    ...state.subscription,
    consumers: live.map((consumer) => ({
      id: consumer.id,
      partitions: partitions.filter((p) => p.owner === consumer.id).map((p) => p.partition),
      expiresAt: iso(consumer.expiresAt),
    })),
    partitions,
    lag: partitions.reduce((sum, partition) => sum + partition.lag, 0),
    deadLetters,
    lastError,
    ...(push === undefined ? {} : { push }),
  };
}
