import type { EventCoordinates } from "@tributary/protocol";
import type { Sql } from "postgres";
import { partitionOf } from "../../append/plan-append.js";
import type { AppendCommand, AppendOutcome, CommitNotice } from "../event-store.js";
import { partitionKey, streamKey } from "../topic-keys.js";
import type { AppendContext, AppendGroupResult } from "./append-group.js";
import { isJsonbCompatible } from "./jsonb-compatible.js";
import { settleAll, withPipelinedTransaction } from "./transaction.js";

/**
 * Whether a group can take the one-round-trip path: every topic is known to exist, every id was
 * assigned by the bus (nothing to look up) and every event appends with `expectedVersion: "any"`
 * (nothing to check), and all JSON fits jsonb. Then no command can fail on its own, and offsets and
 * versions can be computed by the server under the locks instead of planned in JavaScript.
 */
export function isSimpleGroup(
  commands: readonly AppendCommand[],
  partitionCounts: ReadonlyMap<string, number>,
) {
  for (const command of commands) {
    if (!partitionCounts.has(command.topic)) return false;
    for (const event of command.events) {
      if (event.idAssigned !== true || event.expectedVersion !== "any") return false;
      if (!isJsonbCompatible(event.dataJson) || !isJsonbCompatible(event.metadataJson)) return false;
    }
  }
  return true;
}

interface InsertedRow {
  id: string;
  offset: string;
  version: string | null;
  position: string;
  time: Date;
}

/**
 * Appends a simple group (see `isSimpleGroup`) in one pipeline, so one round trip: BEGIN; lock the
 * partition rows in (topic, partition) order; insert the events with offsets taken from the locked
 * heads and versions from each key's latest event (a statement that starts once the locks are held,
 * so it sees every commit of the previous holders); move the heads and notify; COMMIT. The locks
 * are held only for the server's own work and the fsync: no planning in JavaScript happens while
 * other groups wait for them.
 */
export async function appendSimpleGroup(
  sql: Sql,
  context: AppendContext,
  commands: readonly AppendCommand[],
): Promise<AppendGroupResult> {
  const ids: string[] = [];
  const topics: string[] = [];
  const partitions: number[] = [];
  const partitionRanks: number[] = [];
  const keys: (string | null)[] = [];
  const keyRanks: (number | null)[] = [];
  const types: string[] = [];
  // `data` and `metadata` travel as one JSON array each, joined from the texts prepared at parse
  // time: as `text[]` the driver would escape every quote of every document (the largest part of
  // the group's client-side cost), and the server parses the same bytes as jsonb either way.
  let dataArray = "[";
  let metadataArray = "[";
  const digests: string[] = [];
  /** Events per touched partition so far, by partition slot; also the order of the locks. */
  const counts = new Map<string, { topic: string; partition: number; count: number }>();
  const keyCounts = new Map<string, number>();
  for (const command of commands) {
    const partitionCount = context.partitionCounts.get(command.topic);
    if (partitionCount === undefined) throw new Error(`topic ${command.topic} is not known`);
    for (const event of command.events) {
      const partition = partitionOf(event, partitionCount);
      const slot = partitionKey(command.topic, partition);
      const entry = counts.get(slot) ?? { topic: command.topic, partition, count: 0 };
      counts.set(slot, entry);
      ids.push(event.id);
      topics.push(command.topic);
      partitions.push(partition);
      partitionRanks.push(entry.count);
      entry.count += 1;
      keys.push(event.key);
      if (event.key === null) {
        keyRanks.push(null);
      } else {
        const stream = streamKey(command.topic, event.key);
        const rank = (keyCounts.get(stream) ?? 0) + 1;
        keyCounts.set(stream, rank);
        keyRanks.push(rank);
      }
      types.push(event.type);
      const separator = ids.length === 1 ? "" : ",";
      dataArray += separator + event.dataJson;
      metadataArray += separator + event.metadataJson;
      digests.push(event.digest);
    }
  }
  dataArray += "]";
  metadataArray += "]";
  const locks = [...counts.values()].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
  const lockTopics = locks.map((lock) => lock.topic);
  const lockPartitions = locks.map((lock) => lock.partition);
  const lockCounts = locks.map((lock) => lock.count);

  const { inserted, heads } = await withPipelinedTransaction(sql, async ({ sql: tx, begun, commit }) => {
    const [, , inserted, heads] = await settleAll([
      begun,
      tx`
        SELECT 1 FROM partitions
        WHERE (topic, partition) IN (
          SELECT * FROM unnest(${lockTopics}::text[], ${lockPartitions}::integer[])
        )
        ORDER BY topic, partition
        FOR UPDATE`.execute(),
      tx<InsertedRow[]>`
        WITH input AS MATERIALIZED (
          SELECT event.*, data.value AS data, metadata.value AS metadata
          FROM unnest(
            ${ids}::text[], ${topics}::text[], ${partitions}::integer[], ${partitionRanks}::bigint[],
            ${keys}::text[], ${keyRanks}::bigint[], ${types}::text[], ${digests}::text[]
          ) WITH ORDINALITY
            AS event (id, topic, partition, rank, key, key_rank, type, digest, ordinal)
          JOIN jsonb_array_elements(${dataArray}::text::jsonb) WITH ORDINALITY AS data (value, ordinal)
            USING (ordinal)
          JOIN jsonb_array_elements(${metadataArray}::text::jsonb) WITH ORDINALITY AS metadata (value, ordinal)
            USING (ordinal)
        ), heads AS MATERIALIZED (
          SELECT topic, partition, next_offset FROM partitions
          WHERE (topic, partition) IN (
            SELECT * FROM unnest(${lockTopics}::text[], ${lockPartitions}::integer[])
          )
        ), latest AS MATERIALIZED (
          SELECT wanted.topic, wanted.key, coalesce((
            SELECT version FROM events
            WHERE events.topic = wanted.topic AND events.key = wanted.key AND events.key IS NOT NULL
            ORDER BY version DESC
            LIMIT 1
          ), 0) AS version
          FROM (SELECT DISTINCT topic, key FROM input WHERE key IS NOT NULL) AS wanted
        ), clock AS (
          SELECT date_trunc('milliseconds', clock_timestamp()) AS time
        )
        INSERT INTO events (id, topic, partition, "offset", key, version, type, time, data, metadata, digest)
        SELECT input.id, input.topic, input.partition, heads.next_offset + input.rank, input.key,
          latest.version + input.key_rank, input.type, clock.time, input.data, input.metadata, input.digest
        FROM input
        JOIN heads ON heads.topic = input.topic AND heads.partition = input.partition
        LEFT JOIN latest ON latest.topic = input.topic AND latest.key = input.key
        CROSS JOIN clock
        ORDER BY input.ordinal
        RETURNING id, "offset", version, position, time`.execute(),
      tx<{ topic: string; partition: number; next_offset: string }[]>`
        WITH moved AS (
          UPDATE partitions
          SET next_offset = partitions.next_offset + grown.count
          FROM unnest(${lockTopics}::text[], ${lockPartitions}::integer[], ${lockCounts}::bigint[])
            AS grown (topic, partition, count)
          WHERE partitions.topic = grown.topic AND partitions.partition = grown.partition
          RETURNING partitions.topic, partitions.partition, partitions.next_offset
        )
        SELECT topic, partition, next_offset,
          pg_notify(${context.channel}, json_build_object(
            'source', ${context.source}::text, 'topic', topic, 'partition', partition, 'nextOffset', next_offset
          )::text)
        FROM moved`.execute(),
      commit(),
    ]);
    return { inserted, heads };
  });

  const byId = new Map<string, InsertedRow>();
  for (const row of inserted) byId.set(row.id, row);
  // What the group wrote is exact at each partition's new head: kept for the next groups.
  const written = new Map<string, [string, number][]>();
  let index = 0;
  const outcomes = commands.map((command): AppendOutcome => {
    const events = command.events.map((event): EventCoordinates => {
      const row = byId.get(event.id);
      const partition = partitions[index];
      index += 1;
      if (row === undefined || partition === undefined)
        throw new Error("the insert returned no row for an event");
      const version = row.version === null ? null : Number(row.version);
      if (event.key !== null && version !== null) {
        const slot = partitionKey(command.topic, partition);
        const list = written.get(slot) ?? [];
        list.push([event.key, version]);
        written.set(slot, list);
      }
      return {
        id: event.id,
        topic: command.topic,
        partition,
        offset: Number(row.offset),
        position: Number(row.position),
        version,
        time: row.time.toISOString(),
      };
    });
    return { ok: true, events, replayed: events.length === 0 };
  });

  const notices: CommitNotice[] = [];
  for (const head of heads) {
    const nextOffset = Number(head.next_offset);
    const slot = partitionKey(head.topic, head.partition);
    const count = counts.get(slot)?.count ?? 0;
    context.versionCache.record(slot, nextOffset - count, nextOffset, written.get(slot) ?? []);
    notices.push({ topic: head.topic, partition: head.partition, nextOffset });
  }
  return { outcomes, notices };
}
