import type { StoredEvent } from "@tributary/protocol";
import type { ISql } from "postgres";
import { type EventRow, toStoredEvent } from "./event-row.js";

/**
 * Events of one partition from `fromOffset` in offset order, at most `limit`. Offsets are taken
 * under the partition lock held until commit, so a committed offset is never followed by a gap
 * that fills later: a tailing reader that resumes after the last offset it saw misses nothing.
 */
export async function readPartition(
  sql: ISql,
  topic: string,
  partition: number,
  fromOffset: number,
  limit: number,
): Promise<StoredEvent[]> {
  const rows = await sql<EventRow[]>`
    SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata
    FROM events
    WHERE topic = ${topic} AND partition = ${partition} AND "offset" >= ${fromOffset}
    ORDER BY "offset"
    LIMIT ${limit}`;
  return rows.map(toStoredEvent);
}
