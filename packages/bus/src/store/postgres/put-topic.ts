import { limits, type TopicInfo, type TopicSettings, TributaryError } from "@tributary/protocol";
import type { Sql } from "postgres";
import { getTopic } from "./read-topics.js";
import { withTransaction } from "./transaction.js";

/**
 * Creates a topic with its partition rows, or returns the existing one. Asking an existing topic
 * for another partition count is a `topic-conflict` (partition counts never change, so keys keep
 * their partition); another retention replaces the stored one. Missing settings take the defaults
 * on creation and leave an existing topic as it is. Safe against concurrent creation of the same
 * topic: the loser sees the winner's topic once it committed.
 */
export async function putTopic(
  sql: Sql,
  name: string,
  settings: TopicSettings,
): Promise<{ topic: TopicInfo; created: boolean }> {
  const partitions = settings.partitions ?? limits.defaultPartitions;
  const retention = JSON.stringify(settings.retention ?? {});
  const validation = settings.validation ?? "if-registered";
  return withTransaction(sql, async (tx) => {
    const inserted = await tx<{ name: string }[]>`
      WITH created AS (
        INSERT INTO topics (name, partitions, retention, validation)
        VALUES (${name}, ${partitions}::integer, ${retention}::text::jsonb, ${validation})
        ON CONFLICT (name) DO NOTHING
        RETURNING name, partitions
      ), created_partitions AS (
        INSERT INTO partitions (topic, partition)
        SELECT created.name, partition
        FROM created, generate_series(0, created.partitions - 1) AS partition
      )
      SELECT name FROM created`;
    const created = inserted.length > 0;
    if (!created) {
      const [existing] = await tx<{ partitions: number }[]>`
        SELECT partitions FROM topics WHERE name = ${name} FOR UPDATE`;
      if (existing === undefined) throw new Error(`topic ${name} neither inserted nor found`);
      if (settings.partitions !== undefined && settings.partitions !== existing.partitions) {
        throw new TributaryError("topic-conflict", {
          details: { topic: name, partitions: existing.partitions, requestedPartitions: settings.partitions },
        });
      }
      if (settings.retention !== undefined) {
        await tx`
          UPDATE topics SET retention = ${retention}::text::jsonb
          WHERE name = ${name} AND retention <> ${retention}::text::jsonb`;
      }
      if (settings.validation !== undefined) {
        await tx`UPDATE topics SET validation = ${validation} WHERE name = ${name} AND validation <> ${validation}`;
      }
    }
    const topic = await getTopic(tx, name);
    if (topic === undefined) throw new Error(`topic ${name} vanished inside its transaction`);
    return { topic, created };
  });
}
