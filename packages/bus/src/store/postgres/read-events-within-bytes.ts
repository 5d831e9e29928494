import type { ISql, PendingQuery, Row } from "postgres";
import type { EventPage } from "../event-store.js";
import { type EventRow, toStoredEvent } from "./event-row.js";
import { readWithinBytes } from "./read-within-bytes.js";

/** The shape of a page read by `readEventsWithinBytes`. */
export interface EventPageQuery {
  /** The rows to read, after the row `after` when given (keyset), else from the page's start. */
  where: (after: EventRow | undefined) => PendingQuery<Row[]>;
  /** The order of the page (`version`, `position DESC`…), a fresh fragment on each call. */
  order: () => PendingQuery<Row[]>;
  limit: number;
  /** Bytes of payload at most (the first event whatever its size); without it, `limit` alone. */
  maxBytes: number | undefined;
}

type BoundedEventRow = EventRow & { total: number; isPastBudget: boolean };

/**
 * A page of the events `where` selects, in `order`: at most `limit`, and within `maxBytes` of
 * payload as `readPartition` counts it. A query that stops at the budget also sends the row that
 * followed, without its `data` and `metadata`, so that the page tells it was cut (`isCutByBytes`)
 * and its reader goes on right after its last event, while no more than the budget crosses the wire.
 */
export async function readEventsWithinBytes(sql: ISql, page: EventPageQuery): Promise<EventPage> {
  const { where, order, limit, maxBytes } = page;
  if (maxBytes === undefined) {
    const rows = await sql<EventRow[]>`
      SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata
      FROM events
      WHERE ${where(undefined)}
      ORDER BY ${order()}
      LIMIT ${limit}`;
    return { events: rows.map(toStoredEvent), isCutByBytes: false };
  }
  const { rows, isCutByBytes } = await readWithinBytes<BoundedEventRow>(
    limit,
    maxBytes,
    (after, count, bytes) => {
      const isFirst = after === undefined;
      // `before`, the payload of the rows ahead of a row, keeps the rows within the budget and the one
      // that passes it; only those within it carry their payload. A first row past the budget is kept
      // whole, so the one after it is the row that tells of the cut.
      return sql<BoundedEventRow[]>`
      SELECT id, topic, partition, "offset", position, version, type, key, time,
        CASE WHEN is_within THEN data END AS data,
        CASE WHEN is_within THEN metadata END AS metadata,
        total, NOT is_within AS "isPastBudget"
      FROM (
        SELECT *,
          total <= ${bytes} OR (n = 1 AND ${isFirst}::boolean) AS is_within,
          lag(total, 1, 0::float8) OVER (ORDER BY ${order()}) AS before
        FROM (
          SELECT id, topic, partition, "offset", position, version, type, key, time, data, metadata,
            (sum(octet_length(data::text) + octet_length(metadata::text))
              OVER (ORDER BY ${order()} ROWS UNBOUNDED PRECEDING))::float8 AS total,
            row_number() OVER (ORDER BY ${order()}) AS n
          FROM events
          WHERE ${where(after)}
          ORDER BY ${order()}
          LIMIT ${count}
        ) AS scanned
      ) AS page
      WHERE before <= ${bytes} OR (n <= 2 AND ${isFirst}::boolean)
      ORDER BY ${order()}`;
    },
  );
  return { events: rows.map(toStoredEvent), isCutByBytes };
}
