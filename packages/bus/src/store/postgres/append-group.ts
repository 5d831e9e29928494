import type { Sql } from "postgres";
import {
  type AppendPlan,
  type GroupState,
  partitionOf,
  planAppend,
  type StoredIdentity,
} from "../../append/plan-append.js";
import type { AppendCommand, AppendGroupOptions, AppendOutcome, CommitNotice } from "../event-store.js";
import { parsePartitionKey, parseStreamKey, partitionKey, streamKey } from "../topic-keys.js";
import { appendSimpleGroup, isSimpleGroup } from "./append-simple-group.js";
import { toEventCoordinates } from "./event-row.js";
import { refuseUnstorableJson } from "./jsonb-compatible.js";
import { isRetriableAppendConflict } from "./store-errors.js";
import type { StreamVersionCache } from "./stream-version-cache.js";
import { type PipelinedTransaction, settleAll, withPipelinedTransaction } from "./transaction.js";

/** What `appendGroup` needs from the store around it. */
export interface AppendContext {
  /** Partition counts of topics known to exist. They never change, so entries never go stale. */
  partitionCounts: Map<string, number>;
  /** NOTIFY channel of the schema. */
  channel: string;
  /** Identifies this store instance in notifications, so it can skip its own. */
  source: string;
  /** Stream versions this process has seen, checked against the partition heads read under lock. */
  versionCache: StreamVersionCache;
}

/** The committed group: outcomes in command order, and the partitions that grew. */
export interface AppendGroupResult {
  outcomes: AppendOutcome[];
  notices: CommitNotice[];
}

/** The payload of a commit notification on the schema's channel. */
export interface CommitPayload extends CommitNotice {
  source: string;
}

/**
 * Attempts per group. A retry happens only when another transaction committed one of the group's
 * ids in a topic whose partitions this group did not lock (or on a deadlock between two such
 * groups); the next attempt sees that row, so two attempts settle it and more are a safety margin.
 */
const maxAttempts = 4;

/**
 * Commits a group of append commands in one transaction, in a fixed number of round trips whatever
 * the group's size: resolve topics (cached; unknown ones created when `autoCreate`), then in one
 * pipeline lock the involved partition rows in (topic, partition) order, read the stored ids, the
 * streams' versions (the latest event of each key, from the stream index) and the commit time, then evaluate every command in JavaScript, then in one
 * pipeline insert the accepted events, move the partition heads and notify.
 * The partition locks are held until COMMIT, so offsets are contiguous and become visible in order
 * across processes; the fixed lock order rules out deadlocks between groups.
 */
export async function appendGroup(
  sql: Sql,
  context: AppendContext,
  commands: readonly AppendCommand[],
  options: AppendGroupOptions,
): Promise<AppendGroupResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await appendGroupOnce(sql, context, commands, options);
    } catch (error) {
      if (attempt >= maxAttempts || !isRetriableAppendConflict(error)) throw error;
    }
  }
}

async function appendGroupOnce(
  sql: Sql,
  context: AppendContext,
  commands: readonly AppendCommand[],
  options: AppendGroupOptions,
): Promise<AppendGroupResult> {
  if (isSimpleGroup(commands, context.partitionCounts)) return appendSimpleGroup(sql, context, commands);
  const { learned, plan, read } = await withPipelinedTransaction(sql, async (tx) => {
    const topics = await resolveTopics(tx.sql, context.partitionCounts, commands, options);
    const read = await readGroupState(tx, context.versionCache, commands, topics.partitionCounts);
    const plan = planAppend(commands, read.state, { refuseEvent: refuseUnstorableJson });
    if (plan.inserts.length > 0) await writePlan(tx, context, plan);
    else await settleAll([tx.begun, tx.commit()]);
    return { learned: topics.learned, plan, read };
  });
  // Only now that a creation committed may other groups rely on the caches.
  for (const [topic, partitions] of learned) context.partitionCounts.set(topic, partitions);
  rememberVersions(context.versionCache, read, plan);
  return toResult(plan);
}

/** Records in the cache what the committed group knew and wrote of its partitions' streams. */
function rememberVersions(cache: StreamVersionCache, read: GroupRead, plan: AppendPlan): void {
  const byPartition = new Map<string, Map<string, number>>();
  const add = (stream: string, version: number) => {
    const slot = read.streamPartitions.get(stream);
    if (slot === undefined) return;
    let versions = byPartition.get(slot);
    if (versions === undefined) {
      versions = new Map();
      byPartition.set(slot, versions);
    }
    versions.set(parseStreamKey(stream).key, version);
  };
  for (const stream of read.streamPartitions.keys()) add(stream, read.state.versions.get(stream) ?? 0);
  for (const [stream, version] of plan.versions) add(stream, version);
  for (const [slot, lockedHead] of read.state.nextOffsets) {
    cache.record(slot, lockedHead, plan.nextOffsets.get(slot) ?? lockedHead, byPartition.get(slot) ?? []);
  }
}

interface ResolvedTopics {
  partitionCounts: Map<string, number>;
  /** Topics missing from the cache that this transaction found or created, to cache after COMMIT. */
  learned: Map<string, number>;
}

async function resolveTopics(
  tx: Sql,
  cache: ReadonlyMap<string, number>,
  commands: readonly AppendCommand[],
  options: AppendGroupOptions,
): Promise<ResolvedTopics> {
  const partitionCounts = new Map<string, number>();
  const learned = new Map<string, number>();
  const unknown = new Set<string>();
  for (const { topic } of commands) {
    const partitions = cache.get(topic);
    if (partitions === undefined) unknown.add(topic);
    else partitionCounts.set(topic, partitions);
  }
  if (unknown.size === 0) return { partitionCounts, learned };

  const names = [...unknown].sort();
  const found = await tx<{ name: string; partitions: number }[]>`
    SELECT name, partitions FROM topics WHERE name = ANY(${names}::text[])`;
  const learn = (row: { name: string; partitions: number }) => {
    partitionCounts.set(row.name, row.partitions);
    learned.set(row.name, row.partitions);
  };
  found.forEach(learn);
  const missing = names.filter((name) => !partitionCounts.has(name));
  if (missing.length === 0 || !options.autoCreate) return { partitionCounts, learned };

  // Sorted names: two groups creating the same topics wait for each other in one order.
  const inserted = await tx<{ name: string; partitions: number }[]>`
    WITH created AS (
      INSERT INTO topics (name, partitions)
      SELECT name, ${options.defaultPartitions}::integer FROM unnest(${missing}::text[]) AS name ORDER BY name
      ON CONFLICT (name) DO NOTHING
      RETURNING name, partitions
    ), created_partitions AS (
      INSERT INTO partitions (topic, partition)
      SELECT created.name, partition
      FROM created, generate_series(0, created.partitions - 1) AS partition
    )
    SELECT name, partitions FROM created`;
  inserted.forEach(learn);
  const raced = missing.filter((name) => !partitionCounts.has(name));
  if (raced.length > 0) {
    // Another process created these meanwhile; the insert waited for its commit, so a new
    // statement sees them.
    const rows = await tx<{ name: string; partitions: number }[]>`
      SELECT name, partitions FROM topics WHERE name = ANY(${raced}::text[])`;
    rows.forEach(learn);
  }
  return { partitionCounts, learned };
}

interface StoredEventRow {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  position: string;
  version: string | null;
  time: Date;
  digest: string;
}

/** What the group read under its locks, and the partition of each of its streams. */
interface GroupRead {
  state: GroupState;
  /** The `partitionKey` of each stream of the group, by `streamKey`. */
  streamPartitions: Map<string, string>;
}

async function readGroupState(
  { sql: tx, begun }: PipelinedTransaction,
  cache: StreamVersionCache,
  commands: readonly AppendCommand[],
  partitionCounts: ReadonlyMap<string, number>,
): Promise<GroupRead> {
  const lockTopics: string[] = [];
  const lockPartitions: number[] = [];
  const lockSlots = new Set<string>();
  const ids = new Set<string>();
  const streamTopics: string[] = [];
  const streamKeys: string[] = [];
  const streamPartitions = new Map<string, string>();
  const cached: { stream: string; slot: string; key: string; version: number; head: number }[] = [];
  for (const command of commands) {
    const partitions = partitionCounts.get(command.topic);
    if (partitions === undefined) continue;
    for (const event of command.events) {
      if (event.idAssigned !== true) ids.add(event.id);
      const partition = partitionOf(event, partitions);
      const slot = partitionKey(command.topic, partition);
      if (!lockSlots.has(slot)) {
        lockSlots.add(slot);
        lockTopics.push(command.topic);
        lockPartitions.push(partition);
      }
      if (event.key !== null) {
        const stream = streamKey(command.topic, event.key);
        if (!streamPartitions.has(stream)) {
          streamPartitions.set(stream, slot);
          // Taken from the cache if its partition's head is unchanged, checked once it is locked.
          const version = cache.lookup(slot, event.key);
          if (version === undefined) {
            streamTopics.push(command.topic);
            streamKeys.push(event.key);
          } else {
            cached.push({ stream, slot, key: event.key, version, head: cache.head(slot) ?? -1 });
          }
        }
      }
    }
  }
  const state: GroupState = {
    partitionCounts,
    nextOffsets: new Map(),
    versions: new Map(),
    storedEvents: new Map(),
    time: "",
  };
  if (lockSlots.size === 0) return { state, streamPartitions };

  // One pipeline (each query sent as it is built): the server runs them in order, so everything
  // after the lock is read while holding it and sees every commit of the previous holders.
  const [, locked, stored, versions, clock] = await settleAll([
    begun,
    tx<{ topic: string; partition: number; next_offset: string }[]>`
      SELECT topic, partition, next_offset
      FROM partitions
      WHERE (topic, partition) IN (
        SELECT * FROM unnest(${lockTopics}::text[], ${lockPartitions}::integer[])
      )
      ORDER BY topic, partition
      FOR UPDATE`.execute(),
    ids.size === 0
      ? Promise.resolve([])
      : tx<StoredEventRow[]>`
          SELECT id, topic, partition, "offset", position, version, time, digest
          FROM events
          WHERE id = ANY(${[...ids]}::text[])`.execute(),
    readVersions(tx, streamTopics, streamKeys),
    tx<{ now: Date }[]>`SELECT date_trunc('milliseconds', clock_timestamp()) AS now`.execute(),
  ]);

  const nextOffsets = new Map<string, number>();
  for (const row of locked) nextOffsets.set(partitionKey(row.topic, row.partition), Number(row.next_offset));
  const streamVersions = new Map<string, number>();
  for (const row of versions) streamVersions.set(streamKey(row.topic, row.key), Number(row.version));
  // Cached versions hold if their partition's head did not move since; the others are read now,
  // still under the lock (another process appended to that partition).
  const staleTopics: string[] = [];
  const staleKeys: string[] = [];
  for (const entry of cached) {
    if (nextOffsets.get(entry.slot) === entry.head) {
      if (entry.version > 0) streamVersions.set(entry.stream, entry.version);
    } else {
      staleTopics.push(parseStreamKey(entry.stream).topic);
      staleKeys.push(entry.key);
    }
  }
  if (staleKeys.length > 0) {
    for (const row of await readVersions(tx, staleTopics, staleKeys)) {
      streamVersions.set(streamKey(row.topic, row.key), Number(row.version));
    }
  }
  const storedEvents = new Map<string, StoredIdentity>();
  for (const row of stored) {
    storedEvents.set(row.id, { digest: row.digest, coordinates: toEventCoordinates(row) });
  }
  const now = clock[0]?.now;
  if (now === undefined) throw new Error("the clock query returned no row");
  return {
    state: { ...state, nextOffsets, versions: streamVersions, storedEvents, time: now.toISOString() },
    streamPartitions,
  };
}

/** The version of each given stream that has events: that of its latest event. */
function readVersions(
  tx: Sql,
  topics: string[],
  keys: string[],
): Promise<readonly { topic: string; key: string; version: string }[]> {
  if (keys.length === 0) return Promise.resolve([]);
  return tx<{ topic: string; key: string; version: string }[]>`
    SELECT wanted.topic, wanted.key, latest.version
    FROM unnest(${topics}::text[], ${keys}::text[]) AS wanted (topic, key)
    CROSS JOIN LATERAL (
      SELECT version FROM events
      WHERE events.topic = wanted.topic AND events.key = wanted.key AND events.key IS NOT NULL
      ORDER BY version DESC
      LIMIT 1
    ) AS latest`.execute();
}

async function writePlan(
  { sql: tx, commit }: PipelinedTransaction,
  context: AppendContext,
  plan: AppendPlan,
): Promise<void> {
  // Every event of a group has the group's commit time.
  const time = plan.inserts[0]?.coordinates.time;
  if (time === undefined) return;
  const count = plan.inserts.length;
  const ids = new Array<string>(count);
  const topics = new Array<string>(count);
  const partitions = new Array<number>(count);
  const offsets = new Array<number>(count);
  const keys = new Array<string | null>(count);
  const versions = new Array<number | null>(count);
  const types = new Array<string>(count);
  const data = new Array<string>(count);
  const metadata = new Array<string>(count);
  const digests = new Array<string>(count);
  plan.inserts.forEach(({ event, coordinates }, index) => {
    ids[index] = event.id;
    topics[index] = coordinates.topic;
    partitions[index] = coordinates.partition;
    offsets[index] = coordinates.offset;
    keys[index] = event.key;
    versions[index] = coordinates.version;
    types[index] = event.type;
    data[index] = event.dataJson;
    metadata[index] = event.metadataJson;
    digests[index] = event.digest;
  });

  const headTopics: string[] = [];
  const headPartitions: number[] = [];
  const heads: number[] = [];
  const payloads: string[] = [];
  for (const [slot, nextOffset] of plan.nextOffsets) {
    const { topic, partition } = parsePartitionKey(slot);
    headTopics.push(topic);
    headPartitions.push(partition);
    heads.push(nextOffset);
    const payload: CommitPayload = { source: context.source, topic, partition, nextOffset };
    payloads.push(JSON.stringify(payload));
  }

  // One pipeline; NOTIFY is delivered by the server at COMMIT, never before.
  const [inserted] = await settleAll([
    tx<{ id: string; position: string }[]>`
      INSERT INTO events (id, topic, partition, "offset", key, version, type, time, data, metadata, digest)
      SELECT id, topic, partition, "offset", key, version, type, ${time}::timestamptz, data::jsonb, metadata::jsonb, digest
      FROM unnest(
        ${ids}::text[], ${topics}::text[], ${partitions}::integer[], ${offsets}::bigint[], ${keys}::text[],
        ${versions}::bigint[], ${types}::text[], ${data}::text[], ${metadata}::text[], ${digests}::text[]
      ) WITH ORDINALITY AS event (id, topic, partition, "offset", key, version, type, data, metadata, digest, ordinal)
      ORDER BY ordinal
      RETURNING id, position`.execute(),
    tx`
      UPDATE partitions
      SET next_offset = head.next_offset
      FROM unnest(${headTopics}::text[], ${headPartitions}::integer[], ${heads}::bigint[])
        AS head (topic, partition, next_offset)
      WHERE partitions.topic = head.topic AND partitions.partition = head.partition`.execute(),
    tx`SELECT pg_notify(${context.channel}, payload) FROM unnest(${payloads}::text[]) AS payload`.execute(),
    commit(),
  ]);

  const positions = new Map<string, number>();
  for (const row of inserted) positions.set(row.id, Number(row.position));
  for (const { coordinates } of plan.inserts) {
    const position = positions.get(coordinates.id);
    if (position === undefined) throw new Error("the insert returned no position for an event");
    coordinates.position = position;
  }
}

function toResult(plan: AppendPlan): AppendGroupResult {
  const outcomes = plan.outcomes.map(
    (outcome): AppendOutcome =>
      outcome.ok
        ? {
            ok: true,
            replayed: outcome.replayed,
            events: outcome.events.map((coordinates) => ({ ...coordinates })),
          }
        : outcome,
  );
  const notices: CommitNotice[] = [];
  for (const [slot, nextOffset] of plan.nextOffsets) {
    const { topic, partition } = parsePartitionKey(slot);
    notices.push({ topic, partition, nextOffset });
  }
  return { outcomes, notices };
}
