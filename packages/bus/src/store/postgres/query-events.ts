import type { ISql, PendingQuery, Row } from "postgres";
import type { EventPage, QueryFilter } from "../event-store.js";
import { readEventsWithinBytes } from "./read-events-within-bytes.js";

/** A condition per filter present; fresh fragments on each call, one set per query sent. */
function filterConditions(sql: ISql, filter: QueryFilter): PendingQuery<Row[]>[] {
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
  return conditions;
}

/**
 * Events across topics matching every given filter, in position order (`asc` or `desc`), at most
 * `limit` and, with `maxBytes`, no more payload than that (at least one event). `afterPosition`
 * continues a page: positions after it in the chosen order. `from` is inclusive and `to` exclusive,
 * both on the commit time.
 */
export function queryEvents(sql: ISql, filter: QueryFilter): Promise<EventPage> {
  const isAscending = filter.order === "asc";
  return readEventsWithinBytes(sql, {
    where: (after) => {
      const conditions = filterConditions(sql, filter);
      const position = after === undefined ? filter.afterPosition : Number(after.position);
      const keyset =
        position === undefined
          ? sql`TRUE`
          : isAscending
            ? sql`position > ${position}`
            : sql`position < ${position}`;
      return conditions.reduce((all, condition) => sql`${all} AND ${condition}`, keyset);
    },
    order: () => (isAscending ? sql`position ASC` : sql`position DESC`),
    limit: filter.limit,
    maxBytes: filter.maxBytes,
  });
}
