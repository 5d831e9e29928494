import type { EventPage } from "../event-store.js";
import { type EventRow, payloadBytes, toStoredEvent } from "./event-row.js";

/**
 * The events of `rows`, in their order, while their payload fits in `maxBytes` (all of them without
 * a budget), the first whatever its size. Rows are pulled one at a time from a statement's
 * iterator and the iteration stops at the first that does not fit, so no row after it is read:
 * that one row tells that the page is cut (`isCutByBytes`) and is dropped.
 */
export function readWithinBytes(rows: Iterable<EventRow>, maxBytes: number | undefined): EventPage {
  const events = [];
  let bytes = 0;
  for (const row of rows) {
    if (maxBytes !== undefined) {
      bytes += payloadBytes(row);
      if (events.length > 0 && bytes > maxBytes) return { events, isCutByBytes: true };
    }
    events.push(toStoredEvent(row));
  }
  return { events, isCutByBytes: false };
}
