import type { ISql } from "postgres";
import type { EventPage, ReadKeyOptions } from "../event-store.js";
import { readEventsWithinBytes } from "./read-events-within-bytes.js";

/**
 * The entity stream of (topic, key) in version order from `fromVersion`, at most `limit` and, with
 * `maxBytes`, no more payload than that (at least one event); with `asOf`, only the events
 * committed at or before that time (commit times grow with versions, so this is a prefix of the
 * stream).
 */
export function readKey(sql: ISql, topic: string, key: string, options: ReadKeyOptions): Promise<EventPage> {
  const asOf = options.asOf;
  return readEventsWithinBytes(sql, {
    where: (after) => {
      const from = after === undefined ? options.fromVersion : Number(after.version) + 1;
      const until = asOf === undefined ? sql`` : sql`AND time <= ${asOf}`;
      return sql`topic = ${topic} AND key = ${key} AND version >= ${from} ${until}`;
    },
    order: () => sql`version`,
    limit: options.limit,
    maxBytes: options.maxBytes,
  });
}
