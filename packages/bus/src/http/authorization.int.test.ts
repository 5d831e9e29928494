import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";
import { createApp } from "./app.js";

type Holder = "producer" | "consumer" | "subscriber" | "admin";

interface RouteCase {
  method: "GET" | "PUT" | "POST" | "DELETE";
  url: string;
  body?: object;
  /** A key that has the right. */
  allowed: Holder;
  /** Keys that lack it (none: any valid key will do). */
  denied: Holder[];
}

/** Every route, with who may call it. Topic `users`, subscription `billing-users` on it. */
const routeCases: RouteCase[] = [
  { method: "GET", url: "/metrics", allowed: "consumer", denied: [] },
  { method: "GET", url: "/v1/topics", allowed: "producer", denied: [] },
  { method: "GET", url: "/v1/topics/users", allowed: "consumer", denied: [] },
  {
    method: "PUT",
    url: "/v1/topics/users",
    body: { partitions: 4 },
    allowed: "admin",
    denied: ["producer", "consumer"],
  },
  {
    method: "POST",
    url: "/v1/topics/users/events",
    body: { type: "UserCreated", key: "u-1", data: {} },
    allowed: "producer",
    denied: ["consumer", "subscriber"],
  },
  {
    method: "GET",
    url: "/v1/topics/users/partitions/0/events",
    allowed: "consumer",
    denied: ["producer", "subscriber"],
  },
  { method: "GET", url: "/v1/topics/users/keys/u-1/events", allowed: "consumer", denied: ["producer"] },
  { method: "GET", url: "/v1/events?topic=users", allowed: "consumer", denied: ["producer"] },
  { method: "GET", url: "/v1/events", allowed: "admin", denied: ["consumer", "producer"] },
  { method: "GET", url: "/v1/schemas", allowed: "consumer", denied: [] },
  {
    method: "PUT",
    url: "/v1/schemas/users/UserCreated",
    body: { schema: { type: "object" } },
    allowed: "producer",
    denied: ["consumer"],
  },
  { method: "GET", url: "/v1/schemas/users/UserCreated", allowed: "consumer", denied: [] },
  { method: "GET", url: "/v1/schemas/users/UserCreated/versions/1", allowed: "consumer", denied: [] },
  {
    method: "POST",
    url: "/v1/schemas/users/UserCreated/compatibility",
    body: { schema: { type: "object" } },
    allowed: "consumer",
    denied: [],
  },
  { method: "GET", url: "/v1/schemas/users/UserCreated/config", allowed: "consumer", denied: [] },
  {
    method: "PUT",
    url: "/v1/schemas/users/UserCreated/config",
    body: { compatibility: "BACKWARD" },
    allowed: "admin",
    denied: ["producer", "consumer"],
  },
  { method: "GET", url: "/v1/schemas/config", allowed: "producer", denied: [] },
  {
    method: "PUT",
    url: "/v1/schemas/config",
    body: { compatibility: "BACKWARD" },
    allowed: "admin",
    denied: ["producer"],
  },
  { method: "GET", url: "/v1/subscriptions", allowed: "consumer", denied: [] },
  {
    method: "PUT",
    url: "/v1/subscriptions/billing-users",
    body: { topic: "users", start: "earliest" },
    allowed: "consumer",
    denied: ["producer", "subscriber"],
  },
  { method: "GET", url: "/v1/subscriptions/billing-users", allowed: "consumer", denied: ["producer"] },
  {
    method: "POST",
    url: "/v1/subscriptions/billing-users/poll",
    body: { consumer: "c1", max: 10 },
    allowed: "subscriber",
    denied: ["producer"],
  },
  {
    method: "POST",
    url: "/v1/subscriptions/billing-users/heartbeat",
    body: { consumer: "c1" },
    allowed: "consumer",
    denied: ["producer"],
  },
  {
    method: "POST",
    url: "/v1/subscriptions/billing-users/reset",
    body: { to: "earliest" },
    allowed: "subscriber",
    denied: ["producer"],
  },
  {
    method: "GET",
    url: "/v1/subscriptions/billing-users/dead-letters",
    allowed: "subscriber",
    denied: ["producer"],
  },
  {
    method: "POST",
    url: "/v1/subscriptions/billing-users/dead-letters/redrive",
    body: {},
    allowed: "subscriber",
    denied: ["producer"],
  },
  {
    method: "DELETE",
    url: "/v1/subscriptions/billing-users/consumers/c1",
    allowed: "consumer",
    denied: ["producer"],
  },
  {
    method: "POST",
    url: "/v1/subscriptions/billing-users/ack",
    body: { consumer: "c1", events: ["no-such-event"] },
    allowed: "subscriber",
    denied: ["producer"],
  },
  {
    method: "POST",
    url: "/v1/subscriptions/billing-users/nack",
    body: { consumer: "c1", events: ["no-such-event"], error: "failed" },
    allowed: "consumer",
    denied: ["producer"],
  },
  {
    method: "GET",
    url: "/v1/subscriptions/billing-users/dead-letters/e-1",
    allowed: "subscriber",
    denied: ["producer"],
  },
  {
    method: "DELETE",
    url: "/v1/subscriptions/billing-users/dead-letters/e-1",
    allowed: "subscriber",
    denied: ["producer"],
  },
  { method: "GET", url: "/v1/events/no-such-event", allowed: "admin", denied: ["consumer", "producer"] },
  { method: "GET", url: "/openapi.json", allowed: "producer", denied: [] },
  { method: "GET", url: "/asyncapi.json", allowed: "subscriber", denied: [] },
  { method: "DELETE", url: "/v1/admin/keys/000000000000", allowed: "admin", denied: ["consumer"] },
  { method: "GET", url: "/schema-registry/subjects", allowed: "consumer", denied: [] },
  {
    method: "POST",
    url: "/schema-registry/subjects/users-Imported/versions",
    body: { schema: JSON.stringify({ type: "object" }), schemaType: "JSON" },
    allowed: "admin",
    denied: ["producer", "consumer"],
  },
  {
    method: "POST",
    url: "/schema-registry/compatibility/subjects/users-UserCreated/versions/latest",
    body: { schema: JSON.stringify({ type: "object" }), schemaType: "JSON" },
    allowed: "consumer",
    denied: [],
  },
  {
    method: "PUT",
    url: "/schema-registry/config",
    body: { compatibility: "BACKWARD" },
    allowed: "admin",
    denied: ["consumer"],
  },
  { method: "GET", url: "/v1/admin/keys", allowed: "admin", denied: ["producer", "consumer", "subscriber"] },
  { method: "GET", url: "/v1/admin/principals", allowed: "admin", denied: ["consumer"] },
  {
    method: "PUT",
    url: "/v1/admin/principals/auditor",
    body: { consume: ["*"] },
    allowed: "admin",
    denied: ["producer"],
  }, // Last: they delete what the routes above use.
  { method: "DELETE", url: "/v1/subscriptions/billing-users", allowed: "subscriber", denied: ["producer"] },
  {
    method: "DELETE",
    url: "/v1/schemas/users/UserCreated/versions/latest",
    allowed: "admin",
    denied: ["producer", "consumer"],
  },
  {
    method: "DELETE",
    url: "/v1/schemas/users/UserCreated",
    allowed: "admin",
    denied: ["producer", "consumer"],
  },
];

describe.each(storeKinds)("API keys and grants on %s", (kind) => {
  let testStore: TestStore;
  let bus: Bus;
  let app: FastifyInstance;
  const keys = {} as Record<Holder, string>;

  beforeAll(async () => {
    testStore = await createTestStore(kind);
    // Every case sends bad keys from one address: no failure budget here (see "failed authentications").
    bus = createBus({ store: testStore.store, auth: { failureLimits: { burst: 0, perSecond: 0 } } });
    app = createApp({ bus });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await testStore.cleanup();
  });

  const send = (route: Pick<RouteCase, "method" | "url" | "body">, key?: string) =>
    app.inject({
      method: route.method,
      url: route.url,
      ...(route.body === undefined ? {} : { payload: route.body }),
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
    });

  it("runs open without keys, and requires one once the first key exists", async () => {
    // Given a bus with no keys
    expect((await send({ method: "GET", url: "/v1/topics" })).statusCode).toBe(200);
    // When keys are created through the admin API, the first while the bus is open
    const admin = await send({
      method: "POST",
      url: "/v1/admin/keys",
      body: { principal: "ops", admin: true },
    });
    expect(admin.statusCode).toBe(201);
    keys.admin = admin.json().key;
    expect(keys.admin).toMatch(/^trb_[0-9a-f]{12}_/);
    const create = async (principal: string, grants: object) => {
      const response = await send(
        { method: "POST", url: "/v1/admin/keys", body: { principal, ...grants } },
        keys.admin,
      );
      expect(response.statusCode).toBe(201);
      return response.json().key as string;
    };
    keys.producer = await create("signup", { produce: ["users"] });
    keys.consumer = await create("search", { consume: ["users*"] });
    keys.subscriber = await create("billing", { consume: ["subscription:billing-*"] });
    // Then a request without a key is refused, and the health probes stay open
    const anonymous = await send({ method: "GET", url: "/v1/topics" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toContain("Bearer");
    expect(anonymous.json()).toMatchObject({ code: "unauthorized" });
    expect((await send({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await send({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    // And the key list never shows secrets
    const listed = await send({ method: "GET", url: "/v1/admin/keys" }, keys.admin);
    expect(JSON.stringify(listed.json())).not.toContain(keys.producer.slice(18));
    expect(
      listed
        .json()
        .keys.map((key: { principal: string }) => key.principal)
        .sort(),
    ).toEqual(["billing", "ops", "search", "signup"]);
  });

  it.each(routeCases)(
    "$method $url: 401 without a key, 403 without the right, allowed with it",
    async (route) => {
      // No key, and a malformed or unknown key
      expect((await send(route)).statusCode).toBe(401);
      expect(
        (await send(route, "trb_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).statusCode,
      ).toBe(401);
      expect((await send(route, "not-a-key")).statusCode).toBe(401);
      // Keys without the right
      for (const holder of route.denied) {
        const denied = await send(route, keys[holder]);
        expect(denied.statusCode, `${holder} on ${route.method} ${route.url}`).toBe(403);
        // The Confluent-compatible API answers in Confluent's error shape.
        expect(denied.json()).toMatchObject(
          route.url.startsWith("/schema-registry") ? { error_code: 40300 } : { code: "forbidden" },
        );
      }
      // The key with it
      const allowed = await send(route, keys[route.allowed]);
      expect([401, 403], `${route.allowed} on ${route.method} ${route.url}: ${allowed.body}`).not.toContain(
        allowed.statusCode,
      );
      expect(allowed.statusCode).toBeLessThan(500);
    },
  );

  it("refuses the event stream without a key or the right (its allowed answer never ends)", async () => {
    await send(
      { method: "PUT", url: "/v1/subscriptions/stream-users", body: { topic: "users", start: "earliest" } },
      keys.consumer,
    );
    const route = { method: "GET" as const, url: "/v1/subscriptions/stream-users/stream" };
    expect((await send(route)).statusCode).toBe(401);
    expect((await send(route, keys.producer)).statusCode).toBe(403);
    expect((await send(route, keys.subscriber)).statusCode).toBe(403);
  });

  it("refuses a revoked key, and changes nothing for a refused append", async () => {
    const before = (await send({ method: "GET", url: "/v1/topics/users" }, keys.admin)).json().events;
    const refused = await send(
      { method: "POST", url: "/v1/topics/users/events", body: { type: "UserCreated", data: {} } },
      keys.consumer,
    );
    expect(refused.statusCode).toBe(403);
    expect((await send({ method: "GET", url: "/v1/topics/users" }, keys.admin)).json().events).toBe(before);

    const created = await send(
      { method: "POST", url: "/v1/admin/keys", body: { principal: "temporary", consume: ["*"] } },
      keys.admin,
    );
    const { id, key } = created.json();
    expect((await send({ method: "GET", url: "/v1/events" }, key)).statusCode).toBe(200);
    expect((await send({ method: "DELETE", url: `/v1/admin/keys/${id}` }, keys.admin)).statusCode).toBe(204);
    expect((await send({ method: "GET", url: "/v1/events" }, key)).statusCode).toBe(401);
    expect((await send({ method: "DELETE", url: `/v1/admin/keys/${id}` }, keys.admin)).statusCode).toBe(404);
  });
});

describe("append rate limits", () => {
  it("answers 429 with Retry-After once a principal is over its rate, and stores nothing of that request", async () => {
    // Given a bus limited to 5 events/s per principal, and a producer key
    const testStore = await createTestStore("sqlite");
    const bus = createBus({ store: testStore.store });
    const app = createApp({ bus, rateLimits: { eventsPerSecond: 5, bytesPerSecond: 0 } });
    try {
      const { key } = await bus.auth.createKey("signup", { produce: ["users"], consume: [], admin: true });
      const append = (count: number) =>
        app.inject({
          method: "POST",
          url: "/v1/topics/users/events",
          headers: { authorization: `Bearer ${key}` },
          payload: { events: Array.from({ length: count }, () => ({ type: "UserCreated", data: {} })) },
        });
      // When it sends 10 events, then 1 more at once
      const first = await append(10);
      const second = await append(1);
      // Then the first goes (a second's allowance may be overdrawn once), the next waits the debt out
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(429);
      expect(second.json()).toMatchObject({ code: "rate-limited" });
      expect(Number(second.headers["retry-after"])).toBe(1);
      expect((await bus.getTopic("users")).events).toBe(10);
    } finally {
      await app.close();
      await bus.close();
      await testStore.cleanup();
    }
  });
});

describe("GET /v1/events/{id} with keys", () => {
  it("reads the event from the store once, to authorize the request and to answer it", async () => {
    // Given a bus whose store counts event lookups, and a consumer of users
    const testStore = await createTestStore("sqlite");
    let lookups = 0;
    const store = {
      ...testStore.store,
      getEvent: (id: string) => {
        lookups += 1;
        return testStore.store.getEvent(id);
      },
    };
    const bus = createBus({ store });
    const app = createApp({ bus });
    try {
      const { key } = await bus.auth.createKey("search", { produce: [], consume: ["users"], admin: false });
      await bus.append("users", [{ id: "e-1", type: "UserCreated", data: {} }]);
      const get = (id: string) =>
        app.inject({ method: "GET", url: `/v1/events/${id}`, headers: { authorization: `Bearer ${key}` } });
      // When the event is read, and an unknown one
      const found = await get("e-1");
      const foundLookups = lookups;
      const unknown = await get("no-such-event");
      // Then each cost one lookup
      expect(found.statusCode).toBe(200);
      expect(found.json()).toMatchObject({ id: "e-1", topic: "users" });
      expect(foundLookups).toBe(1);
      expect(unknown.statusCode).toBe(403);
      expect(lookups).toBe(2);
    } finally {
      await app.close();
      await bus.close();
      await testStore.cleanup();
    }
  });
});

describe("failed authentications", () => {
  it("answers 429 with Retry-After to an address over its budget, while working keys and other addresses go on", async () => {
    // Given a bus allowing 5 failed authentications per address, refilled too slowly to matter here
    const testStore = await createTestStore("sqlite");
    const bus = createBus({
      store: testStore.store,
      auth: { failureLimits: { burst: 5, perSecond: 0.001 } },
    });
    const app = createApp({ bus });
    try {
      const { key } = await bus.auth.createKey("search", { produce: [], consume: ["users"], admin: false });
      const { key: unusedKey } = await bus.auth.createKey("audit", {
        produce: [],
        consume: ["users"],
        admin: false,
      });
      const get = (remoteAddress: string, bearer: string) =>
        app.inject({
          method: "GET",
          url: "/v1/topics",
          remoteAddress,
          headers: { authorization: `Bearer ${bearer}` },
        });
      expect((await get("203.0.113.9", key)).statusCode).toBe(200);
      // When one address sends 5 unknown keys, and then more
      for (let attempt = 0; attempt < 5; attempt++) {
        expect((await get("203.0.113.9", `trb_00000000000${attempt}_${"A".repeat(43)}`)).statusCode).toBe(
          401,
        );
      }
      const limited = await get("203.0.113.9", `trb_000000000009_${"A".repeat(43)}`);
      // Then it is rate limited, with a Retry-After, as are malformed keys and keys it never used
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ code: "rate-limited" });
      expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect((await get("203.0.113.9", "not-a-key")).statusCode).toBe(429);
      expect((await get("203.0.113.9", unusedKey)).statusCode).toBe(429);
      // And the key it works with still works, and other addresses are not affected
      expect((await get("203.0.113.9", key)).statusCode).toBe(200);
      expect((await get("198.51.100.4", unusedKey)).statusCode).toBe(200);
      expect((await get("198.51.100.4", "not-a-key")).statusCode).toBe(401);
      // And a request without a key is a plain 401: it costs nothing
      expect(
        (await app.inject({ method: "GET", url: "/v1/topics", remoteAddress: "203.0.113.9" })).statusCode,
      ).toBe(401);
    } finally {
      await app.close();
      await bus.close();
      await testStore.cleanup();
    }
  });
});
