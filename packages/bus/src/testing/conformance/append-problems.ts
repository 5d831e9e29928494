import { type ProblemDocument, toProblem } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import type { AppendCommand, AppendGroupOptions, AppendOutcome } from "../../store/event-store.js";
import {
  appendGroup,
  autoCreate,
  type ConformanceContext,
  noAutoCreate,
  userCreated,
  userRenamed,
} from "./fixtures.js";

/** What a client learns of one command: the problem document of its error, or what committed. */
type Answer = ProblemDocument | { committed: { id: string; version: number | null }[]; replayed: boolean };

interface ProblemCase {
  name: string;
  /** Appended first, one group per entry; each must commit. */
  given: AppendCommand[][];
  /** The group under test. */
  when: AppendCommand[];
  options?: AppendGroupOptions;
  /** One answer per command of `when`: the same literal for every store. */
  answers: Answer[];
}

const users = (...events: AppendCommand["events"]): AppendCommand => ({ topic: "users", events });

function conflict(
  key: string,
  expectedVersion: number | "no_stream",
  actualVersion: number,
): ProblemDocument {
  const wanted = expectedVersion === "no_stream" ? "no stream" : `version ${expectedVersion}`;
  return {
    type: "urn:tributary:problem:version-conflict",
    title: "Version conflict",
    status: 409,
    detail: `Key "${key}" of topic "users" is at version ${actualVersion}, expected ${wanted}`,
    code: "version-conflict",
    retriable: false,
    key,
    expectedVersion,
    actualVersion,
  };
}

function idConflict(id: string, detail: string): ProblemDocument {
  return {
    type: "urn:tributary:problem:id-conflict",
    title: "Event id reused with different content",
    status: 409,
    detail,
    code: "id-conflict",
    retriable: false,
    id,
  };
}

/**
 * Every way the planning of a group can fail a command, and a replay mixed with new events. The
 * expected answers are literals, so each store must give exactly these documents: a client sees
 * the same problem whichever store the bus runs on.
 */
const cases: ProblemCase[] = [
  {
    name: '"no_stream" on an existing stream',
    given: [[users(userCreated("user-1", { id: "evt-1" }))]],
    when: [users(userCreated("user-1", { id: "evt-2", expectedVersion: "no_stream" }))],
    answers: [conflict("user-1", "no_stream", 1)],
  },
  {
    name: "a number other than the stream's version",
    given: [[users(userCreated("user-1", { id: "evt-1" }), userRenamed("user-1", "Ada", { id: "evt-2" }))]],
    when: [users(userRenamed("user-1", "Grace", { id: "evt-3", expectedVersion: 1 }))],
    answers: [conflict("user-1", 1, 2)],
  },
  {
    name: "a number on a stream without events",
    given: [],
    when: [users(userRenamed("user-1", "Ada", { id: "evt-1", expectedVersion: 3 }))],
    answers: [conflict("user-1", 3, 0)],
  },
  {
    name: "a later event of a batch expecting a version its earlier events did not reach",
    given: [],
    when: [
      users(
        userCreated("user-1", { id: "evt-1", expectedVersion: "no_stream" }),
        userRenamed("user-1", "Ada", { id: "evt-2", expectedVersion: 3 }),
      ),
    ],
    answers: [conflict("user-1", 3, 1)],
  },
  {
    name: "two events of one key in a batch expecting the same version",
    given: [[users(userCreated("user-1", { id: "evt-1" }))]],
    when: [
      users(
        userRenamed("user-1", "Ada", { id: "evt-2", expectedVersion: 1 }),
        userRenamed("user-1", "Grace", { id: "evt-3", expectedVersion: 1 }),
      ),
    ],
    answers: [conflict("user-1", 1, 2)],
  },
  {
    name: "a request expecting the version an earlier request of the group moved past",
    given: [],
    when: [
      users(userCreated("user-1", { id: "evt-1", expectedVersion: "no_stream" })),
      users(userCreated("user-1", { id: "evt-2", expectedVersion: "no_stream" })),
    ],
    answers: [
      { committed: [{ id: "evt-1", version: 1 }], replayed: false },
      conflict("user-1", "no_stream", 1),
    ],
  },
  {
    name: "a stored id with other content",
    given: [[users(userCreated("user-1", { id: "evt-1" }))]],
    when: [users(userCreated("user-2", { id: "evt-2" }), userRenamed("user-1", "Ada", { id: "evt-1" }))],
    answers: [idConflict("evt-1", 'Event id "evt-1" is already stored with other content')],
  },
  {
    name: "an id sent by an earlier request of the group with other content",
    given: [],
    when: [users(userCreated("user-1", { id: "evt-1" })), users(userCreated("user-2", { id: "evt-1" }))],
    answers: [
      { committed: [{ id: "evt-1", version: 1 }], replayed: false },
      idConflict("evt-1", 'Event id "evt-1" is already stored with other content'),
    ],
  },
  {
    name: "an id repeated inside one batch with other content",
    given: [],
    when: [users(userCreated("user-1", { id: "evt-1" }), userRenamed("user-1", "Ada", { id: "evt-1" }))],
    answers: [idConflict("evt-1", 'Event id "evt-1" occurs twice in the request with different content')],
  },
  {
    name: "an id repeated inside one batch with the same content",
    given: [],
    when: [users(userCreated("user-1", { id: "evt-1" }), userCreated("user-1", { id: "evt-1" }))],
    answers: [
      {
        committed: [
          { id: "evt-1", version: 1 },
          { id: "evt-1", version: 1 },
        ],
        replayed: false,
      },
    ],
  },
  {
    name: "a replay mixed with a new event that expects the stored version",
    given: [[users(userCreated("user-1", { id: "evt-1", expectedVersion: "no_stream" }))]],
    when: [
      users(
        userCreated("user-1", { id: "evt-1", expectedVersion: "no_stream" }),
        userRenamed("user-1", "Ada", { id: "evt-2", expectedVersion: 1 }),
      ),
    ],
    answers: [
      {
        committed: [
          { id: "evt-1", version: 1 },
          { id: "evt-2", version: 2 },
        ],
        replayed: false,
      },
    ],
  },
  {
    name: "a replay mixed with a new event that expects a wrong version",
    given: [[users(userCreated("user-1", { id: "evt-1" }))]],
    when: [
      users(
        userCreated("user-1", { id: "evt-1" }),
        userRenamed("user-1", "Ada", { id: "evt-2", expectedVersion: "no_stream" }),
      ),
    ],
    answers: [conflict("user-1", "no_stream", 1)],
  },
  {
    name: "a replay of a whole batch",
    given: [[users(userCreated("user-1", { id: "evt-1" }), userRenamed("user-1", "Ada", { id: "evt-2" }))]],
    when: [users(userCreated("user-1", { id: "evt-1" }), userRenamed("user-1", "Ada", { id: "evt-2" }))],
    answers: [
      {
        committed: [
          { id: "evt-1", version: 1 },
          { id: "evt-2", version: 2 },
        ],
        replayed: true,
      },
    ],
  },
  {
    name: "an unknown topic without auto-creation",
    given: [],
    when: [users(userCreated("user-1", { id: "evt-1" }))],
    options: noAutoCreate,
    answers: [
      {
        type: "urn:tributary:problem:topic-not-found",
        title: "Topic not found",
        status: 404,
        detail: "Topic not found",
        code: "topic-not-found",
        retriable: false,
        topic: "users",
      },
    ],
  },
];

function answerOf(outcome: AppendOutcome): Answer {
  if (!outcome.ok) return toProblem(outcome.error);
  return {
    committed: outcome.events.map(({ id, version }) => ({ id, version })),
    replayed: outcome.replayed,
  };
}

const problemMembers = new Set(["type", "title", "status", "detail", "code", "instance", "retriable"]);

function extensionsOf(answer: Answer): Record<string, unknown> {
  return Object.fromEntries(Object.entries(answer).filter(([name]) => !problemMembers.has(name)));
}

/** The answers of append planning, compared as the problem documents a client receives. */
export function describeAppendProblemConformance(context: ConformanceContext): void {
  describe("append problems", () => {
    it.each(cases)("$name", async ({ given, when, options, answers }) => {
      // Given the stored groups
      const store = context.store();
      for (const group of given) {
        for (const outcome of await appendGroup(store, group)) expect(outcome.ok, "given commits").toBe(true);
      }

      // When the group is appended
      const outcomes = await appendGroup(store, when, options ?? autoCreate);

      // Then each command answers exactly the expected document, and its details are the extensions
      expect(outcomes.map(answerOf)).toEqual(answers);
      outcomes.forEach((outcome, index) => {
        const expected = answers[index];
        if (!outcome.ok && expected !== undefined)
          expect(outcome.error.details).toEqual(extensionsOf(expected));
      });
    });
  });
}
