import {
  type EventCoordinates,
  type ExpectedVersion,
  partitionForKey,
  TributaryError,
} from "@tributary/protocol";
import type { AppendCommand, AppendOutcome, PreparedEvent } from "../store/event-store.js";
import { partitionKey, streamKey } from "../store/topic-keys.js";

/** An event already in the store, as the id check found it. */
export interface StoredIdentity {
  coordinates: EventCoordinates;
  digest: string;
}

/**
 * What the store read for a group before planning it, inside the transaction that will write the
 * plan (so nothing changes under it).
 */
export interface GroupState {
  /** Partition counts of the group's topics that exist (or were just created). */
  partitionCounts: ReadonlyMap<string, number>;
  /**
   * Head (next offset) of every partition the group's events of existing topics go to, by
   * `partitionKey`; more partitions may be given. A missing one is a bug of the store.
   */
  nextOffsets: ReadonlyMap<string, number>;
  /** Current version of each existing stream among the group's keys, by `streamKey`. */
  versions: ReadonlyMap<string, number>;
  /** Stored events among the group's ids, by id. Ids the bus assigned may be left out. */
  storedEvents: ReadonlyMap<string, StoredIdentity>;
  /** Commit time of the group, ISO 8601 with milliseconds. */
  time: string;
}

/** What an adapter adds to the plan: checks of its own limits. */
export interface PlanAppendOptions {
  /**
   * Refuses a new event that the store cannot keep (PostgreSQL's `jsonb` and the NUL character),
   * failing its command with the error returned. Not asked for resends, which are stored already.
   */
  refuseEvent?(event: PreparedEvent): TributaryError | undefined;
}

/** An event to insert; `coordinates.position` is 0 until the store fills it in after the insert. */
export interface PlannedEvent {
  event: PreparedEvent;
  coordinates: EventCoordinates;
}

/** The evaluation of a group: outcomes in command order and the writes they need. */
export interface AppendPlan {
  /**
   * One per command. The coordinates of an accepted event are the very objects of `inserts`, so a
   * position filled in there shows here too (in every command that answers that event).
   */
  outcomes: AppendOutcome[];
  /** Accepted new events, in group order. */
  inserts: PlannedEvent[];
  /** New head of each partition that receives events, by `partitionKey`. */
  nextOffsets: Map<string, number>;
  /** New version of each stream that receives events, by `streamKey`. */
  versions: Map<string, number>;
}

/** The partition of an event: by its key, or by its id when it has none. */
export function partitionOf(event: PreparedEvent, partitions: number): number {
  return partitionForKey(event.key ?? event.id, partitions);
}

/**
 * Evaluates the commands of a group in order against the state the store read, as if each had
 * been appended alone after the previous ones; every store plans with it, so that they answer
 * alike. A command that fails (unknown topic, version conflict, id reused with other content, an
 * event the adapter refuses) changes nothing, so the commands after it see the state without it.
 * An event whose id is stored, or accepted earlier in the group, with the same digest is an
 * idempotent resend: it gets those coordinates and skips its `expectedVersion` check, which its
 * first append passed. Within a command each event is checked against the version just before it.
 * Keyless events have no stream: their `expectedVersion` is not checked and their version is null.
 * Pure: it reads only its arguments and writes nothing.
 */
export function planAppend(
  commands: readonly AppendCommand[],
  state: GroupState,
  options: PlanAppendOptions = {},
): AppendPlan {
  const nextOffsets = new Map<string, number>();
  const versions = new Map<string, number>();
  const accepted = new Map<string, StoredIdentity>();
  const inserts: PlannedEvent[] = [];

  const outcomes = commands.map((command): AppendOutcome => {
    const { topic } = command;
    const partitions = state.partitionCounts.get(topic);
    if (partitions === undefined) {
      return { ok: false, error: new TributaryError("topic-not-found", { details: { topic } }) };
    }
    const commandOffsets = new Map<string, number>();
    const commandVersions = new Map<string, number>();
    const commandAccepted = new Map<string, StoredIdentity>();
    const commandInserts: PlannedEvent[] = [];
    const events: EventCoordinates[] = [];

    for (const event of command.events) {
      const inCommand = commandAccepted.get(event.id);
      const known = inCommand ?? accepted.get(event.id) ?? state.storedEvents.get(event.id);
      if (known !== undefined) {
        if (known.digest !== event.digest) {
          return { ok: false, error: idConflict(event.id, inCommand !== undefined) };
        }
        events.push(known.coordinates);
        continue;
      }
      const refusal = options.refuseEvent?.(event);
      if (refusal !== undefined) return { ok: false, error: refusal };

      let version: number | null = null;
      if (event.key !== null) {
        const stream = streamKey(topic, event.key);
        const actualVersion =
          commandVersions.get(stream) ?? versions.get(stream) ?? state.versions.get(stream) ?? 0;
        const expected = event.expectedVersion;
        const matches =
          expected === "any" || (expected === "no_stream" ? actualVersion === 0 : expected === actualVersion);
        if (!matches) return { ok: false, error: versionConflict(topic, event.key, expected, actualVersion) };
        version = actualVersion + 1;
        commandVersions.set(stream, version);
      }

      const partition = partitionOf(event, partitions);
      const slot = partitionKey(topic, partition);
      const offset = commandOffsets.get(slot) ?? nextOffsets.get(slot) ?? state.nextOffsets.get(slot);
      if (offset === undefined)
        throw new Error(`the head of partition ${partition} of ${topic} was not read`);
      commandOffsets.set(slot, offset + 1);

      const coordinates: EventCoordinates = {
        id: event.id,
        topic,
        partition,
        offset,
        position: 0,
        version,
        time: state.time,
      };
      commandAccepted.set(event.id, { coordinates, digest: event.digest });
      commandInserts.push({ event, coordinates });
      events.push(coordinates);
    }

    for (const [slot, offset] of commandOffsets) nextOffsets.set(slot, offset);
    for (const [stream, version] of commandVersions) versions.set(stream, version);
    for (const [id, identity] of commandAccepted) accepted.set(id, identity);
    for (const insert of commandInserts) inserts.push(insert);
    return { ok: true, events, replayed: commandInserts.length === 0 };
  });

  return { outcomes, inserts, nextOffsets, versions };
}

function versionConflict(
  topic: string,
  key: string,
  expected: ExpectedVersion,
  actualVersion: number,
): TributaryError {
  const wanted = expected === "no_stream" ? "no stream" : `version ${expected}`;
  return new TributaryError("version-conflict", {
    message: `Key ${JSON.stringify(key)} of topic "${topic}" is at version ${actualVersion}, expected ${wanted}`,
    details: { key, expectedVersion: expected, actualVersion },
  });
}

/**
 * An id seen earlier with other content: in the same request, or stored (an earlier command of the
 * group is another request, which commits with this one, so its events count as stored).
 */
function idConflict(id: string, inSameRequest: boolean): TributaryError {
  return new TributaryError("id-conflict", {
    message: inSameRequest
      ? `Event id ${JSON.stringify(id)} occurs twice in the request with different content`
      : `Event id ${JSON.stringify(id)} is already stored with other content`,
    details: { id },
  });
}
