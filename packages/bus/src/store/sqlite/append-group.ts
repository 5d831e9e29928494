import { type EventCoordinates, partitionForKey, TributaryError } from "@tributary/protocol";
import type {
  AppendCommand,
  AppendGroupOptions,
  AppendOutcome,
  CommitNotice,
  PreparedEvent,
} from "../event-store.js";
import type { SqliteStatements } from "./statements.js";
import { insertTopic } from "./topic-rows.js";

/** An event id known to the group, stored before it or accepted earlier in it. */
interface Identity {
  digest: string;
  coordinates: EventCoordinates;
}

/** What the group knows about one of its topics while it evaluates the commands. */
interface TopicState {
  name: string;
  partitions: number;
  /** Head of each partition as stored, read when the group first touches the partition. */
  storedHeads: (number | undefined)[];
  /** Head of each touched partition after the commands accepted so far. */
  heads: (number | undefined)[];
  /** Current version of each stream of the group's keys, as stored (absent: no stream). */
  storedVersions: Map<string, number>;
  /** Version of each stream after the commands accepted so far. */
  versions: Map<string, number>;
}

interface AcceptedEvent {
  event: PreparedEvent;
  coordinates: EventCoordinates;
}

/** The committed group: outcomes in command order, the partitions that grew, the topics seen. */
export interface SqliteAppendResult {
  outcomes: AppendOutcome[];
  notices: CommitNotice[];
  /** Partition counts of the group's existing topics, including those it created. */
  partitionCounts: Map<string, number>;
}

/**
 * Evaluates and writes a group of append commands; runs inside the caller's `BEGIN IMMEDIATE`
 * transaction, so nothing changes under it. It reads what it needs in a few statements (topics,
 * the stored ids of the group, the streams' versions, each touched partition's head once), then
 * evaluates the commands in order in JavaScript as if each were appended alone after the previous
 * ones: a failing command is undone from the running state, so later commands do not see it. An
 * event whose id is stored, or accepted earlier in the group, with the same digest is an
 * idempotent resend: it gets those coordinates and skips its `expectedVersion` check, which its
 * first append passed. Keyless events have no stream: no version, no `expectedVersion` check.
 * Finally it inserts the accepted events and moves the heads and versions that changed.
 */
export function appendGroupInTransaction(
  statements: SqliteStatements,
  knownPartitionCounts: ReadonlyMap<string, number>,
  commands: readonly AppendCommand[],
  options: AppendGroupOptions,
): SqliteAppendResult {
  // One commit time for the whole group: its events commit together.
  const time = new Date().toISOString();
  const topics = resolveTopics(statements, knownPartitionCounts, commands, options, time);
  const identities = readStoredIdentities(statements, commands);
  readVersions(statements, topics, commands);

  const outcomes: AppendOutcome[] = [];
  const accepted: AcceptedEvent[] = [];
  const undoPartitions: number[] = [];
  const undoHeads: number[] = [];
  const undoKeys: string[] = [];
  const undoVersions: number[] = [];

  for (const command of commands) {
    const topic = topics.get(command.topic);
    if (topic === undefined) {
      outcomes.push({
        ok: false,
        error: new TributaryError("topic-not-found", {
          message: `Topic "${command.topic}" does not exist`,
          details: { topic: command.topic },
        }),
      });
      continue;
    }
    const start = accepted.length;
    const events: EventCoordinates[] = [];
    let failure: TributaryError | undefined;
    undoPartitions.length = 0;
    undoHeads.length = 0;
    undoKeys.length = 0;
    undoVersions.length = 0;

    for (const event of command.events) {
      const known = identities.get(event.id);
      if (known !== undefined) {
        if (known.digest !== event.digest) {
          failure = new TributaryError("id-conflict", {
            message: `Event id "${event.id}" is already stored with other content`,
            details: { id: event.id },
          });
          break;
        }
        events.push(known.coordinates);
        continue;
      }

      let version: number | null = null;
      if (event.key !== null) {
        const actualVersion = topic.versions.get(event.key) ?? 0;
        const expected = event.expectedVersion;
        if (
          expected !== "any" &&
          (expected === "no_stream" ? actualVersion !== 0 : expected !== actualVersion)
        ) {
          failure = new TributaryError("version-conflict", {
            message: `Expected version ${expected} of key "${event.key}" in topic "${topic.name}", found ${actualVersion}`,
            details: { key: event.key, expectedVersion: expected, actualVersion },
          });
          break;
        }
        version = actualVersion + 1;
        undoKeys.push(event.key);
        undoVersions.push(actualVersion);
        topic.versions.set(event.key, version);
      }

      const partition = partitionForKey(event.key ?? event.id, topic.partitions);
      const offset = topic.heads[partition] ?? readHead(statements, topic, partition);
      undoPartitions.push(partition);
      undoHeads.push(offset);
      topic.heads[partition] = offset + 1;

      const coordinates: EventCoordinates = {
        id: event.id,
        topic: topic.name,
        partition,
        offset,
        position: 0,
        version,
        time,
      };
      identities.set(event.id, { digest: event.digest, coordinates });
      accepted.push({ event, coordinates });
      events.push(coordinates);
    }

    if (failure === undefined) {
      outcomes.push({ ok: true, events, replayed: accepted.length === start });
      continue;
    }
    // Undo in reverse order, so each head and version gets back the value it had before the command.
    for (let index = undoPartitions.length - 1; index >= 0; index--) {
      topic.heads[undoPartitions[index]!] = undoHeads[index]!;
    }
    for (let index = undoKeys.length - 1; index >= 0; index--) {
      topic.versions.set(undoKeys[index]!, undoVersions[index]!);
    }
    for (let index = start; index < accepted.length; index++) {
      identities.delete(accepted[index]!.event.id);
    }
    accepted.length = start;
    outcomes.push({ ok: false, error: failure });
  }

  for (const { event, coordinates } of accepted) {
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
    coordinates.position = Number(result.lastInsertRowid);
  }
  return { outcomes, notices: writeHeadsAndVersions(statements, topics), partitionCounts: countsOf(topics) };
}

/**
 * The group's topics that exist, creating unknown ones when `autoCreate`. Partition counts never
 * change, so the caller's cache of them is trusted without a read.
 */
function resolveTopics(
  statements: SqliteStatements,
  knownPartitionCounts: ReadonlyMap<string, number>,
  commands: readonly AppendCommand[],
  options: AppendGroupOptions,
  time: string,
): Map<string, TopicState> {
  const topics = new Map<string, TopicState>();
  const missing = new Set<string>();
  for (const { topic: name } of commands) {
    if (topics.has(name) || missing.has(name)) continue;
    let partitions = knownPartitionCounts.get(name) ?? statements.selectPartitionCount.get(name);
    if (partitions === undefined && options.autoCreate) {
      partitions = options.defaultPartitions;
      insertTopic(statements, name, partitions, "{}", time);
    }
    if (partitions === undefined) {
      missing.add(name);
      continue;
    }
    topics.set(name, {
      name,
      partitions,
      storedHeads: new Array<number | undefined>(partitions),
      heads: new Array<number | undefined>(partitions),
      storedVersions: new Map(),
      versions: new Map(),
    });
  }
  return topics;
}

/** The stored events among the group's ids, in one statement. */
function readStoredIdentities(
  statements: SqliteStatements,
  commands: readonly AppendCommand[],
): Map<string, Identity> {
  const ids: string[] = [];
  for (const command of commands) {
    for (const event of command.events) if (event.idAssigned !== true) ids.push(event.id);
  }
  const identities = new Map<string, Identity>();
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
  topics: Map<string, TopicState>,
  commands: readonly AppendCommand[],
): void {
  const keysByTopic = new Map<TopicState, Set<string>>();
  for (const command of commands) {
    const topic = topics.get(command.topic);
    if (topic === undefined) continue;
    let keys = keysByTopic.get(topic);
    if (keys === undefined) {
      keys = new Set();
      keysByTopic.set(topic, keys);
    }
    for (const event of command.events) {
      if (event.key !== null) keys.add(event.key);
    }
  }
  for (const [topic, keys] of keysByTopic) {
    if (keys.size === 0) continue;
    for (const row of statements.selectVersions.all(topic.name, JSON.stringify([...keys]))) {
      topic.storedVersions.set(row.key, row.version);
      topic.versions.set(row.key, row.version);
    }
  }
}

function readHead(statements: SqliteStatements, topic: TopicState, partition: number): number {
  const head = statements.selectNextOffset.get(topic.name, partition);
  if (head === undefined) throw new Error(`partition ${partition} of topic "${topic.name}" has no row`);
  topic.storedHeads[partition] = head;
  return head;
}

/** Moves the heads and versions the group changed; returns a notice per partition that grew. */
function writeHeadsAndVersions(
  statements: SqliteStatements,
  topics: Map<string, TopicState>,
): CommitNotice[] {
  const notices: CommitNotice[] = [];
  for (const topic of topics.values()) {
    for (let partition = 0; partition < topic.partitions; partition++) {
      const head = topic.heads[partition];
      if (head === undefined || head === topic.storedHeads[partition]) continue;
      statements.updateNextOffset.run(head, topic.name, partition);
      notices.push({ topic: topic.name, partition, nextOffset: head });
    }
    for (const [key, version] of topic.versions) {
      if (version !== (topic.storedVersions.get(key) ?? 0))
        statements.upsertStream.run(topic.name, key, version);
    }
  }
  return notices;
}

function countsOf(topics: Map<string, TopicState>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const topic of topics.values()) counts.set(topic.name, topic.partitions);
  return counts;
}
