import type { RetentionPolicy, TopicInfo } from "@tributary/protocol";
import type { SqliteStatements, TopicRow } from "./statements.js";

/** Inserts a topic and its partition rows, every head at offset 0. The caller holds the write lock. */
export function insertTopic(
  statements: SqliteStatements,
  name: string,
  partitions: number,
  retentionJson: string,
  createdAt: string,
): void {
  statements.insertTopic.run(name, partitions, retentionJson, createdAt);
  for (let partition = 0; partition < partitions; partition++) {
    statements.insertPartition.run(name, partition);
  }
}

/**
 * A topic row with its heads. Offsets are contiguous from 0 and events are never deleted, so the
 * sum of the heads is the number of events, without counting rows.
 */
export function toTopicInfo(row: TopicRow, headOffsets: number[]): TopicInfo {
  return {
    name: row.name,
    partitions: row.partitions,
    retention: JSON.parse(row.retention) as RetentionPolicy,
    validation: row.validation,
    events: headOffsets.reduce((sum, head) => sum + head, 0),
    headOffsets,
    createdAt: row.created_at,
  };
}
