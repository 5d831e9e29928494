import { type EventInput, isStoreUnavailable, type StoredEvent } from "@tributary/protocol";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import { createTestSchema, type TestSchema } from "../../testing/postgres-test-schema.js";
import { describeStoreConformance } from "../../testing/store-conformance.js";
import type { AppendCommand, AppendOutcome, CommitNotice, EventStore } from "../event-store.js";
import { migrations } from "./migrations.js";
import { createPostgresStore } from "./postgres-store.js";

const groupOptions = { autoCreate: true, defaultPartitions: 4 };
const schemas: TestSchema[] = [];
const stores: EventStore[] = [];

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  // One at a time: each drop opens a connection, and a schema per test is over a hundred of them,
  // more than the server's default connection limit at once.
  for (const schema of schemas) await schema.drop();
});

async function freshSchema(): Promise<TestSchema> {
  const schema = await createTestSchema();
  schemas.push(schema);
  return schema;
}

/** One store instance: its own pool, as a separate bus process would have. */
function openInstance(schema: TestSchema, maxConnections = 4): EventStore {
  const store = createPostgresStore({ url: schema.url, schema: schema.schema, maxConnections });
  stores.push(store);
  return store;
}

async function migratedInstances(count: number): Promise<EventStore[]> {
  const schema = await freshSchema();
  const instances = Array.from({ length: count }, () => openInstance(schema));
  await instances[0]!.migrate();
  return instances;
}

describeStoreConformance({
  name: "postgres",
  create: async () => {
    const store = openInstance(await freshSchema());
    await store.migrate();
    return store;
  },
});

function command(topic: string, ...inputs: EventInput[]): AppendCommand {
  return { topic, events: inputs.map((input) => prepareEvent(topic, input)) };
}

async function appendOne(store: EventStore, cmd: AppendCommand): Promise<AppendOutcome> {
  const [outcome] = await store.appendGroup([cmd], groupOptions);
  return outcome!;
}

function expectContiguous(events: StoredEvent[], from: number): void {
  expect(events.map((event) => event.offset)).toEqual(events.map((_, index) => from + index));
}

describe("PostgreSQL store", () => {
  it("commits, reads back identically, and answers a resend with the stored coordinates", async () => {
    // Given a migrated store
    const [store] = await migratedInstances(1);
    const input = {
      id: "user-created-1",
      type: "UserCreated",
      key: "user-1",
      data: { name: "Ada", tags: ["a", "b"], nested: { n: 1.5, nothing: null } },
      metadata: { correlationId: "signup-1", source: "users-service" },
    };
    // When an event is appended, then appended again
    const first = await appendOne(store!, command("users", input));
    const again = await appendOne(store!, command("users", input));
    // Then the resend is a replay with the same coordinates, and every read returns the same event
    expect(first.ok && !first.replayed).toBe(true);
    expect(again).toEqual({ ok: true, replayed: true, events: first.ok ? first.events : [] });
    const coordinates = first.ok ? first.events[0]! : undefined;
    expect(coordinates).toMatchObject({ topic: "users", offset: 0, version: 1 });
    expect(coordinates?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const stored = await store!.getEvent("user-created-1");
    expect(stored).toEqual({
      ...coordinates,
      type: "UserCreated",
      key: "user-1",
      data: input.data,
      metadata: input.metadata,
    });
    expect(await store!.readPartition("users", coordinates!.partition, 0, 10)).toEqual([stored]);
    expect((await store!.readKey("users", "user-1", { fromVersion: 1, limit: 10 })).events).toEqual([stored]);
    expect((await store!.query({ correlationId: "signup-1", order: "desc", limit: 10 })).events).toEqual([
      stored,
    ]);
    const topic = await store!.getTopic("users");
    expect(topic).toMatchObject({ name: "users", partitions: 4, events: 1 });
  });

  it("keeps offsets contiguous across two processes writing one partition while a reader tails it", async () => {
    // Given two store instances (two pools, as two bus processes) and a one-partition topic
    const [writerA, writerB, reader] = await migratedInstances(3);
    await writerA!.putTopic("orders", { partitions: 1 });
    const rounds = 60;
    const write = async (store: EventStore, name: string) => {
      for (let round = 0; round < rounds; round++) {
        const size = 1 + (round % 3);
        const inputs = Array.from({ length: size }, (_, index) => ({
          type: "OrderPlaced",
          key: `${name}-${round % 7}`,
          data: { round, index },
        }));
        const outcome = await appendOne(store, command("orders", ...inputs));
        expect(outcome.ok).toBe(true);
      }
    };
    const expected = 4 * (20 * (1 + 2 + 3));
    // When four writers on each instance append while the reader tails from offset 0
    let isWriting = true;
    const seen: StoredEvent[] = [];
    const tail = (async () => {
      while (isWriting || seen.length < expected) {
        const page = await reader!.readPartition("orders", 0, seen.length, 50);
        // Then every page starts where the previous one ended and has no hole
        expectContiguous(page, seen.length);
        seen.push(...page);
        if (page.length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await Promise.all([
      write(writerA!, "a1"),
      write(writerA!, "a2"),
      write(writerB!, "b1"),
      write(writerB!, "b2"),
    ]);
    isWriting = false;
    await tail;
    // And the partition holds offsets 0..n-1 exactly once, each key's versions 1..k in order
    expect(seen).toHaveLength(expected);
    expectContiguous(seen, 0);
    expect(new Set(seen.map((event) => event.id)).size).toBe(expected);
    const topic = await reader!.getTopic("orders");
    expect(topic?.headOffsets).toEqual([expected]);
    const stream = (await reader!.readKey("orders", "a1-0", { fromVersion: 1, limit: 1000 })).events;
    expect(stream.map((event) => event.version)).toEqual(stream.map((_, index) => index + 1));
  });

  it("announces commits of every instance to the listeners of every instance", async () => {
    // Given two instances, each with a commit listener
    const [storeA, storeB] = await migratedInstances(2);
    const heardByA: CommitNotice[] = [];
    const heardByB: CommitNotice[] = [];
    const unsubscribeA = storeA!.onCommit((notice) => heardByA.push(notice));
    const unsubscribeB = storeB!.onCommit((notice) => heardByB.push(notice));
    await storeA!.putTopic("payments", { partitions: 1 });
    await storeA!.ping();
    // Listening starts with the first listener; give the LISTEN a moment to register
    await new Promise((resolve) => setTimeout(resolve, 200));
    // When each instance commits one event
    await appendOne(storeA!, command("payments", { type: "PaymentTaken" }));
    await appendOne(storeB!, command("payments", { type: "PaymentTaken" }));
    // Then both listeners hear both commits, in order
    const expected = [
      { topic: "payments", partition: 0, nextOffset: 1 },
      { topic: "payments", partition: 0, nextOffset: 2 },
    ];
    await expect.poll(() => heardByA, { timeout: 5_000 }).toEqual(expected);
    await expect.poll(() => heardByB, { timeout: 5_000 }).toEqual(expected);
    unsubscribeA();
    unsubscribeB();
  });

  it("migrates safely from several processes at once, creating the schema", async () => {
    // Given a schema that does not exist yet
    const schema = await freshSchema();
    const admin = postgres(schema.url, { max: 1, onnotice: () => {} });
    await admin`DROP SCHEMA ${admin(schema.schema)}`;
    const instances = Array.from({ length: 4 }, () => openInstance(schema, 2));
    // When four instances migrate at the same time, twice
    await Promise.all(instances.map((store) => store.migrate()));
    await Promise.all(instances.map((store) => store.migrate()));
    // Then each migration is recorded once and the store works
    const applied = await admin`SELECT version FROM ${admin(schema.schema)}.schema_migrations`;
    await admin.end();
    expect(applied.map((row) => row["version"])).toEqual(migrations.map((migration) => migration.version));
    expect(await appendOne(instances[3]!, command("users", { type: "UserCreated" }))).toMatchObject({
      ok: true,
    });
  });

  it("stores an id raced by two instances once", async () => {
    const [storeA, storeB] = await migratedInstances(2);
    for (let attempt = 0; attempt < 10; attempt++) {
      // Given the same event sent to two instances at once
      const input = { id: `race-${attempt}`, type: "UserCreated", key: `user-${attempt}`, data: { attempt } };
      // When both append it
      const outcomes = await Promise.all([
        appendOne(storeA!, command("users", input)),
        appendOne(storeB!, command("users", input)),
      ]);
      // Then both succeed with the same coordinates, and only one of them stored it
      expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
      expect(outcomes.filter((outcome) => outcome.ok && outcome.replayed)).toHaveLength(1);
      const [first, second] = outcomes.map((outcome) => (outcome.ok ? outcome.events : []));
      expect(first).toEqual(second);
    }
    expect((await storeA!.getTopic("users"))?.events).toBe(10);
  });

  it("lets exactly one of two instances racing on expectedVersion win", async () => {
    const [storeA, storeB] = await migratedInstances(2);
    for (let attempt = 0; attempt < 10; attempt++) {
      // Given two different events that both expect a new stream
      const key = `account-${attempt}`;
      // When two instances append them at once
      const outcomes = await Promise.all(
        [storeA!, storeB!].map((store) =>
          appendOne(store, command("accounts", { type: "AccountOpened", key, expectedVersion: "no_stream" })),
        ),
      );
      // Then one wins and the other gets a version conflict naming the actual version
      expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
      const loser = outcomes.find((outcome) => !outcome.ok);
      expect(loser?.ok === false && loser.error.code).toBe("version-conflict");
      expect(loser?.ok === false && loser.error.details).toEqual({
        key,
        expectedVersion: "no_stream",
        actualVersion: 1,
      });
    }
  });

  it("sees the versions another instance wrote since its own last append of a key", async () => {
    // Given two instances taking turns on one key (each caches the versions it saw)
    const [storeA, storeB] = await migratedInstances(2);
    const key = "account-turns";
    const open = command("ledger-turns", { type: "Opened", key, expectedVersion: "no_stream" });
    expect(await appendOne(storeA!, open)).toMatchObject({ ok: true });
    for (let version = 1; version < 7; version++) {
      const writer = version % 2 === 1 ? storeB! : storeA!;
      const other = writer === storeA ? storeB! : storeA!;
      // When one appends on the version the other wrote
      const outcome = await appendOne(
        writer,
        command("ledger-turns", { type: "Posted", key, expectedVersion: version }),
      );
      // Then it gets the next version, and a stale expectation on the other instance is refused
      expect(outcome.ok && outcome.events[0]?.version).toBe(version + 1);
      const stale = await appendOne(
        other,
        command("ledger-turns", { type: "Posted", key, expectedVersion: version }),
      );
      expect(stale.ok === false && stale.error.details).toMatchObject({ actualVersion: version + 1 });
    }
    // And a key's version also holds when its partition moved on through other keys only
    const before = await appendOne(storeA!, command("ledger-turns", { type: "Posted", key }));
    expect(before.ok && before.events[0]?.version).toBe(8);
    for (let index = 0; index < 20; index++) {
      await appendOne(storeB!, command("ledger-turns", { type: "Posted", key: `other-${index}` }));
    }
    const after = await appendOne(
      storeA!,
      command("ledger-turns", { type: "Posted", key, expectedVersion: 8 }),
    );
    expect(after.ok && after.events[0]?.version).toBe(9);
  });

  it("gives racing appends of one key from two instances each version and offset once", async () => {
    // Given two instances appending to one key at once, in groups the server numbers by itself
    const [storeA, storeB] = await migratedInstances(2);
    await storeA!.putTopic("ledger-race", { partitions: 2 });
    await storeB!.putTopic("ledger-race", { partitions: 2 });
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        appendOne(
          index % 2 === 0 ? storeA! : storeB!,
          command("ledger-race", { type: "Posted", key: "account-1" }, { type: "Posted", key: "account-1" }),
        ),
      ),
    );
    // Then versions 1..120 and the partition's offsets 0..119 are each taken once
    const events = outcomes.flatMap((outcome) => (outcome.ok ? outcome.events : []));
    expect(events).toHaveLength(120);
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const expected = Array.from({ length: 120 }, (_, index) => index);
    expect(sorted(events.map((event) => event.version ?? -1))).toEqual(expected.map((value) => value + 1));
    expect(sorted(events.map((event) => event.offset))).toEqual(expected);
    // And each command's two events are consecutive in its stream
    for (const outcome of outcomes) {
      const [first, second] = outcome.ok ? outcome.events : [];
      expect((second?.version ?? 0) - (first?.version ?? 0)).toBe(1);
    }
  });

  it("answers id-conflict, not an exception, when one id races into two topics", async () => {
    const [storeA, storeB] = await migratedInstances(2);
    for (let attempt = 0; attempt < 10; attempt++) {
      // Given one id sent to two topics (different partition locks) at once
      const id = `shared-${attempt}`;
      // When both commit
      const outcomes = await Promise.all([
        appendOne(storeA!, command("users", { id, type: "UserCreated" })),
        appendOne(storeB!, command("organizations", { id, type: "OrganizationCreated" })),
      ]);
      // Then one stores it and the other is told the id is taken
      expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
      const loser = outcomes.find((outcome) => !outcome.ok);
      expect(loser?.ok === false && loser.error.code).toBe("id-conflict");
    }
  });

  it("fails only the command whose JSON jsonb cannot hold", async () => {
    const [store] = await migratedInstances(1);
    // Given a group with a NUL character in the middle command's data
    const outcomes = await store!.appendGroup(
      [
        command("users", { type: "UserCreated", data: { name: "Ada" } }),
        command("users", { type: "UserCreated", data: { name: "A\u0000da" } }),
        command("users", { type: "UserCreated", data: { name: "Grace", emoji: "😀" } }),
      ],
      groupOptions,
    );
    // Then the others commit
    expect(outcomes.map((outcome) => (outcome.ok ? "ok" : outcome.error.code))).toEqual([
      "ok",
      "invalid-request",
      "ok",
    ]);
    expect((await store!.getTopic("users"))?.events).toBe(2);
  });

  it("stores each event's own data and metadata in a simple group (ids assigned, any version)", async () => {
    const [store] = await migratedInstances(1);
    // Given two commands whose events carry JSON that needs escaping, null data and own metadata
    const awkward = [
      { type: "A", key: "k-1", data: { text: 'quote " backslash \\ tab \t', list: [1, [2, { x: null }]] } },
      { type: "B", key: "k-2", data: null, metadata: { correlationId: "c-2" } },
      { type: "C", key: "k-1", data: "a plain string, ünïcödé ✓", metadata: { note: "]},[{" } },
      { type: "D", data: [{}, [], 0, false] },
    ];
    const commands = [
      command("awkward", awkward[0]!, awkward[1]!),
      command("awkward", awkward[2]!, awkward[3]!),
    ];
    // When they are appended as one group
    const outcomes = await store!.appendGroup(commands, groupOptions);
    // Then each event reads back with its own data and metadata, and versions count per key
    const coordinates = outcomes.flatMap((outcome) => (outcome.ok ? outcome.events : []));
    expect(coordinates.map((event) => event.version)).toEqual([1, 1, 2, null]);
    const stored = await Promise.all(coordinates.map((event) => store!.getEvent(event.id)));
    expect(stored.map((event) => [event?.type, event?.data, event?.metadata])).toEqual(
      awkward.map((input) => [input.type, input.data, input.metadata ?? {}]),
    );
  });

  it("commits a group of many small commands in one transaction", async () => {
    const [store] = await migratedInstances(1);
    // Given 500 one-event commands on 50 keys, some of them expecting versions
    const commands = Array.from({ length: 500 }, (_, index) =>
      command("users", {
        type: "UserUpdated",
        key: `user-${index % 50}`,
        expectedVersion: index < 50 ? "no_stream" : Math.floor(index / 50),
        data: { index },
      }),
    );
    // When they are appended as one group
    const outcomes = await store!.appendGroup(commands, groupOptions);
    // Then each command saw the versions written by the ones before it
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    const stream = (await store!.readKey("users", "user-7", { fromVersion: 1, limit: 100 })).events;
    expect(stream.map((event) => event.data)).toEqual(
      Array.from({ length: 10 }, (_, version) => ({ index: version * 50 + 7 })),
    );
  });

  it("releases every connection when closed", async () => {
    // Given a used store with a commit listener
    const countHandles = () =>
      process.getActiveResourcesInfo().filter((name) => name.startsWith("TCP")).length;
    const schema = await freshSchema();
    const before = countHandles();
    const store = createPostgresStore({ url: schema.url, schema: schema.schema, maxConnections: 3 });
    store.onCommit(() => {});
    await store.migrate();
    await Promise.all([
      appendOne(store, command("users", { type: "UserCreated", key: "user-1" })),
      store.readPartition("users", 0, 0, 10),
      store.listTopics(),
    ]);
    expect(countHandles()).toBeGreaterThan(before);
    // When it is closed
    await store.close();
    // Then nothing of it is left (the driver may resolve its end a moment before the last socket
    // has closed)
    await expect.poll(countHandles, { timeout: 2_000, interval: 10 }).toBeLessThanOrEqual(before);
  });

  it("is store-unavailable when the server cannot be reached", async () => {
    // Given a store pointing at a closed port
    const store = createPostgresStore({ url: "postgres://postgres@127.0.0.1:1/postgres" });
    // Then every operation fails store-unavailable, without SQL in the message
    const ping = await store.ping().catch((error: unknown) => error);
    expect(isStoreUnavailable(ping)).toBe(true);
    const append = await store
      .appendGroup([command("users", { type: "UserCreated" })], groupOptions)
      .catch((error: unknown) => error);
    expect(isStoreUnavailable(append)).toBe(true);
    expect((append as Error).message).toBe("Store unavailable");
    await store.close();
    await store.close();
  });
});
