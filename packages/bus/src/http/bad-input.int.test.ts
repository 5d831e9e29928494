import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";
import { createApp } from "./app.js";

interface HostileCase {
  name: string;
  request: InjectOptions;
  status: number;
  code: string;
}

const json = { "content-type": "application/json" };
const post = (
  url: string,
  payload: string | Buffer,
  headers: Record<string, string> = json,
): InjectOptions => ({
  method: "POST",
  url,
  headers,
  payload,
});
const event = (fields: Record<string, unknown>) =>
  JSON.stringify({ type: "UserCreated", data: {}, ...fields });
const long = "x".repeat(10 * 1024);
const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;

const cases: HostileCase[] = [
  {
    name: "malformed JSON",
    request: post("/v1/topics/users/events", '{"type":'),
    status: 400,
    code: "malformed-request",
  },
  {
    name: "empty JSON body",
    request: post("/v1/topics/users/events", ""),
    status: 400,
    code: "malformed-request",
  },
  {
    name: "prototype poisoning",
    request: post("/v1/topics/users/events", '{"type":"X","__proto__":{"admin":true}}'),
    status: 400,
    code: "malformed-request",
  },
  {
    name: "a JSON array",
    request: post("/v1/topics/users/events", "[1,2]"),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "JSON null",
    request: post("/v1/topics/users/events", "null"),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "type is a number",
    request: post("/v1/topics/users/events", event({ type: 5 })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "no type",
    request: post("/v1/topics/users/events", '{"data":1}'),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "key is a number",
    request: post("/v1/topics/users/events", event({ key: 7 })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "unknown field",
    request: post("/v1/topics/users/events", event({ offset: 3 })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "negative expectedVersion",
    request: post("/v1/topics/users/events", event({ expectedVersion: -1 })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "metadata not an object",
    request: post("/v1/topics/users/events", event({ metadata: "m" })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "events not an array",
    request: post("/v1/topics/users/events", '{"events":"no"}'),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "empty batch",
    request: post("/v1/topics/users/events", '{"events":[]}'),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "one bad event in a batch",
    request: post("/v1/topics/users/events", JSON.stringify({ events: [{ type: "A" }, { type: "" }] })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "control characters in a key",
    request: post("/v1/topics/users/events", event({ key: "a\u0000b" })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "control characters in an id",
    request: post("/v1/topics/users/events", event({ id: "a\nb" })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "a 10 KB key",
    request: post("/v1/topics/users/events", event({ key: long })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "a 10 KB type",
    request: post("/v1/topics/users/events", event({ type: long })),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "5,000-deep nesting",
    request: post("/v1/topics/users/events", `{"type":"X","data":${deep}}`),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "unknown content type",
    request: post("/v1/topics/users/events", "<event/>", { "content-type": "application/xml" }),
    status: 415,
    code: "unsupported-media-type",
  },
  {
    name: "text without CloudEvents headers",
    request: post("/v1/topics/users/events", "hello", { "content-type": "text/plain" }),
    status: 415,
    code: "unsupported-media-type",
  },
  {
    name: "a CloudEvent without source",
    request: post("/v1/topics/users/events", '{"specversion":"1.0","id":"1","type":"T"}', {
      "content-type": "application/cloudevents+json",
    }),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "binary mode without ce-type",
    request: post("/v1/topics/users/events", "{}", {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": "1",
      "ce-source": "s",
    }),
    status: 400,
    code: "invalid-request",
  },
  {
    name: "an event over 1 MiB",
    request: post("/v1/topics/users/events", event({ data: "x".repeat(1024 * 1024 + 10) })),
    status: 413,
    code: "payload-too-large",
  },
  {
    name: "a request over 10 MiB",
    request: post(
      "/v1/topics/users/events",
      JSON.stringify({
        events: Array.from({ length: 11 }, () => ({ type: "A", data: "x".repeat(1024 * 1000) })),
      }),
    ),
    status: 413,
    code: "payload-too-large",
  },
  {
    name: "1001 events",
    request: post(
      "/v1/topics/users/events",
      JSON.stringify({ events: Array.from({ length: 1001 }, () => ({ type: "A" })) }),
    ),
    status: 413,
    code: "payload-too-large",
  },
  ...[
    "..%2F..%2Fetc%2Fpasswd",
    "users%3BDROP%20TABLE%20events",
    "USERS",
    "%00users",
    "users%0A",
    "-users",
    long,
    "%F0%9F%92%A5",
  ].map(
    (topic): HostileCase => ({
      name: `hostile topic name ${topic.slice(0, 30)}`,
      request: post(`/v1/topics/${topic}/events`, event({})),
      status: 400,
      code: "invalid-topic-name",
    }),
  ),
  {
    name: "hostile topic name on PUT",
    request: { method: "PUT", url: "/v1/topics/a'%20OR%201=1", payload: {} },
    status: 400,
    code: "invalid-topic-name",
  },
  {
    name: "zero partitions",
    request: { method: "PUT", url: "/v1/topics/t0", payload: { partitions: 0 } },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "a million partitions",
    request: { method: "PUT", url: "/v1/topics/t0", payload: { partitions: 1e6 } },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "topic settings as text",
    request: { method: "PUT", url: "/v1/topics/t0", headers: { "content-type": "text/plain" }, payload: "4" },
    status: 415,
    code: "unsupported-media-type",
  },
  {
    name: "negative limit",
    request: { method: "GET", url: "/v1/topics/users/partitions/0/events?limit=-1" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "limit not a number",
    request: { method: "GET", url: "/v1/events?limit=abc" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "limit too large",
    request: { method: "GET", url: "/v1/events?limit=100000" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "negative offset",
    request: { method: "GET", url: "/v1/topics/users/partitions/0/events?from=-5" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "endless wait",
    request: { method: "GET", url: "/v1/topics/users/partitions/0/events?wait=99999999" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "negative partition",
    request: { method: "GET", url: "/v1/topics/users/partitions/-1/events" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "bad time",
    request: { method: "GET", url: "/v1/events?from=yesterday" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "bad order",
    request: { method: "GET", url: "/v1/events?order=sideways" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "forged cursor",
    request: { method: "GET", url: "/v1/events?after=J09SIDE9MTs%3D" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "unknown query parameter",
    request: { method: "GET", url: "/v1/events?drop=table" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "bad asOf",
    request: { method: "GET", url: "/v1/topics/users/keys/u/events?asOf=never" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "control characters in a key path",
    request: { method: "GET", url: "/v1/topics/users/keys/a%00b/events" },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "a 10 KB key path",
    request: { method: "GET", url: `/v1/topics/users/keys/${long}/events` },
    status: 400,
    code: "invalid-request",
  },
  {
    name: "unknown route",
    request: { method: "DELETE", url: "/v1/topics/users" },
    status: 404,
    code: "route-not-found",
  },
];

describe.each(storeKinds)("bad input on %s", (kind) => {
  let testStore: TestStore;
  let bus: Bus;
  let app: FastifyInstance;

  async function snapshot() {
    const topics = await bus.listTopics();
    const events = await bus.query({ order: "asc", limit: 1000 });
    return JSON.stringify({ topics, events: events.events });
  }

  beforeAll(async () => {
    testStore = await createTestStore(kind);
    bus = createBus({ store: testStore.store });
    app = createApp({ bus });
    // Given a store holding a few events
    await bus.append("users", [{ type: "UserCreated", key: "user-1", data: { name: "Ada" } }]);
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await testStore.cleanup();
  });

  it.each(cases)("$name → $status $code, store unchanged", async ({ request, status, code }) => {
    const before = await snapshot();
    // When the hostile request is sent
    const response = await app.inject(request);
    // Then it gets the right problem and nothing changed
    expect({ status: response.statusCode, code: response.json().code }).toEqual({ status, code });
    expect(response.headers["content-type"]).toContain("application/problem+json");
    expect(response.json()).toMatchObject({ type: `urn:tributary:problem:${code}`, status });
    expect(response.body).not.toMatch(/ at .*\.(ts|js):\d+|SELECT|INSERT/);
    expect(await snapshot()).toBe(before);
  });

  it("stores SQL metacharacters and traversal strings in keys and data verbatim", async () => {
    const key = "'; DROP TABLE events; -- ../../etc/passwd \"\\ %00";
    const response = await app.inject(
      post("/v1/topics/users/events", event({ key, data: { q: "' OR 1=1 --" } })),
    );
    expect(response.statusCode).toBe(201);
    const stream = await app.inject({ url: `/v1/topics/users/keys/${encodeURIComponent(key)}/events` });
    expect(stream.json().events).toMatchObject([{ key, data: { q: "' OR 1=1 --" } }]);
    expect((await bus.getTopic("users")).events).toBe(2);
  });

  it("stays up: a valid append works after all of that", async () => {
    const response = await app.inject(post("/v1/topics/users/events", event({ key: "user-2" })));
    expect(response.statusCode).toBe(201);
  });
});
