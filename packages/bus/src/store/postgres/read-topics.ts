import type { RetentionPolicy, TopicInfo, ValidationPolicy } from "@tributary/protocol";
import type { ISql } from "postgres";

interface TopicRow {
  name: string;
  partitions: number;
  retention: RetentionPolicy;
  validation: ValidationPolicy;
  created_at: Date;
  /** json array of next_offset by partition: numbers, unlike a bigint[] the driver gives as strings. */
  heads: number[] | null;
}

function toTopicInfo(row: TopicRow): TopicInfo {
  const headOffsets = row.heads ?? [];
  return {
    name: row.name,
    partitions: row.partitions,
    retention: row.retention,
    validation: row.validation,
    events: headOffsets.reduce((sum, head) => sum + head, 0),
    headOffsets,
    createdAt: row.created_at.toISOString(),
  };
}

/** Every topic in name order, with its event count and per-partition heads. */
export async function listTopics(sql: ISql): Promise<TopicInfo[]> {
  const rows = await sql<TopicRow[]>`
    SELECT name, partitions, retention, validation, created_at,
      (SELECT json_agg(next_offset ORDER BY partition) FROM partitions WHERE topic = topics.name) AS heads
    FROM topics
    ORDER BY name`;
  return rows.map(toTopicInfo);
}

/** One topic with its event count and per-partition heads, or `undefined` when it does not exist. */
export async function getTopic(sql: ISql, name: string): Promise<TopicInfo | undefined> {
  const [row] = await sql<TopicRow[]>`
    SELECT name, partitions, retention, validation, created_at,
      (SELECT json_agg(next_offset ORDER BY partition) FROM partitions WHERE topic = topics.name) AS heads
    FROM topics
    WHERE name = ${name}`;
  return row === undefined ? undefined : toTopicInfo(row);
}
