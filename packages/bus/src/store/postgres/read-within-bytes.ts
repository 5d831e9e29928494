/** Rows of the first query of a read bounded by bytes: few, as its events may be large. */
const firstQueryRows = 16;

/** A row of a query of `readWithinBytes`: its offset, and the payload bytes of its query up to it. */
export interface BoundedRow {
  offset: string;
  total: number;
}

/**
 * One query of a read bounded by bytes: at most `rows` rows from offset `from`, cut by the server
 * where the running sum of their payload passes `maxBytes` (the first row kept whatever its size
 * when `isFirst`), so that no more than the budget crosses the wire.
 */
export type BoundedQuery<R extends BoundedRow> = (
  from: number,
  rows: number,
  maxBytes: number,
  isFirst: boolean,
) => Promise<readonly R[]>;

/**
 * Reads up to `limit` rows from `fromOffset` within `maxBytes` of payload (at least one row), in
 * as few queries as it can. The server sums the payload in a window over a `LIMIT`ed scan, so a
 * query measures every row of its `LIMIT`, also those past the budget: the first query takes few
 * rows, and the next are sized by the average payload seen so far (small events: two queries; large
 * ones: little printed in vain). PostgreSQL has no "take while" that would stop the scan itself.
 */
export async function readWithinBytes<R extends BoundedRow>(
  fromOffset: number,
  limit: number,
  maxBytes: number,
  query: BoundedQuery<R>,
): Promise<R[]> {
  const rows: R[] = [];
  let bytes = 0;
  let from = fromOffset;
  let count = Math.min(limit, firstQueryRows);
  for (;;) {
    const page = await query(from, count, maxBytes - bytes, rows.length === 0);
    rows.push(...page);
    const last = page[page.length - 1];
    // Fewer rows than asked: the partition's head, or the budget.
    if (last === undefined || page.length < count || rows.length >= limit) return rows;
    bytes += last.total;
    from = Number(last.offset) + 1;
    const average = Math.max(bytes / rows.length, 1);
    count = Math.min(limit - rows.length, Math.max(firstQueryRows, Math.ceil((maxBytes - bytes) / average)));
  }
}
