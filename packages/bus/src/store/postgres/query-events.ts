import type { StoredEvent } from "@tributary/protocol";
import type { ISql, PendingQuery, Row } from "postgres";
import type { QueryFilter } from "../event-store.js";
import { type EventRow, toStoredEvent } from "./event-row.js";

/**
 * Events across topics matching every given filter, in position order (`asc` or `desc`), at most
 * `limit`. `afterPosition` continues a page: positions after it in the chosen order. `from` is
 * inclusive and `to` exclusive, both on the commit time.
 */
export async function queryEvents(sql: ISql, filter: QueryFilter): Promise<StoredEvent[]> {
  const conditions: PendingQuery<Row[]>[] = [];
  if (filter.topic !== undefined) conditions.push(sql`topic = ${filter.topic}`);
  if (filter.type !== undefined) conditions.push(sql`type = ${filter.type}`);
  if (filter.key !== undefined) conditions.push(sql`key = ${filter.key}`);
  // Written exactly as the expression of events_correlation_idx, so the index applies.
  if (filter.correlationId !== undefined) {
    conditions.push(sql`(metadata->>'correlationId') = ${filter.correlationId}`);
  }
  if (filter.from !== undefined) conditions.push(sql`time >= ${filter.from}`);
  if (filter.to !== undefined) conditions.push(sql`time < ${filter.to}`);
  if (filter.afterPosition !== undefined) {
    conditions.push(
      filter.order === "asc"
        ? sql`position > ${filter.afterPosition}`
        : sql`position < ${filter.afterPosition}`,
    );
  }
  const where = conditions.reduce((all, condition) => sql`${all} AND ${condition}`, sql`TRUE`);
  const order = filter.order === "asc" ? sql`ASC` : sql`DESC`;
  const rows = await sql<EventRow[]>`
    SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata
    FROM events
    WHERE ${where}
    ORDER BY position ${order}
    LIMIT ${filter.limit}`;
  return rows.map(toStoredEvent);
}
