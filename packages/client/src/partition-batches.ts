import type { DeliveredEvent } from "@tributary/protocol";

/**
 * Splits a poll's events into one batch per partition, each in the order the bus sent it (offset
 * order), partitions in the order they first appear.
 */
export function groupByPartition(events: DeliveredEvent[]): Map<number, DeliveredEvent[]> {
  const batches = new Map<number, DeliveredEvent[]>();
  for (const event of events) {
    const batch = batches.get(event.partition);
    if (batch === undefined) batches.set(event.partition, [event]);
    else batch.push(event);
  }
  return batches;
}
