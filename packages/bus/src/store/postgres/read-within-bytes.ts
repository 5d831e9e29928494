/** Rows of the first query of a read bounded by bytes: few, as its events may be large. */
const firstQueryRows = 16;

/** A row of a query of `readWithinBytes`. */
export interface BoundedRow {
  /** The payload bytes of its query up to this row, this row included. */
  total: number;
  /**
   * The row that followed the last one within the budget, sent without its payload only to tell
   * that the read is cut by bytes; queries that need not tell (partition reads) never send one.
   */
  isPastBudget?: boolean;
}

/**
 * One query of a read bounded by bytes: at most `rows` rows after the row `after` (from the read's
 * start when `undefined`), cut by the server where the running sum of their payload passes
 * `maxBytes` (the first row of the read kept whatever its size), so that no more than the budget
 * crosses the wire. It may end with a row past the budget (`isPastBudget`).
 */
export type BoundedQuery<R extends BoundedRow> = (
  after: R | undefined,
  rows: number,
  maxBytes: number,
) => Promise<readonly R[]>;

/** The rows of `readWithinBytes`; `isCutByBytes` when a query sent its row past the budget. */
export interface BoundedRead<R> {
  rows: R[];
  isCutByBytes: boolean;
}

/**
 * Reads up to `limit` rows within `maxBytes` of payload (at least one row), in as few queries as
 * it can. The server sums the payload in a window over a `LIMIT`ed scan, so a query measures every
 * row of its `LIMIT`, also those past the budget: the first query takes few rows, and the next are
 * sized by the average payload seen so far (small events: two queries; large ones: little printed
 * in vain). PostgreSQL has no "take while" that would stop the scan itself.
 */
export async function readWithinBytes<R extends BoundedRow>(
  limit: number,
  maxBytes: number,
  query: BoundedQuery<R>,
): Promise<BoundedRead<R>> {
  const rows: R[] = [];
  let bytes = 0;
  let count = Math.min(limit, firstQueryRows);
  for (;;) {
    const page = await query(rows[rows.length - 1], count, maxBytes - bytes);
    if (page[page.length - 1]?.isPastBudget === true) {
      rows.push(...page.slice(0, -1));
      return { rows, isCutByBytes: true };
    }
    rows.push(...page);
    const last = page[page.length - 1];
    // Fewer rows than asked: the end of what matches, or the budget.
    if (last === undefined || page.length < count || rows.length >= limit) {
      return { rows, isCutByBytes: false };
    }
    bytes += last.total;
    const average = Math.max(bytes / rows.length, 1);
    count = Math.min(limit - rows.length, Math.max(firstQueryRows, Math.ceil((maxBytes - bytes) / average)));
  }
}
