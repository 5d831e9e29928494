import type { StoredEvent } from "@tributary/protocol";
import type { ISql } from "postgres";
import { type EventRow, toStoredEvent } from "./event-row.js";

/** The event with this id, or `undefined` when none is stored. */
export async function getEvent(sql: ISql, id: string): Promise<StoredEvent | undefined> {
  const [row] = await sql<EventRow[]>`
    SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata
    FROM events
    WHERE id = ${id}`;
  return row === undefined ? undefined : toStoredEvent(row);
}
