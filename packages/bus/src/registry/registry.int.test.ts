import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createApp } from "../http/app.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";

// Closed content models: adding an optional property to an open one is not backward compatible
// (events written before may hold any value under that name), docs/schema-compatibility.md.
const userCreatedV1 = {
  type: "object",
  additionalProperties: false,
  required: ["userId", "email"],
  properties: { userId: { type: "string" }, email: { type: "string", format: "email" } },
};
const userCreatedV2 = {
  ...userCreatedV1,
  properties: { ...userCreatedV1.properties, name: { type: "string" } },
};

describe.each(storeKinds)("schema registry and validation on %s", (kind) => {
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

  const register = (topic: string, type: string, schema: unknown) =>
    app.inject({ method: "PUT", url: `/v1/schemas/${topic}/${type}`, payload: { schema } as object });
  const append = (topic: string, events: unknown[]) =>
    app.inject({ method: "POST", url: `/v1/topics/${topic}/events`, payload: { events } });
  const eventCount = async (topic: string) =>
    (await app.inject({ method: "GET", url: `/v1/topics/${topic}` })).json().events as number;

  it("registers versions, returns an equal schema's version, and refuses a breaking one", async () => {
    // Given version 1
    const first = await register("users", "UserCreated", userCreatedV1);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ subject: "users-UserCreated", version: 1, created: true });
    // When the same schema (keys in another order) comes again, then a compatible one, then a breaking one
    const again = await register("users", "UserCreated", {
      additionalProperties: false,
      properties: userCreatedV1.properties,
      required: userCreatedV1.required,
      type: "object",
    });
    const second = await register("users", "UserCreated", userCreatedV2);
    const breaking = await register("users", "UserCreated", {
      ...userCreatedV2,
      required: [...userCreatedV2.required, "name"],
    });
    // Then
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ version: 1, id: first.json().id, created: false });
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({ version: 2 });
    expect(breaking.statusCode).toBe(409);
    expect(breaking.json()).toMatchObject({ code: "schema-incompatible", compatibility: "BACKWARD" });
    expect(breaking.json().incompatibilities[0]).toMatchObject({ version: 2, direction: "backward" });
    const subject = await app.inject({ method: "GET", url: "/v1/schemas/users/UserCreated" });
    expect(subject.json()).toMatchObject({
      versions: [1, 2],
      latest: { version: 2 },
      compatibility: "BACKWARD",
    });
  });

  it("refuses a schema that does not compile, and checks compatibility without registering", async () => {
    const invalid = await register("users", "Broken", { type: "no-such-type" });
    const remote = await register("users", "Broken", { $ref: "https://example.com/schema.json" });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json()).toMatchObject({ code: "invalid-schema" });
    expect(remote.statusCode).toBe(422);
    expect((await app.inject({ method: "GET", url: "/v1/schemas/users/Broken" })).statusCode).toBe(404);

    await register("users", "Checked", userCreatedV1);
    const verdict = await app.inject({
      method: "POST",
      url: "/v1/schemas/users/Checked/compatibility",
      payload: { schema: { ...userCreatedV1, required: [...userCreatedV1.required, "name"] } },
    });
    expect(verdict.statusCode).toBe(200);
    expect(verdict.json()).toMatchObject({ compatible: false, compatibility: "BACKWARD" });
    expect((await app.inject({ method: "GET", url: "/v1/schemas/users/Checked" })).json().versions).toEqual([
      1,
    ]);
  });

  it("validates appends, records the schema version, and stores nothing of a request with a bad event", async () => {
    // Given a registered schema for orders-OrderPlaced
    await register("orders", "OrderPlaced", {
      type: "object",
      required: ["orderId", "quantity"],
      properties: { orderId: { type: "string" }, quantity: { type: "integer", minimum: 1 } },
    });
    // When a valid event, then a batch with one bad event, are appended
    const good = await append("orders", [
      { type: "OrderPlaced", key: "o-1", data: { orderId: "o-1", quantity: 2 } },
    ]);
    const bad = await append("orders", [
      { type: "OrderPlaced", key: "o-2", data: { orderId: "o-2", quantity: 1 } },
      { type: "OrderPlaced", key: "o-3", data: { orderId: "o-3", quantity: 0 } },
      { type: "Unregistered", key: "o-4", data: "anything goes" },
    ]);
    // Then the good one is stored with its schema version, and nothing of the bad request
    expect(good.statusCode).toBe(201);
    const stored = await app.inject({ method: "GET", url: `/v1/events/${good.json().events[0].id}` });
    expect(stored.json().metadata).toEqual({ schemaVersion: 1 });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({
      code: "schema-violation",
      schemaVersion: 1,
      errors: [{ pointer: "/events/1/data/quantity", schemaVersion: 1 }],
    });
    expect(await eventCount("orders")).toBe(1);
  });

  it("accepts a resend of a validated event after a new version as the same event", async () => {
    const event = { id: "resend-1", type: "OrderPlaced", key: "o-9", data: { orderId: "o-9", quantity: 1 } };
    expect((await append("orders", [event])).statusCode).toBe(201);
    const widened = await register("orders", "OrderPlaced", {
      type: "object",
      required: ["orderId", "quantity"],
      properties: { orderId: { type: "string" }, quantity: { type: "integer", minimum: 0 } },
    });
    expect(widened.json()).toMatchObject({ version: 2 });
    const resent = await append("orders", [event]);
    expect(resent.statusCode).toBe(200);
  });

  it("follows the topic's policy: none checks nothing, required refuses types without a schema", async () => {
    await app.inject({ method: "PUT", url: "/v1/topics/loose", payload: { validation: "none" } });
    await register("loose", "Thing", { type: "object", required: ["a"] });
    const unchecked = await append("loose", [{ type: "Thing", data: {} }]);
    expect(unchecked.statusCode).toBe(201);

    const strict = await app.inject({
      method: "PUT",
      url: "/v1/topics/strict",
      payload: { validation: "required" },
    });
    expect(strict.json()).toMatchObject({ validation: "required" });
    await register("strict", "Known", { type: "object" });
    const unknown = await append("strict", [
      { type: "Known", data: {} },
      { type: "Unknown", data: {} },
    ]);
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({
      code: "schema-required",
      subject: "strict-Unknown",
      pointer: "/events/1",
    });
    expect(await eventCount("strict")).toBe(0);
    expect((await append("strict", [{ type: "Known", data: {} }])).statusCode).toBe(201);
  });

  it("sets compatibility per subject and for the registry, and deletes versions", async () => {
    expect(
      (
        await app.inject({ method: "PUT", url: "/v1/schemas/config", payload: { compatibility: "FULL" } })
      ).json(),
    ).toEqual({ compatibility: "FULL" });
    await register("audit", "Entry", { type: "object", properties: { a: { type: "string" } } });
    expect((await app.inject({ method: "GET", url: "/v1/schemas/audit/Entry/config" })).json()).toEqual({
      compatibility: "FULL",
    });
    await app.inject({
      method: "PUT",
      url: "/v1/schemas/audit/Entry/config",
      payload: { compatibility: "NONE" },
    });
    const anything = await register("audit", "Entry", { type: "string" });
    expect(anything.statusCode).toBe(201);
    // Deleting the latest version makes the previous one the one appends are checked against
    expect(
      (await app.inject({ method: "DELETE", url: "/v1/schemas/audit/Entry/versions/latest" })).statusCode,
    ).toBe(200);
    expect((await append("audit", [{ type: "Entry", data: "a string" }])).statusCode).toBe(422);
    expect((await append("audit", [{ type: "Entry", data: { a: "x" } }])).json().events).toHaveLength(1);
    await app.inject({ method: "PUT", url: "/v1/schemas/config", payload: { compatibility: "BACKWARD" } });
  });

  it("answers bad input with a problem and changes nothing", async () => {
    const cases = [
      await register("Bad Topic", "T", { type: "object" }),
      await register("users", "T", "not a schema"),
      await app.inject({ method: "PUT", url: "/v1/schemas/users/T", payload: { schema: {}, extra: 1 } }),
      await app.inject({ method: "PUT", url: "/v1/schemas/config", payload: { compatibility: "SIDEWAYS" } }),
      await app.inject({ method: "GET", url: "/v1/schemas/users/NoSuchType" }),
      await app.inject({ method: "GET", url: "/v1/schemas/users/UserCreated/versions/0" }),
      await app.inject({ method: "GET", url: "/v1/schemas/users/UserCreated/versions/99" }),
      await app.inject({ method: "PUT", url: "/v1/topics/users", payload: { validation: "sometimes" } }),
    ];
    expect(cases.map((response) => response.statusCode)).toEqual([400, 400, 400, 400, 404, 400, 404, 400]);
    for (const response of cases)
      expect(response.headers["content-type"]).toContain("application/problem+json");
    expect((await app.inject({ method: "GET", url: "/v1/schemas/users/T" })).statusCode).toBe(404);
  });
});
