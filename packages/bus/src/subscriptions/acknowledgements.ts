import { isDeliveryNotHeld, TributaryError } from "@tributary/protocol";
import { acknowledge } from "./partition-state.js";
import type { CombinedOutcome } from "./request-combiner.js";
import type {
  ConsumerState,
  PartitionState,
  SubscriptionState,
  SubscriptionUpdate,
} from "./subscription-store.js";

function notHeld(ids: string[]): TributaryError {
  return new TributaryError("delivery-not-held", {
    message: `${ids.length} of the events are not in flight to this consumer`,
    details: { ids: ids.slice(0, 100) },
  });
}

/**
 * Finds the pending deliveries named by `ids` among the partitions `consumer` owns. Throws
 * `delivery-not-held` (naming the others) unless every id is found.
 */
export function heldDeliveries(
  state: SubscriptionState,
  consumer: string,
  ids: string[],
): Map<number, Set<string>> {
  const wanted = new Set(ids);
  const byPartition = new Map<number, Set<string>>();
  for (const partition of state.partitions) {
    if (partition.owner !== consumer) continue;
    for (const entry of partition.pending) {
      if (!wanted.has(entry.id)) continue;
      wanted.delete(entry.id);
      let set = byPartition.get(partition.partition);
      if (set === undefined) {
        set = new Set();
        byPartition.set(partition.partition, set);
      }
      set.add(entry.id);
    }
  }
  if (wanted.size > 0) throw notHeld([...wanted]);
  return byPartition;
}

export interface AckRequest {
  consumer: string;
  /** Without repeats. */
  ids: string[];
}

/**
 * Applies acks one after the other to the state. An ack naming an event its consumer does not hold
 * fails alone, changing nothing, while the others of the batch apply.
 */
export function acknowledgeAll(
  state: SubscriptionState,
  requests: AckRequest[],
): SubscriptionUpdate<CombinedOutcome<number>[]> {
  const changed = new Map<number, PartitionState>();
  const consumers: ConsumerState[] = [];
  let current = state;
  const outcomes = requests.map(({ consumer, ids }): CombinedOutcome<number> => {
    let held: Map<number, Set<string>>;
    try {
      held = heldDeliveries(current, consumer, ids);
    } catch (error) {
      if (isDeliveryNotHeld(error)) return { ok: false, error };
      throw error;
    }
    const partitions = current.partitions.map((partition) => {
      const acknowledged = held.get(partition.partition);
      if (acknowledged === undefined) return partition;
      const next = acknowledge(partition, acknowledged);
      changed.set(next.partition, next);
      return next;
    });
    current = { ...current, partitions };
    consumers.push(heartbeatOf(state, consumer));
    return { ok: true, value: ids.length };
  });
  const partitions = [...changed.values()];
  return {
    result: outcomes,
    partitions,
    upsertConsumers: consumers,
    mayLoseOnCrash: true,
    // A finished batch lets the partition's next one go, maybe to a poll waiting elsewhere.
    announce: partitions.some((partition) => partition.ackDeadline === 0),
  };
}

/** The consumer's row renewed for another `leaseMs`: an ack or nack is a sign of life too. */
export function heartbeatOf(state: SubscriptionState, consumer: string) {
  return { id: consumer, expiresAt: state.now + state.subscription.leaseMs };
}
