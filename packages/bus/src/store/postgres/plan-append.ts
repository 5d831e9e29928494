import { type EventCoordinates, partitionForKey, TributaryError } from "@tributary/protocol";
import type { AppendCommand, PreparedEvent } from "../event-store.js";
import { isJsonbCompatible } from "./jsonb-compatible.js";

/** An event already in the store, as the id check found it. */
export interface StoredIdentity {
  coordinates: EventCoordinates;
  digest: string;
}

/** What the database said about the group, read under the partition locks. */
export interface GroupState {
  /** Partition counts of the topics that exist (or were just created). */
  partitionCounts: ReadonlyMap<string, number>;
  /** Head of each locked partition, by `partitionSlot`. */
  nextOffsets: ReadonlyMap<string, number>;
  /** Current version of each existing stream, by `streamSlot`. */
  versions: ReadonlyMap<string, number>;
  /** Stored events among the group's ids, by id. */
  storedEvents: ReadonlyMap<string, StoredIdentity>;
  /** Commit time of the group, ISO 8601 with milliseconds. */
  time: string;
}

/** An event to insert; `coordinates.position` is filled in once the insert returned it. */
export interface PlannedEvent {
  event: PreparedEvent;
  coordinates: EventCoordinates;
}

export type PlannedOutcome =
  | { ok: true; events: EventCoordinates[]; replayed: boolean }
  | { ok: false; error: TributaryError };

/** The evaluation of a group: outcomes in command order and the writes they need. */
export interface AppendPlan {
  outcomes: PlannedOutcome[];
  /** Accepted new events in group order. */
  inserts: PlannedEvent[];
  /** New head of each partition that receives events, by `partitionSlot`. */
  nextOffsets: Map<string, number>;
  /** New version of each stream that receives events, by `streamSlot`. */
  versions: Map<string, number>;
}

/** Map key of a topic partition. NUL cannot occur in topic names. */
export function partitionSlot(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Map key of an entity stream. NUL cannot occur in topic names, so the split is unambiguous. */
export function streamSlot(topic: string, key: string): string {
  return `${topic}\u0000${key}`;
}

/**
 * The partition of an event: by its key, or by its id when it has none (docs/http-api.md, the event).
 */
export function partitionOf(event: PreparedEvent, partitions: number): number {
  return partitionForKey(event.key ?? event.id, partitions);
}

/**
 * Evaluates the commands of a group in order against the state read under the partition locks, as
 * if each had been appended alone after the previous ones. A command that fails (unknown topic,
 * version conflict, id reused with other content, JSON that `jsonb` cannot hold) changes nothing,
 * so the commands after it see the state without it. An event whose id is stored (or accepted
 * earlier in the group) with the same digest is an idempotent resend: it gets the stored
 * coordinates and skips the `expectedVersion` check, which its first append already passed.
 * Keyless events have no stream: their `expectedVersion` is not checked and their version is null.
 */
export function planAppend(commands: readonly AppendCommand[], state: GroupState): AppendPlan {
  const nextOffsets = new Map<string, number>();
  const versions = new Map<string, number>();
  const accepted = new Map<string, StoredIdentity>();
  const inserts: PlannedEvent[] = [];

  const outcomes = commands.map((command): PlannedOutcome => {
    const partitions = state.partitionCounts.get(command.topic);
    if (partitions === undefined) {
      return {
        ok: false,
        error: new TributaryError("topic-not-found", { details: { topic: command.topic } }),
      };
    }
    const commandOffsets = new Map<string, number>();
    const commandVersions = new Map<string, number>();
    const commandAccepted = new Map<string, StoredIdentity>();
    const commandInserts: PlannedEvent[] = [];
    const events: EventCoordinates[] = [];

    for (const event of command.events) {
      const known =
        commandAccepted.get(event.id) ?? accepted.get(event.id) ?? state.storedEvents.get(event.id);
      if (known !== undefined) {
        if (known.digest !== event.digest) {
          return { ok: false, error: new TributaryError("id-conflict", { details: { id: event.id } }) };
        }
        events.push(known.coordinates);
        continue;
      }
      if (!isJsonbCompatible(event.dataJson) || !isJsonbCompatible(event.metadataJson)) {
        return {
          ok: false,
          error: new TributaryError("invalid-request", {
            message: `event ${JSON.stringify(event.id)} holds a NUL character or a lone surrogate, which the store cannot keep`,
            details: { id: event.id },
          }),
        };
      }

      let version: number | null = null;
      if (event.key !== null) {
        const stream = streamSlot(command.topic, event.key);
        const actualVersion =
          commandVersions.get(stream) ?? versions.get(stream) ?? state.versions.get(stream) ?? 0;
        const expected = event.expectedVersion;
        const matches =
          expected === "any" || (expected === "no_stream" ? actualVersion === 0 : expected === actualVersion);
        if (!matches) {
          return {
            ok: false,
            error: new TributaryError("version-conflict", {
              details: { key: event.key, expectedVersion: expected, actualVersion },
            }),
          };
        }
        version = actualVersion + 1;
        commandVersions.set(stream, version);
      }

      const partition = partitionOf(event, partitions);
      const slot = partitionSlot(command.topic, partition);
      const offset = commandOffsets.get(slot) ?? nextOffsets.get(slot) ?? state.nextOffsets.get(slot);
      if (offset === undefined) throw new Error(`partition ${slot} was not locked before planning`);
      commandOffsets.set(slot, offset + 1);

      const coordinates: EventCoordinates = {
        id: event.id,
        topic: command.topic,
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
    inserts.push(...commandInserts);
    return { ok: true, events, replayed: commandInserts.length === 0 };
  });

  return { outcomes, inserts, nextOffsets, versions };
}
