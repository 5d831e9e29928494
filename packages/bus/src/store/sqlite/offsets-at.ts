import { TributaryError } from "@tributary/protocol";
import type { SqliteStatements } from "./statements.js";

/**
 * Per partition, the first offset whose event was committed at or after `at` (a time or a store
 * position); the head when there is none. Within a partition both time and position grow with the
 * offset (they are assigned in commit order under the single writer), so a binary search over
 * offsets finds it with about 20 point reads of the (topic, partition, offset) index per partition,
 * however long the partition.
 */
export function offsetsAt(
  statements: SqliteStatements,
  topic: string,
  at: { time: Date } | { position: number },
): number[] {
  const heads = statements.selectHeads.all(topic);
  if (heads.length === 0) throw new TributaryError("topic-not-found", { details: { topic } });
  const probe = statements.selectEventTimeAt;
  const first = statements.selectFirstOffset;
  const isAtOrAfter = (row: { time: string; position: number }) =>
    "time" in at ? Date.parse(row.time) >= at.time.getTime() : row.position >= at.position;
  return heads.map((head, partition) => {
    // min() of no rows is one NULL row, not none.
    let low = first.get(topic, partition) ?? head;
    let high = head;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const row = probe.get(topic, partition, middle);
      if (row === undefined || isAtOrAfter(row)) high = middle;
      else low = middle + 1;
    }
    return low;
  });
}
