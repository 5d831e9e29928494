import { type GroupState, planAppend, type StoredIdentity } from "../../append/plan-append.js";
import type { AppendCommand, AppendGroupOptions, AppendOutcome, CommitNotice } from "../event-store.js";
import { parsePartitionKey, parseStreamKey, partitionKey, streamKey } from "../topic-keys.js";
import type { SqliteStatements } from "./statements.js";
import { insertTopic } from "./topic-rows.js";

/** The committed group: outcomes in command order, the partitions that grew, the topics seen. */
export interface SqliteAppendResult {
  outcomes: AppendOutcome[];
  notices: CommitNotice[];
  /** Partition counts of the group's existing topics, including those it created. */
  partitionCounts: Map<string, number>;
}

/**
 * Evaluates and writes a group of append commands; runs inside the caller's `BEGIN IMMEDIATE`
 * transaction, so nothing changes under it. It reads what it needs in a few statements per topic
 * (the topic, its partitions' heads, the versions of the group's keys) and one for the stored ids
 * of the group, evaluates the commands with `planAppend` (the rules every store shares: expected
 * versions, idempotent resends, id conflicts, offsets), then inserts the accepted events and moves
 * the heads and versions that changed.
 */
export function appendGroupInTransaction(
  statements: SqliteStatements,
  knownPartitionCounts: ReadonlyMap<string, number>,
  commands: readonly AppendCommand[],
  options: AppendGroupOptions,
): SqliteAppendResult {
  // One commit time for the whole group: its events commit together.
  const time = new Date().toISOString();
  const partitionCounts = resolveTopics(statements, knownPartitionCounts, commands, options, time);
  const state: GroupState = {
    partitionCounts,
    nextOffsets: readHeads(statements, partitionCounts),
    versions: readVersions(statements, partitionCounts, commands),
    storedEvents: readStoredIdentities(statements, commands),
    time,
  };
  const plan = planAppend(commands, state);

  for (const { event, coordinates } of plan.inserts) {
    const result = statements.insertEvent.run(
      event.id,
      coordinates.topic,
      coordinates.partition,
      coordinates.offset,
      event.key,
      coordinates.version,
      event.type,
      time,
      event.dataJson,
      event.metadataJson,
      event.digest,
    );
    // The outcomes hold these very coordinates, so they get the position too.
    coordinates.position = Number(result.lastInsertRowid);
  }
  const notices: CommitNotice[] = [];
  for (const [slot, nextOffset] of plan.nextOffsets) {
    const { topic, partition } = parsePartitionKey(slot);
    statements.updateNextOffset.run(nextOffset, topic, partition);
    notices.push({ topic, partition, nextOffset });
  }
  for (const [stream, version] of plan.versions) {
    const { topic, key } = parseStreamKey(stream);
    statements.upsertStream.run(topic, key, version);
  }
  return { outcomes: plan.outcomes, notices, partitionCounts };
}

/**
 * Partition counts of the group's topics that exist, creating unknown ones when `autoCreate`.
 * Partition counts never change, so the caller's cache of them is trusted without a read.
 */
function resolveTopics(
  statements: SqliteStatements,
  knownPartitionCounts: ReadonlyMap<string, number>,
  commands: readonly AppendCommand[],
  options: AppendGroupOptions,
  time: string,
): Map<string, number> {
  const partitionCounts = new Map<string, number>();
  const missing = new Set<string>();
  for (const { topic: name } of commands) {
    if (partitionCounts.has(name) || missing.has(name)) continue;
    let partitions = knownPartitionCounts.get(name) ?? statements.selectPartitionCount.get(name);
    if (partitions === undefined && options.autoCreate) {
      partitions = options.defaultPartitions;
      insertTopic(statements, name, partitions, "{}", time);
    }
    if (partitions === undefined) missing.add(name);
    else partitionCounts.set(name, partitions);
  }
  return partitionCounts;
}

/**
 * The head of every partition of the group's topics, one statement per topic: cheaper than
 * hashing each event's key to find the partitions it touches, which the planner does anyway.
 */
function readHeads(
  statements: SqliteStatements,
  partitionCounts: ReadonlyMap<string, number>,
): Map<string, number> {
  const heads = new Map<string, number>();
  for (const [topic, partitions] of partitionCounts) {
    const stored = statements.selectHeads.all(topic);
    if (stored.length !== partitions) throw new Error(`topic "${topic}" has ${stored.length} partition rows`);
    for (let partition = 0; partition < partitions; partition++) {
      heads.set(partitionKey(topic, partition), stored[partition]!);
    }
  }
  return heads;
}

/** The stored events among the group's ids, in one statement. */
function readStoredIdentities(
  statements: SqliteStatements,
  commands: readonly AppendCommand[],
): Map<string, StoredIdentity> {
  const ids: string[] = [];
  for (const command of commands) {
    for (const event of command.events) if (event.idAssigned !== true) ids.push(event.id);
  }
  const identities = new Map<string, StoredIdentity>();
  if (ids.length === 0) return identities;
  for (const row of statements.selectStoredIds.all(JSON.stringify(ids))) {
    const { digest, ...coordinates } = row;
    identities.set(row.id, { digest, coordinates });
  }
  return identities;
}

/** The current versions of the streams of the group's keys, one statement per topic. */
function readVersions(
  statements: SqliteStatements,
  partitionCounts: ReadonlyMap<string, number>,
  commands: readonly AppendCommand[],
): Map<string, number> {
  const keysByTopic = new Map<string, Set<string>>();
  for (const command of commands) {
    if (!partitionCounts.has(command.topic)) continue;
    let keys = keysByTopic.get(command.topic);
    if (keys === undefined) {
      keys = new Set();
      keysByTopic.set(command.topic, keys);
    }
    for (const event of command.events) {
      if (event.key !== null) keys.add(event.key);
    }
  }
  const versions = new Map<string, number>();
  for (const [topic, keys] of keysByTopic) {
    if (keys.size === 0) continue;
    for (const row of statements.selectVersions.all(topic, JSON.stringify([...keys]))) {
      versions.set(streamKey(topic, row.key), row.version);
    }
  }
  return versions;
}
