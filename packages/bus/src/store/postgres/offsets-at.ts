import { TributaryError } from "@tributary/protocol";
import type { ISql } from "postgres";

/**
 * Per partition of `topic` (in partition order), the offset of its first event committed at or
 * after `at.time`, or at or after store position `at.position`; the partition's head when it has
 * none. `topic-not-found` for an unknown topic.
 *
 * Within a partition both time and position grow with the offset: offsets, the commit time
 * (`clock_timestamp()` under the partition lock) and the identity position are all taken under the
 * partition lock held until commit, so a later offset was committed later. The first matching
 * offset is therefore found by a binary search over [first stored offset, head), each step one
 * probe of the unique (topic, partition, offset) index: about 20 probes per partition for a
 * million events, all in one statement. Neither the time index (it spans every topic, so for an
 * early time it walks most of the table) nor a scan in offset order with a filter (it walks the
 * partition up to the answer) stays fast at that size: on 1M events in 4 partitions the search
 * answers all 4 in about 3 ms, where `min("offset") … WHERE time >= $t` took 45–180 ms for a
 * single partition and a time in the middle. A new (topic, partition, time) index would cost
 * every append a write for a rare read.
 */
export async function offsetsAt(
  sql: ISql,
  topic: string,
  at: { time: Date } | { position: number },
): Promise<number[]> {
  const reached =
    "time" in at
      ? sql`events.time >= ${at.time.toISOString()}::timestamptz`
      : sql`events.position >= ${at.position}::bigint`;
  const rows = await sql<{ partition: number; offset: string }[]>`
    WITH RECURSIVE search (partition, low, high) AS (
      SELECT partitions.partition,
        coalesce((
          SELECT min("offset") FROM events
          WHERE events.topic = partitions.topic AND events.partition = partitions.partition
        ), partitions.next_offset),
        partitions.next_offset
      FROM partitions
      WHERE partitions.topic = ${topic}
      UNION ALL
      SELECT search.partition,
        CASE WHEN probe.reached THEN search.low ELSE probe.middle + 1 END,
        CASE WHEN probe.reached THEN probe.middle ELSE search.high END
      FROM search
      CROSS JOIN LATERAL (
        SELECT middle, EXISTS (
          SELECT 1 FROM events
          WHERE events.topic = ${topic} AND events.partition = search.partition
            AND events."offset" = middle AND ${reached}
        ) AS reached
        FROM (SELECT (search.low + search.high) / 2 AS middle) AS halved
      ) AS probe
      WHERE search.low < search.high
    )
    SELECT partition, low AS "offset" FROM search
    WHERE low >= high
    ORDER BY partition`;
  if (rows.length === 0) throw new TributaryError("topic-not-found", { details: { topic } });
  return rows.map((row) => Number(row.offset));
}
