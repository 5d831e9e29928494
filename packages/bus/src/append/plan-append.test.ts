import { type EventInput, partitionForKey, TributaryError } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import type { AppendCommand, AppendOutcome } from "../store/event-store.js";
import { partitionKey, streamKey } from "../store/topic-keys.js";
import { type GroupState, planAppend } from "./plan-append.js";
import { prepareEvent } from "./prepare-event.js";

const time = "2025-01-01T00:00:00.000Z";

function command(topic: string, ...inputs: EventInput[]): AppendCommand {
  return { topic, events: inputs.map((input) => prepareEvent(topic, input)) };
}

/** One-partition `users` topic, empty unless told otherwise. */
function state(overrides: Partial<GroupState> = {}): GroupState {
  return {
    partitionCounts: new Map([["users", 1]]),
    nextOffsets: new Map([[partitionKey("users", 0), 0]]),
    versions: new Map(),
    storedEvents: new Map(),
    time,
    ...overrides,
  };
}

describe("planAppend", () => {
  it("chains offsets and versions through the commands of a group", () => {
    // Given a stream at version 2 and a partition at offset 5
    const given = state({
      nextOffsets: new Map([[partitionKey("users", 0), 5]]),
      versions: new Map([[streamKey("users", "user-1"), 2]]),
    });
    // When two commands append to it, the second expecting the first's version
    const plan = planAppend(
      [
        command("users", { type: "UserRenamed", key: "user-1", expectedVersion: 2 }),
        command("users", { type: "UserRenamed", key: "user-1", expectedVersion: 3 }),
      ],
      given,
    );
    // Then both are accepted with consecutive offsets and versions
    expect(plan.outcomes.map((outcome) => outcome.ok && outcome.events[0])).toMatchObject([
      { offset: 5, version: 3, time },
      { offset: 6, version: 4, time },
    ]);
    expect(plan.nextOffsets.get(partitionKey("users", 0))).toBe(7);
    expect(plan.versions.get(streamKey("users", "user-1"))).toBe(4);
  });

  it("leaves no trace of a failed command for the commands after it", () => {
    // When the middle command's second event expects a wrong version
    const plan = planAppend(
      [
        command("users", { type: "UserCreated", key: "user-1" }),
        command(
          "users",
          { id: "lost", type: "UserRenamed", key: "user-2" },
          { type: "UserRenamed", key: "user-1", expectedVersion: 7 },
        ),
        command("users", { type: "UserRenamed", key: "user-1", expectedVersion: 1 }),
        command("users", { id: "lost", type: "UserDeleted", key: "user-3" }),
      ],
      state(),
    );
    // Then it fails alone, with the conflict's details, and stored nothing
    const [first, second, third, fourth] = plan.outcomes;
    expect(second?.ok === false && second.error.code).toBe("version-conflict");
    expect(second?.ok === false && second.error.details).toEqual({
      key: "user-1",
      expectedVersion: 7,
      actualVersion: 1,
    });
    expect(first?.ok && first.events[0]?.offset).toBe(0);
    expect(third?.ok && third.events[0]).toMatchObject({ offset: 1, version: 2 });
    expect(fourth?.ok && fourth.events[0]).toMatchObject({ id: "lost", offset: 2, version: 1 });
    expect(plan.inserts).toHaveLength(3);
  });

  it("replays an id stored or accepted earlier with the same content, and refuses other content", () => {
    const stored = prepareEvent("users", { id: "stored", type: "UserCreated", key: "user-1" });
    const storedCoordinates = {
      id: "stored",
      topic: "users",
      partition: 0,
      offset: 0,
      position: 41,
      version: 1,
      time: "2024-12-31T00:00:00.000Z",
    };
    const given = state({
      nextOffsets: new Map([[partitionKey("users", 0), 1]]),
      versions: new Map([[streamKey("users", "user-1"), 1]]),
      storedEvents: new Map([["stored", { coordinates: storedCoordinates, digest: stored.digest }]]),
    });
    const plan = planAppend(
      [
        // A resend whose expectedVersion no longer holds: still a replay
        command("users", { id: "stored", type: "UserCreated", key: "user-1", expectedVersion: "no_stream" }),
        command("users", { id: "new", type: "UserRenamed", key: "user-1" }),
        command(
          "users",
          { id: "new", type: "UserRenamed", key: "user-1" },
          { id: "stored", type: "UserCreated", key: "user-1" },
        ),
        command("users", { id: "stored", type: "UserDeleted", key: "user-1" }),
      ],
      given,
    );
    const [replay, fresh, replayBoth, conflict] = plan.outcomes;
    expect(replay).toEqual({ ok: true, replayed: true, events: [storedCoordinates] });
    expect(fresh).toMatchObject({
      ok: true,
      replayed: false,
      events: [{ id: "new", offset: 1, version: 2 }],
    });
    expect(replayBoth?.ok && replayBoth.replayed).toBe(true);
    expect(conflict?.ok === false && conflict.error.code).toBe("id-conflict");
    expect(plan.inserts.map(({ event }) => event.id)).toEqual(["new"]);
  });

  it("places keyless events by their id and gives them no version", () => {
    const given = state({
      partitionCounts: new Map([["audit", 8]]),
      nextOffsets: new Map(
        Array.from({ length: 8 }, (_, partition) => [partitionKey("audit", partition), 0]),
      ),
    });
    const plan = planAppend(
      [command("audit", { id: "audit-1", type: "Audited", expectedVersion: 3 })],
      given,
    );
    expect(plan.outcomes[0]).toMatchObject({
      ok: true,
      events: [{ partition: partitionForKey("audit-1", 8), offset: 0, version: null }],
    });
  });

  it("fails a command on an unknown topic, and one with an event the adapter refuses", () => {
    // Given an adapter that cannot keep events of type Unstorable
    const refusal = new TributaryError("invalid-request", { message: "cannot keep it" });
    const refuseEvent = (event: { type: string }) => (event.type === "Unstorable" ? refusal : undefined);

    // When a group appends to an unknown topic, then an unstorable event after a good one
    const plan = planAppend(
      [
        command("missing", { type: "Anything" }),
        command("users", { type: "UserCreated", key: "user-1" }, { type: "Unstorable", key: "user-2" }),
      ],
      state(),
      { refuseEvent },
    );

    // Then both fail, the second with the adapter's error, and nothing is to be written
    expect(errorsOf(plan.outcomes)).toEqual([
      { code: "topic-not-found", message: "Topic not found", details: { topic: "missing" } },
      { code: "invalid-request", message: "cannot keep it", details: undefined },
    ]);
    expect(plan.inserts).toHaveLength(0);
    expect(plan.nextOffsets.size).toBe(0);
  });

  it("words each version conflict alike, naming the key, the topic, the expected and the actual version", () => {
    // Given user-1 at version 1
    const given = state({ versions: new Map([[streamKey("users", "user-1"), 1]]) });

    // When user-1 is created again, renamed expecting 3, and a batch expects a version its own
    // first event already moved past; and a new stream expects version 2
    const plan = planAppend(
      [
        command("users", { type: "UserCreated", key: "user-1", expectedVersion: "no_stream" }),
        command("users", { type: "UserRenamed", key: "user-1", expectedVersion: 3 }),
        command(
          "users",
          { type: "UserRenamed", key: "user-1", expectedVersion: 1 },
          { type: "UserRenamed", key: "user-1", expectedVersion: 1 },
        ),
        command("users", { type: "UserRenamed", key: "user-2", expectedVersion: 2 }),
      ],
      given,
    );

    // Then each fails with the version just before its event
    expect(errorsOf(plan.outcomes)).toEqual([
      {
        code: "version-conflict",
        message: 'Key "user-1" of topic "users" is at version 1, expected no stream',
        details: { key: "user-1", expectedVersion: "no_stream", actualVersion: 1 },
      },
      {
        code: "version-conflict",
        message: 'Key "user-1" of topic "users" is at version 1, expected version 3',
        details: { key: "user-1", expectedVersion: 3, actualVersion: 1 },
      },
      {
        code: "version-conflict",
        message: 'Key "user-1" of topic "users" is at version 2, expected version 1',
        details: { key: "user-1", expectedVersion: 1, actualVersion: 2 },
      },
      {
        code: "version-conflict",
        message: 'Key "user-2" of topic "users" is at version 0, expected version 2',
        details: { key: "user-2", expectedVersion: 2, actualVersion: 0 },
      },
    ]);
  });

  it("tells an id repeated inside one request from an id already stored or sent by an earlier request", () => {
    // Given evt-1 stored
    const stored = prepareEvent("users", { id: "evt-1", type: "UserCreated", key: "user-1" });
    const coordinates = {
      id: "evt-1",
      topic: "users",
      partition: 0,
      offset: 0,
      position: 1,
      version: 1,
      time,
    };
    const given = state({
      nextOffsets: new Map([[partitionKey("users", 0), 1]]),
      storedEvents: new Map([["evt-1", { coordinates, digest: stored.digest }]]),
    });

    // When evt-1 comes with other content, evt-2 twice in one request, evt-3 in two requests
    const plan = planAppend(
      [
        command("users", { id: "evt-1", type: "UserDeleted", key: "user-1" }),
        command(
          "users",
          { id: "evt-2", type: "UserCreated", key: "user-2" },
          { id: "evt-2", type: "UserDeleted", key: "user-2" },
        ),
        command("users", { id: "evt-3", type: "UserCreated", key: "user-3" }),
        command("users", { id: "evt-3", type: "UserDeleted", key: "user-3" }),
      ],
      given,
    );

    // Then the repeat inside a request says so, the others are ids already stored
    const [first, second, third, fourth] = plan.outcomes;
    expect(errorsOf([first, second, fourth])).toEqual([
      {
        code: "id-conflict",
        message: 'Event id "evt-1" is already stored with other content',
        details: { id: "evt-1" },
      },
      {
        code: "id-conflict",
        message: 'Event id "evt-2" occurs twice in the request with different content',
        details: { id: "evt-2" },
      },
      {
        code: "id-conflict",
        message: 'Event id "evt-3" is already stored with other content',
        details: { id: "evt-3" },
      },
    ]);
    expect(third).toMatchObject({ ok: true, replayed: false, events: [{ id: "evt-3", offset: 1 }] });
    expect(plan.inserts.map(({ event }) => event.id)).toEqual(["evt-3"]);
  });

  it("answers the same event twice in one request once, with one coordinates object", () => {
    // When a request carries one event twice
    const event = prepareEvent("users", { id: "evt-1", type: "UserCreated", key: "user-1" });
    const plan = planAppend([{ topic: "users", events: [event, event] }], state());

    // Then it is inserted once and both answers are the object whose position the store fills in
    const [outcome] = plan.outcomes;
    expect(plan.inserts).toHaveLength(1);
    expect(outcome?.ok && outcome.events[0]).toBe(plan.inserts[0]?.coordinates);
    expect(outcome?.ok && outcome.events[1]).toBe(plan.inserts[0]?.coordinates);
  });
});

function errorsOf(outcomes: readonly (AppendOutcome | undefined)[]) {
  return outcomes.map((outcome) => {
    if (outcome === undefined || outcome.ok) return outcome;
    return { code: outcome.error.code, message: outcome.error.message, details: outcome.error.details };
  });
}
