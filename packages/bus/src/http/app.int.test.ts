import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";
import { createApp } from "./app.js";

const json = { "content-type": "application/json" };

describe.each(storeKinds)("HTTP API on %s", (kind) => {
  let testStore: TestStore;
  let bus: Bus;
  let app: FastifyInstance;

  beforeAll(async () => {
    testStore = await createTestStore(kind);
    bus = createBus({ store: testStore.store });
    app = createApp({ bus });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await testStore.cleanup();
  });

  const append = (topic: string, body: unknown, headers: Record<string, string> = json) =>
    app.inject({
      method: "POST",
      url: `/v1/topics/${topic}/events`,
      headers,
      payload: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });

  it("creates a topic once and refuses another partition count", async () => {
    const created = await app.inject({
      method: "PUT",
      url: "/v1/topics/organizations",
      payload: { partitions: 2 },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      name: "organizations",
      partitions: 2,
      headOffsets: [0, 0],
      events: 0,
    });

    const again = await app.inject({
      method: "PUT",
      url: "/v1/topics/organizations",
      payload: { partitions: 2 },
    });
    expect(again.statusCode).toBe(200);

    const conflict = await app.inject({
      method: "PUT",
      url: "/v1/topics/organizations",
      payload: { partitions: 3 },
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers["content-type"]).toContain("application/problem+json");
    expect(conflict.json().code).toBe("topic-conflict");
  });

  it("appends one event with 201 after commit and replays a resend with 200", async () => {
    // Given an event with a client id
    const event = { id: "user-created-1", type: "UserCreated", key: "user-1", data: { name: "Ada" } };
    // When it is appended twice
    const first = await append("users", event);
    const second = await append("users", event);
    // Then the first stores it, the second returns the same coordinates
    expect(first.statusCode).toBe(201);
    const [coordinates] = first.json().events;
    expect(coordinates).toMatchObject({ id: "user-created-1", topic: "users", offset: 0, version: 1 });
    expect(second.statusCode).toBe(200);
    expect(second.json().events[0]).toEqual(coordinates);

    const reused = await append("users", { ...event, data: { name: "Eve" } });
    expect(reused.statusCode).toBe(409);
    expect(reused.json().code).toBe("id-conflict");
  });

  it("commits a batch atomically: a version conflict stores none of it", async () => {
    const before = (await app.inject({ url: "/v1/topics/users" })).json().events;
    const response = await append("users", {
      events: [
        { type: "UserCreated", key: "user-2", data: {}, expectedVersion: "no_stream" },
        { type: "UserRenamed", key: "user-2", data: {}, expectedVersion: 5 },
      ],
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: "version-conflict", key: "user-2", expectedVersion: 5 });
    expect((await app.inject({ url: "/v1/topics/users" })).json().events).toBe(before);

    const ok = await append("users", {
      events: [
        { type: "UserCreated", key: "user-2", data: {}, expectedVersion: "no_stream" },
        { type: "UserRenamed", key: "user-2", data: { name: "B" }, expectedVersion: 1 },
      ],
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().events.map((event: { version: number }) => event.version)).toEqual([1, 2]);
  });

  it("accepts CloudEvents in structured, batch and binary mode", async () => {
    const structured = await append(
      "organizations",
      {
        specversion: "1.0",
        id: "ce-1",
        source: "/orgs",
        type: "OrgCreated",
        subject: "org-1",
        data: { n: 1 },
      },
      { "content-type": "application/cloudevents+json" },
    );
    expect(structured.statusCode).toBe(201);
    const batch = await append(
      "organizations",
      [
        {
          specversion: "1.0",
          id: "ce-2",
          source: "/orgs",
          type: "OrgRenamed",
          subject: "org-1",
          data: { n: 2 },
        },
        {
          specversion: "1.0",
          id: "ce-3",
          source: "/orgs",
          type: "OrgRenamed",
          subject: "org-1",
          data: { n: 3 },
        },
      ],
      { "content-type": "application/cloudevents-batch+json" },
    );
    expect(batch.statusCode).toBe(201);
    const binary = await append("organizations", JSON.stringify({ n: 4 }), {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": "ce-4",
      "ce-source": "/orgs",
      "ce-type": "OrgRenamed",
      "ce-subject": "org-1",
      "ce-correlationid": "corr-9",
    });
    expect(binary.statusCode).toBe(201);
    const stream = (await app.inject({ url: "/v1/topics/organizations/keys/org-1/events" })).json();
    expect(stream.events.map((event: { data: { n: number } }) => event.data.n)).toEqual([1, 2, 3, 4]);
    expect(stream.events[3]).toMatchObject({
      type: "OrgRenamed",
      metadata: { source: "/orgs", correlationId: "corr-9" },
    });
  });

  it("wakes a long-polling reader when an event commits", async () => {
    await app.inject({ method: "PUT", url: "/v1/topics/waiting", payload: { partitions: 1 } });
    const started = Date.now();
    const read = app.inject({ url: "/v1/topics/waiting/partitions/0/events?from=0&wait=10000" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await append("waiting", { type: "Ping", data: 1 });
    const response = await read;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ events: [{ offset: 0, type: "Ping" }], next: 1 });
    expect(Date.now() - started).toBeLessThan(9000);

    const empty = await app.inject({ url: "/v1/topics/waiting/partitions/0/events?from=1&wait=50" });
    expect(empty.json()).toEqual({ events: [], next: 1 });
  });

  it("pages the cross-topic query with cursors in both orders", async () => {
    await append("queries", {
      events: Array.from({ length: 5 }, (_, n) => ({ type: "Q", key: `k${n}`, data: n })),
    });
    for (const order of ["asc", "desc"]) {
      const seen: number[] = [];
      let after: string | null = null;
      do {
        const cursor: string = after === null ? "" : `&after=${after}`;
        const page = (
          await app.inject({ url: `/v1/events?topic=queries&order=${order}&limit=2${cursor}` })
        ).json();
        seen.push(...page.events.map((event: { data: number }) => event.data));
        after = page.next;
      } while (after !== null);
      expect(seen).toEqual(order === "asc" ? [0, 1, 2, 3, 4] : [4, 3, 2, 1, 0]);
    }
  });

  it("reads an entity's history as of a time", async () => {
    await append("users", { type: "UserCreated", key: "user-9", data: { v: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cut = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await append("users", { type: "UserRenamed", key: "user-9", data: { v: 2 } });
    const history = (await app.inject({ url: `/v1/topics/users/keys/user-9/events?asOf=${cut}` })).json();
    expect(history.events.map((event: { version: number }) => event.version)).toEqual([1]);
    const all = (await app.inject({ url: "/v1/topics/users/keys/user-9/events?fromVersion=2" })).json();
    expect(all.events.map((event: { version: number }) => event.version)).toEqual([2]);
  });

  it("gets an event by id, and answers 404 problems for unknown things", async () => {
    const found = await app.inject({ url: "/v1/events/user-created-1" });
    expect(found.json()).toMatchObject({ id: "user-created-1", type: "UserCreated", data: { name: "Ada" } });
    for (const url of [
      "/v1/events/nope",
      "/v1/topics/nope",
      "/v1/topics/users/partitions/99/events",
      "/v2/x",
    ]) {
      const response = await app.inject({ url });
      expect(response.statusCode).toBe(404);
      expect(response.headers["content-type"]).toContain("application/problem+json");
    }
  });

  it("reports health and readiness", async () => {
    expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/readyz" })).json()).toEqual({ status: "ready", store: kind });
  });

  it("refuses appends to unknown topics when auto-create is off", async () => {
    const strictBus = createBus({ store: testStore.store, autoCreateTopics: false });
    const strictApp = createApp({ bus: strictBus });
    const response = await strictApp.inject({
      method: "POST",
      url: "/v1/topics/unknown-topic/events",
      headers: json,
      payload: JSON.stringify({ type: "X" }),
    });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe("topic-not-found");
    await strictApp.close();
  });
});
