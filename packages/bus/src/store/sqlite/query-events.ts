import type { Database, Statement } from "better-sqlite3";
import type { QueryFilter } from "../event-store.js";
import { type EventRow, eventColumns } from "./event-row.js";

/** The statement of a query's shape (which filters it has, its order) and the values to bind. */
export interface QueryPlan {
  sql: string;
  parameters: (string | number)[];
}

/**
 * The SQL of a cross-topic query: a condition per filter present, keyset paging by position in the
 * chosen order. Values are bound, never spliced, so the SQL depends only on the filter's shape and
 * a few dozen statements cover every query.
 */
export function planQuery(filter: QueryFilter): QueryPlan {
  const conditions: string[] = [];
  const parameters: (string | number)[] = [];
  if (filter.topic !== undefined) {
    conditions.push("topic = ?");
    parameters.push(filter.topic);
  }
  if (filter.type !== undefined) {
    conditions.push("type = ?");
    parameters.push(filter.type);
  }
  if (filter.key !== undefined) {
    conditions.push("key = ?");
    parameters.push(filter.key);
  }
  if (filter.correlationId !== undefined) {
    // The same expression as events_correlation_idx, so that the index serves it.
    conditions.push("json_extract(metadata, '$.correlationId') = ?");
    parameters.push(filter.correlationId);
  }
  if (filter.from !== undefined) {
    conditions.push("time >= ?");
    parameters.push(filter.from.toISOString());
  }
  if (filter.to !== undefined) {
    conditions.push("time < ?");
    parameters.push(filter.to.toISOString());
  }
  if (filter.afterPosition !== undefined) {
    conditions.push(filter.order === "asc" ? "position > ?" : "position < ?");
    parameters.push(filter.afterPosition);
  }
  parameters.push(filter.limit);
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const direction = filter.order === "asc" ? "ASC" : "DESC";
  return {
    sql: `SELECT ${eventColumns} FROM events ${where} ORDER BY position ${direction} LIMIT ?`,
    parameters,
  };
}

/** Prepared query statements by SQL text; bounded by the number of filter shapes. */
export type QueryStatementCache = Map<string, Statement<(string | number)[], EventRow>>;

/**
 * The rows a filter matches, as an iterator that reads them one at a time (so that a read bounded by
 * bytes stops where it is cut), preparing its statement on the first query of that shape.
 */
export function queryEventRows(
  db: Database,
  cache: QueryStatementCache,
  filter: QueryFilter,
): IterableIterator<EventRow> {
  const plan = planQuery(filter);
  let statement = cache.get(plan.sql);
  if (statement === undefined) {
    statement = db.prepare<(string | number)[], EventRow>(plan.sql);
    cache.set(plan.sql, statement);
  }
  return statement.iterate(...plan.parameters);
}
