import type { StoredEvent } from "@tributary/protocol";
import type { ISql } from "postgres";
import type { DeliveryRow } from "../event-store.js";
import { openEventJson } from "./event-json.js";
import { type EventRow, toEventCoordinates, toStoredEvent } from "./event-row.js";

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

/** A row of `readPartitionForDelivery`: `data` and `metadata` as the text of their jsonb. */
interface DeliverySourceRow extends Omit<EventRow, "data" | "metadata"> {
  data: string;
  metadata: string;
}

/**
 * The events of `readPartition` as delivery rows. `data` and `metadata` are selected as the text of
 * their jsonb (valid JSON, with the key order the driver's parse of the jsonb would give), so the
 * bus never parses and re-serializes them; the server does the printing.
 */
export async function readPartitionForDelivery(
  sql: ISql,
  topic: string,
  partition: number,
  fromOffset: number,
  limit: number,
): Promise<DeliveryRow[]> {
  const rows = await sql<DeliverySourceRow[]>`
    SELECT id, topic, partition, "offset", position, version, type, key, time,
      data::text AS data, metadata::text AS metadata
    FROM events
    WHERE topic = ${topic} AND partition = ${partition} AND "offset" >= ${fromOffset}
    ORDER BY "offset"
    LIMIT ${limit}`;
  const quotedTopic = JSON.stringify(topic);
  return rows.map((row) => {
    const coordinates = toEventCoordinates(row);
    const json = openEventJson(
      { ...coordinates, type: row.type, key: row.key, dataJson: row.data, metadataJson: row.metadata },
      quotedTopic,
    );
    return {
      id: row.id,
      partition: row.partition,
      offset: coordinates.offset,
      type: row.type,
      openJson: Buffer.from(json),
    };
  });
}
