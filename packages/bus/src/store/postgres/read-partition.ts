import type { StoredEvent } from "@tributary/protocol";
import type { ISql } from "postgres";
import type { DeliveryRow } from "../event-store.js";
import { openEventJson } from "./event-json.js";
import { type EventRow, toEventCoordinates } from "./event-row.js";
import { readEventsWithinBytes } from "./read-events-within-bytes.js";
import { readWithinBytes } from "./read-within-bytes.js";

/**
 * Events of one partition from `fromOffset` in offset order, at most `limit`, and with `maxBytes`
 * no more payload than that (at least one event). Offsets are taken under the partition lock held
 * until commit, so a committed offset is never followed by a gap that fills later: a tailing
 * reader that resumes after the last offset it saw misses nothing.
 */
export async function readPartition(
  sql: ISql,
  topic: string,
  partition: number,
  fromOffset: number,
  limit: number,
  maxBytes?: number,
): Promise<StoredEvent[]> {
  const page = await readEventsWithinBytes(sql, {
    where: (after) =>
      sql`topic = ${topic} AND partition = ${partition} AND "offset" >= ${nextOffset(fromOffset, after)}`,
    order: () => sql`"offset"`,
    limit,
    maxBytes,
  });
  return page.events;
}

/** The offset a read goes on from after the row `after` (from `fromOffset` when none). */
function nextOffset(fromOffset: number, after: { offset: string } | undefined): number {
  return after === undefined ? fromOffset : Number(after.offset) + 1;
}

/** A row of `readPartitionForDelivery`: `data` and `metadata` as the text of their jsonb. */
interface DeliverySourceRow extends Omit<EventRow, "data" | "metadata"> {
  data: string;
  metadata: string;
  /** The payload bytes of the read so far, this row included. */
  total: number;
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
  maxBytes?: number,
): Promise<DeliveryRow[]> {
  const rows =
    maxBytes === undefined
      ? await sql<DeliverySourceRow[]>`
          SELECT id, topic, partition, "offset", position, version, type, key, time,
            data::text AS data, metadata::text AS metadata, 0::float8 AS total
          FROM events
          WHERE topic = ${topic} AND partition = ${partition} AND "offset" >= ${fromOffset}
          ORDER BY "offset"
          LIMIT ${limit}`
      : (
          await readWithinBytes<DeliverySourceRow>(
            limit,
            maxBytes,
            (after, count, bytes) =>
              // The text is printed once, in the inner query, and measured from there.
              sql<DeliverySourceRow[]>`
            SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata, total
            FROM (
              SELECT e.*,
                (sum(octet_length(e.data) + octet_length(e.metadata))
                  OVER (ORDER BY e."offset" ROWS UNBOUNDED PRECEDING))::float8 AS total,
                row_number() OVER (ORDER BY e."offset") AS n
              FROM (
                SELECT id, topic, partition, "offset", position, version, type, key, time,
                  data::text AS data, metadata::text AS metadata
                FROM events
                WHERE topic = ${topic} AND partition = ${partition} AND "offset" >= ${nextOffset(fromOffset, after)}
                ORDER BY "offset"
                LIMIT ${count}
              ) AS e
            ) AS page
            WHERE total <= ${bytes} OR (n = 1 AND ${after === undefined}::boolean)
            ORDER BY "offset"`,
          )
        ).rows;
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
