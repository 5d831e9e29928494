import type { EventCoordinates, EventInput, StoredEvent } from "@tributary/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killSpawnedBuses, type SpawnedBus, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type StoreKind, type TestStoreUrl } from "../testing/test-stores.js";
import { type HttpAnswer, request } from "./http.js";
import { expectIntactTopic, scanTopic } from "./topic-scan.js";

interface AppendAnswer {
  events?: EventCoordinates[];
  code?: string;
  key?: string;
  expectedVersion?: unknown;
  actualVersion?: unknown;
}

/** Racers per race: sent at once, spread over the buses. */
const racers = 20;

const setups: { name: string; kind: StoreKind; processes: number }[] = [
  { name: "one bus on sqlite", kind: "sqlite", processes: 1 },
  { name: "two buses sharing one postgres schema", kind: "postgres", processes: 2 },
];

describe.each(setups)("racing appends, $name", ({ kind, processes }) => {
  let location: TestStoreUrl;
  const buses: SpawnedBus[] = [];

  /** Sends one append per body, all at once, request i to bus i mod n. */
  const race = (topic: string, bodies: EventInput[]): Promise<HttpAnswer<AppendAnswer>[]> =>
    Promise.all(
      bodies.map((body, index) =>
        request<AppendAnswer>(`${buses[index % buses.length]?.url}/v1/topics/${topic}/events`, { body }),
      ),
    );

  const statuses = (answers: HttpAnswer[]) => answers.map((answer) => answer.status).sort();

  beforeAll(async () => {
    location = await createTestStoreUrl(kind);
    for (let index = 0; index < processes; index += 1) buses.push(await spawnBus({ store: location.url }));
  });

  afterEach(async () => {
    for (const bus of buses) expect(bus.child.exitCode, bus.output().stderr).toBeNull();
  });

  afterAll(async () => {
    await killSpawnedBuses();
    await location?.cleanup();
  });

  it(`stores an event once when ${racers} resends of it race`, async () => {
    for (let round = 0; round < 5; round += 1) {
      // Given one event with a client-chosen id
      const event = {
        id: `org-created-${round}`,
        type: "OrganizationCreated",
        key: `org-${round}`,
        data: { round },
      };
      // When it is sent 20 times at once
      const answers = await race(
        "organizations",
        Array.from({ length: racers }, () => event),
      );
      // Then one answer is 201, the others 200, and all give the same coordinates
      expect(statuses(answers)).toEqual([...Array(racers - 1).fill(200), 201]);
      const coordinates = answers.map((answer) => answer.body.events);
      for (const each of coordinates) expect(each).toEqual(coordinates[0]);
      const stored = await request<StoredEvent>(`${buses[0]?.url}/v1/events/${event.id}`);
      expect(stored.body).toMatchObject({ ...coordinates[0]?.[0], data: { round } });
    }
    // and the topic holds those 5 events only, each once
    expect(expectIntactTopic(await scanTopic(buses[0]?.url as string, "organizations")).size).toBe(5);
  });

  it("lets one of the racers reusing an id with other content win, the others get id-conflict", async () => {
    // Given 20 different events that share one id
    const bodies = Array.from({ length: racers }, (_, index) => ({
      id: "user-registered-ada",
      type: "UserRegistered",
      key: "user-ada",
      data: { attempt: index },
    }));
    // When they race
    const answers = await race("users", bodies);
    // Then exactly one is stored and the others are refused
    expect(statuses(answers)).toEqual([201, ...Array(racers - 1).fill(409)]);
    const winner = answers.findIndex((answer) => answer.status === 201);
    for (const answer of answers.filter((each) => each.status === 409))
      expect(answer.body.code).toBe("id-conflict");
    const stored = await request<StoredEvent>(`${buses[0]?.url}/v1/events/user-registered-ada`);
    expect(stored.body.data).toEqual({ attempt: winner });
  });

  it(`lets exactly one of ${racers} racing expectedVersion appends on one key win`, async () => {
    for (const expectedVersion of ["no_stream", 1, 2] as const) {
      // Given a user stream at the expected version, and 20 writers that each believe they are next
      const bodies = Array.from({ length: racers }, (_, index) => ({
        id: `user-bob-v${expectedVersion}-${index}`,
        type: expectedVersion === "no_stream" ? "UserRegistered" : "UserRenamed",
        key: "user-bob",
        data: { writer: index },
        expectedVersion,
      }));
      // When they append at once
      const answers = await race("users", bodies);
      // Then one wins and every other gets version-conflict, naming the key and the versions
      expect(statuses(answers)).toEqual([201, ...Array(racers - 1).fill(409)]);
      const nextVersion = expectedVersion === "no_stream" ? 1 : expectedVersion + 1;
      expect(answers.find((answer) => answer.status === 201)?.body.events?.[0]?.version).toBe(nextVersion);
      for (const answer of answers.filter((each) => each.status === 409)) {
        expect(answer.body).toMatchObject({ code: "version-conflict", key: "user-bob", expectedVersion });
      }
    }
    // and the stream has one event per version
    const stream = await request<{ events: StoredEvent[] }>(
      `${buses[0]?.url}/v1/topics/users/keys/user-bob/events`,
    );
    expect(stream.body.events.map((event) => event.version)).toEqual([1, 2, 3]);
  });
});
