import type { StoredEvent } from "@tributary/protocol";
import type { ISql } from "postgres";
import type { ReadKeyOptions } from "../event-store.js";
import { type EventRow, toStoredEvent } from "./event-row.js";

/**
 * The entity stream of (topic, key) in version order from `fromVersion`, at most `limit`; with
 * `asOf`, only the events committed at or before that time (commit times grow with versions, so
 * this is a prefix of the stream).
 */
export async function readKey(
  sql: ISql,
  topic: string,
  key: string,
  options: ReadKeyOptions,
): Promise<StoredEvent[]> {
  const asOf = options.asOf === undefined ? sql`` : sql`AND time <= ${options.asOf}`;
  const rows = await sql<EventRow[]>`
    SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata
    FROM events
    WHERE topic = ${topic} AND key = ${key} AND version >= ${options.fromVersion} ${asOf}
    ORDER BY version
    LIMIT ${options.limit}`;
  return rows.map(toStoredEvent);
}
