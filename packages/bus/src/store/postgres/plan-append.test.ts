import { type EventInput, partitionForKey } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import type { AppendCommand } from "../event-store.js";
import { type GroupState, partitionSlot, planAppend, streamSlot } from "./plan-append.js";

const time = "2025-01-01T00:00:00.000Z";

function command(topic: string, ...inputs: EventInput[]): AppendCommand {
  return { topic, events: inputs.map((input) => prepareEvent(topic, input)) };
}

/** One-partition `users` topic, empty unless told otherwise. */
function state(overrides: Partial<GroupState> = {}): GroupState {
  return {
    partitionCounts: new Map([["users", 1]]),
    nextOffsets: new Map([[partitionSlot("users", 0), 0]]),
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
      nextOffsets: new Map([[partitionSlot("users", 0), 5]]),
      versions: new Map([[streamSlot("users", "user-1"), 2]]),
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
    expect(plan.nextOffsets.get(partitionSlot("users", 0))).toBe(7);
    expect(plan.versions.get(streamSlot("users", "user-1"))).toBe(4);
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
      nextOffsets: new Map([[partitionSlot("users", 0), 1]]),
      versions: new Map([[streamSlot("users", "user-1"), 1]]),
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
        Array.from({ length: 8 }, (_, partition) => [partitionSlot("audit", partition), 0]),
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

  it("fails a command on an unknown topic or with JSON that jsonb cannot hold", () => {
    const plan = planAppend(
      [
        command("missing", { type: "Anything" }),
        command("users", { type: "UserCreated", data: { name: "\u0000" } }),
      ],
      state(),
    );
    expect(plan.outcomes.map((outcome) => !outcome.ok && outcome.error.code)).toEqual([
      "topic-not-found",
      "invalid-request",
    ]);
    expect(plan.inserts).toHaveLength(0);
  });
});
