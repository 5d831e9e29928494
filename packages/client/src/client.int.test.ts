import { type RunningServer, startServer } from "@tributary/bus";
import { createTestStoreUrl, type TestStoreUrl } from "@tributary/bus/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "./client.js";
import { isIdConflict, isNotFound, isVersionConflict, TributaryError } from "./index.js";

/** Waits until the clock has passed `time`, so that the next commit gets a later timestamp. */
async function after(time: string): Promise<void> {
  const target = Date.parse(time);
  for (let attempt = 0; attempt < 100 && Date.now() <= target; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("the client SDK against a bus on sqlite", () => {
  let location: TestStoreUrl;
  let server: RunningServer;
  let client: ReturnType<typeof createClient>;

  beforeAll(async () => {
    location = await createTestStoreUrl("sqlite");
    server = await startServer({ store: location.url, port: 0, logger: false });
    client = createClient({ url: server.url });
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  it("appends one event and a batch, and reports a resend as replayed", async () => {
    // Given a user registration
    const registered = {
      id: "user-ada-registered",
      type: "UserRegistered",
      key: "user-ada",
      data: { name: "Ada" },
    };
    // When it is appended, then appended again
    const first = await client.append("users", registered);
    const again = await client.append("users", registered);
    // Then the first commits it, the second is a replay with the same coordinates
    expect(first.replayed).toBe(false);
    expect(first.events).toEqual([
      expect.objectContaining({ id: "user-ada-registered", topic: "users", version: 1 }),
    ]);
    expect(again).toEqual({ events: first.events, replayed: true });

    // When a batch without ids is appended, the client gives every event an id and they commit together
    const batch = await client.append("users", [
      { type: "UserRenamed", key: "user-ada", data: { name: "Ada L." } },
      { type: "UserRenamed", key: "user-ada", data: { name: "Ada Lovelace" } },
    ]);
    expect(batch.replayed).toBe(false);
    expect(batch.events.map((event) => event.version)).toEqual([2, 3]);
    expect(batch.events.every((event) => /^[0-9a-f-]{36}$/.test(event.id))).toBe(true);
  });

  it("gets an event by id", async () => {
    const event = await client.getEvent("user-ada-registered");
    expect(event).toMatchObject({
      id: "user-ada-registered",
      type: "UserRegistered",
      key: "user-ada",
      data: { name: "Ada" },
    });
  });

  it("long-polls a partition until an event commits", async () => {
    // Given a reader waiting on an empty partition
    await client.putTopic("organizations", { partitions: 1 });
    const read = client.readPartition("organizations", 0, { from: 0, wait: 20_000 });
    // When an event commits
    await client.append("organizations", {
      type: "OrganizationCreated",
      key: "org-acme",
      data: { name: "Acme" },
    });
    // Then the reader gets it
    const page = await read;
    expect(page.events).toMatchObject([{ offset: 0, type: "OrganizationCreated" }]);
    expect(page.next).toBe(1);
    expect(await client.readPartition("organizations", 0, { from: 1 })).toEqual({ events: [], next: 1 });
  });

  it("reads an entity's history as of a time", async () => {
    // Given a user registered, then renamed later
    const created = await client.append("users", {
      type: "UserRegistered",
      key: "user-bob",
      data: { name: "Bob" },
    });
    const createdAt = created.events[0]?.time as string;
    await after(createdAt);
    await client.append("users", { type: "UserRenamed", key: "user-bob", data: { name: "Robert" } });
    // When the stream is read as of the registration's commit time
    const history = await client.readKey("users", "user-bob", { asOf: new Date(createdAt) });
    // Then only the registration is there; without asOf both are
    expect(history.events.map((event) => event.data)).toEqual([{ name: "Bob" }]);
    const all = await client.readKey("users", "user-bob");
    expect(all.events.map((event) => event.version)).toEqual([1, 2]);
    expect((await client.readKey("users", "user-bob", { fromVersion: 2 })).events).toHaveLength(1);
  });

  it("pages a query by cursor, and queryAll walks every page", async () => {
    // Given 7 events of one correlation
    await client.append(
      "organizations",
      Array.from({ length: 7 }, (_, index) => ({
        type: "MemberInvited",
        key: "org-globex",
        data: { member: index },
        metadata: { correlationId: "invite-run-1" },
      })),
    );
    // When they are queried 3 at a time
    const first = await client.query({ correlationId: "invite-run-1", limit: 3 });
    const second = await client.query({
      correlationId: "invite-run-1",
      limit: 3,
      after: first.next as string,
    });
    // Then the pages follow each other
    expect(first.events.map((event) => event.data)).toEqual([{ member: 0 }, { member: 1 }, { member: 2 }]);
    expect(second.events.map((event) => event.data)).toEqual([{ member: 3 }, { member: 4 }, { member: 5 }]);
    // and queryAll yields all of them in order, newest first when asked
    const all: unknown[] = [];
    for await (const event of client.queryAll({ correlationId: "invite-run-1", limit: 3, order: "desc" })) {
      all.push(event.data);
    }
    expect(all).toEqual([6, 5, 4, 3, 2, 1, 0].map((member) => ({ member })));
  });

  it("turns problems into TributaryErrors with the right code", async () => {
    const missing = await caught(client.getEvent("no-such-event"));
    expect(missing).toBeInstanceOf(TributaryError);
    expect(missing).toMatchObject({ code: "event-not-found", status: 404, retriable: false });
    expect(isNotFound(missing)).toBe(true);
    expect(isNotFound(await caught(client.getTopic("no-such-topic")))).toBe(true);

    const conflict = await caught(
      client.append("users", {
        type: "UserRegistered",
        key: "user-ada",
        data: {},
        expectedVersion: "no_stream",
      }),
    );
    expect(isVersionConflict(conflict)).toBe(true);
    expect((conflict as TributaryError).details).toMatchObject({
      key: "user-ada",
      expectedVersion: "no_stream",
    });

    const reused = await caught(
      client.append("users", {
        id: "user-ada-registered",
        type: "UserRegistered",
        key: "user-ada",
        data: { name: "Eve" },
      }),
    );
    expect(isIdConflict(reused)).toBe(true);
    expect(await caught(client.append("Not A Topic", { type: "X" }))).toMatchObject({
      code: "invalid-topic-name",
    });
  });

  it("retries a 503 transparently, and the retry of a committed append is an idempotent replay", async () => {
    // Given a network that loses the answer of the first append after the bus committed it
    const posts: string[] = [];
    const lossyFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method !== "POST") return response;
      posts.push(String(init.body));
      if (posts.length > 1) return response;
      await response.arrayBuffer();
      return new Response(
        JSON.stringify({ code: "store-unavailable", status: 503, title: "Store unavailable" }),
        {
          status: 503,
          headers: { "content-type": "application/problem+json" },
        },
      );
    };
    const lossy = createClient({ url: server.url, fetch: lossyFetch });
    // When an event without an id is appended through it
    const result = await lossy.append("users", {
      type: "UserRegistered",
      key: "user-carol",
      data: { name: "Carol" },
    });
    // Then the client retried with the same id, and the event is stored once
    expect(posts).toHaveLength(2);
    expect(posts[1]).toBe(posts[0]);
    const stream = await client.readKey("users", "user-carol");
    expect(stream.events).toHaveLength(1);
    expect(result.events).toEqual([expect.objectContaining({ id: stream.events[0]?.id, version: 1 })]);
  });
});
