import type { DeadLetter } from "@tributary/protocol";
import type { EventStore } from "../store/event-store.js";
import type { DeadLetterRecord } from "./subscription-store.js";

/** Events of dead letters fetched at once for a page of them. */
const concurrentFetches = 8;

/** A dead letter as the API shows it, with its event (`null` when retention removed it). */
export async function toDeadLetter(store: EventStore, record: DeadLetterRecord): Promise<DeadLetter> {
  const event = (await store.getEvent(record.eventId)) ?? null;
  return {
    id: record.eventId,
    partition: record.partition,
    offset: record.offset,
    attempts: record.attempts,
    error: record.error,
    deadAt: new Date(record.deadAt).toISOString(),
    event,
  };
}

/**
 * The dead letters of `records` with their events, in order, while their events' JSON stays within
 * `maxBytes` (the first whatever its size): fewer than `records` when the budget ran out. Events
 * are fetched a few at a time, so that a page of large events never holds much more than the budget.
 */
export async function deadLettersWithin(
  store: EventStore,
  records: readonly DeadLetterRecord[],
  maxBytes: number,
): Promise<DeadLetter[]> {
  const deadLetters: DeadLetter[] = [];
  let bytes = 0;
  for (let start = 0; start < records.length; start += concurrentFetches) {
    const batch = records.slice(start, start + concurrentFetches);
    const fetched = await Promise.all(batch.map((record) => toDeadLetter(store, record)));
    for (const letter of fetched) {
      const size = letter.event === null ? 0 : Buffer.byteLength(JSON.stringify(letter.event));
      if (deadLetters.length > 0 && bytes + size > maxBytes) return deadLetters;
      deadLetters.push(letter);
      bytes += size;
    }
  }
  return deadLetters;
}
