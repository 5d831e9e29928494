import { readFileSync } from "node:fs";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { routesOf } from "../testing/app-routes.js";
import { createTestStore, type StoreKind, storeKinds, type TestStore } from "../testing/test-stores.js";
import { createApp } from "./app.js";

// ajv-formats is CommonJS: its default export arrives wrapped under Node's ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const busVersion = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

interface TestApp {
  app: FastifyInstance;
  close(): Promise<void>;
}

async function openApp(kind: StoreKind): Promise<TestApp> {
  const testStore: TestStore = await createTestStore(kind);
  const bus: Bus = createBus({ store: testStore.store });
  const app = createApp({ bus });
  await app.ready();
  return {
    app,
    close: async () => {
      await app.close();
      await bus.close();
      await testStore.cleanup();
    },
  };
}

type Operation = {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Record<string, unknown> }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
  security?: unknown[];
  tags?: string[];
};

describe("GET /openapi.json", () => {
  // The document comes from the route schemas alone, whatever the store: SQLite will do.
  let testApp: TestApp;
  let app: FastifyInstance;
  let document: { paths: Record<string, Record<string, Operation>>; [member: string]: unknown };

  beforeAll(async () => {
    testApp = await openApp("sqlite");
    app = testApp.app;
    const response = await app.inject({ method: "GET", url: "/openapi.json" });
    expect(response.statusCode).toBe(200);
    document = response.json();
  });

  afterAll(() => testApp.close());

  it("is a valid OpenAPI 3.1 document", async () => {
    // When the document is checked against the OpenAPI 3.1 schema
    const result = await new Validator().validate(structuredClone(document));
    // Then it matches
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe("3.1.0");
    expect(document.info).toMatchObject({ title: "Tributary", version: busVersion });
    expect(document.servers).toBeUndefined();
  });

  it("describes every route of the app but the Confluent-compatible registry", () => {
    // Given the routes Fastify serves
    const served = routesOf(app)
      .filter((route) => !route.split(" ")[1]?.startsWith("/schema-registry"))
      .map((route) => route.replace(/:([A-Za-z0-9_]+)/g, "{$1}"));
    expect(served).toContain("POST /v1/topics/{topic}/events");
    expect(served).toContain("GET /asyncapi.json");
    // Then the document has exactly these operations
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(served.sort());
    // And each declares the parameters of its path
    for (const [path, item] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const operation of Object.values(item)) {
        const declared = (operation.parameters ?? []).filter((parameter) => parameter.in === "path");
        expect(declared.map((parameter) => parameter.name).sort(), path).toEqual(names.sort());
        expect(declared.every((parameter) => parameter.required === true)).toBe(true);
      }
    }
  });

  it("takes params, querystring, bodies and responses from the route schemas", () => {
    const putTopic = document.paths["/v1/topics/{topic}"]?.put;
    expect(putTopic?.parameters).toContainEqual(expect.objectContaining({ in: "path", name: "topic" }));
    expect(putTopic?.requestBody?.content["application/json"]?.schema).toMatchObject({
      type: "object",
      properties: { partitions: { type: "integer", minimum: 1 } },
    });

    const readPartition = document.paths["/v1/topics/{topic}/partitions/{partition}/events"]?.get;
    const query = (readPartition?.parameters ?? []).filter((parameter) => parameter.in === "query");
    expect(query.map((parameter) => parameter.name).sort()).toEqual(["from", "limit", "wait"]);

    const append = document.paths["/v1/topics/{topic}/events"]?.post;
    expect(append?.responses["201"]?.content?.["application/json"]?.schema).toMatchObject({
      type: "object",
      properties: { events: { type: "array" } },
    });
  });

  it("gives every operation problem responses and the API key scheme", async () => {
    const components = document.components as {
      securitySchemes: Record<string, unknown>;
      schemas: Record<string, Record<string, unknown>>;
    };
    expect(components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(document.security).toEqual([{ apiKey: [] }]);
    for (const [path, item] of Object.entries(document.paths)) {
      for (const operation of Object.values(item)) {
        expect(operation.responses["4XX"], path).toEqual({ $ref: "#/components/responses/Problem" });
        expect(operation.responses["5XX"], path).toEqual({ $ref: "#/components/responses/Problem" });
        expect(operation.tags?.length, path).toBe(1);
      }
    }
    // The health probes need no key
    expect(document.paths["/healthz"]?.get?.security).toEqual([]);
    expect(document.paths["/v1/topics"]?.get?.security).toBeUndefined();

    // And a real problem answer matches the Problem schema
    const notFound = await app.inject({ method: "GET", url: "/v1/topics/nowhere" });
    expect(notFound.statusCode).toBe(404);
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    const isProblem = ajv.compile(components.schemas.Problem ?? false);
    expect(isProblem(notFound.json()), JSON.stringify(isProblem.errors)).toBe(true);
  });

  it("is served to any valid key once keys exist, and to no one without", async () => {
    // Given a key that may only read one topic (its creation closes the bus)
    const created = await app.inject({
      method: "POST",
      url: "/v1/admin/keys",
      payload: { principal: "reader", consume: ["users"] },
    });
    expect(created.statusCode).toBe(201);
    const authorization = `Bearer ${created.json().key}`;
    for (const url of ["/openapi.json", "/asyncapi.json"]) {
      // Then the documents need a key, and any valid one will do
      expect((await app.inject({ method: "GET", url })).statusCode, url).toBe(401);
      expect((await app.inject({ method: "GET", url, headers: { authorization } })).statusCode, url).toBe(
        200,
      );
    }
  });
});

describe.each(storeKinds)("GET /asyncapi.json on %s", (kind) => {
  let testApp: TestApp;
  let app: FastifyInstance;
  const parser = new Parser();

  beforeAll(async () => {
    testApp = await openApp(kind);
    app = testApp.app;
  });

  afterAll(() => testApp.close());

  const fetchDocument = async () => {
    const response = await app.inject({
      method: "GET",
      url: "/asyncapi.json",
      headers: { host: "bus.test:4700" },
    });
    expect(response.statusCode).toBe(200);
    const parsed = await parser.parse(response.body);
    const errors = parsed.diagnostics.filter(
      (diagnostic) => diagnostic.severity === DiagnosticSeverity.Error,
    );
    expect(errors).toEqual([]);
    expect(parsed.document).toBeDefined();
    return { raw: response.json(), parsed: parsed.document! };
  };

  const put = (url: string, payload: object) => app.inject({ method: "PUT", url, payload });

  it("is valid with no topics", async () => {
    // Given a bus without topics
    // When its document is fetched
    const { raw, parsed } = await fetchDocument();
    // Then it is a valid AsyncAPI 3.0 document with no channels, and the HTTP API as server
    expect(raw.asyncapi).toBe("3.0.0");
    expect(raw.info.version).toBe(busVersion);
    expect(parsed.channels().all()).toHaveLength(0);
    expect(parsed.operations().all()).toHaveLength(0);
    expect(raw.servers.http).toMatchObject({ host: "bus.test:4700", protocol: "http" });
  });

  it("has a channel per topic and a message per registered event type", async () => {
    // Given two topics and schemas for their event types
    expect((await put("/v1/topics/users", { partitions: 2 })).statusCode).toBe(201);
    expect((await put("/v1/topics/organizations", { partitions: 1 })).statusCode).toBe(201);
    const userCreated = {
      type: "object",
      required: ["name"],
      properties: { name: { type: "string" }, email: { type: "string", format: "email" } },
    };
    const organizationCreated = {
      type: "object",
      properties: { name: { type: "string" }, address: { $ref: "#/definitions/address" } },
      definitions: { address: { type: "object", properties: { city: { type: "string" } } } },
    };
    const schemas: Array<[string, object]> = [
      ["/v1/schemas/users/UserCreated", userCreated],
      ["/v1/schemas/users/UserRenamed", { type: "object", properties: { name: { type: "string" } } }],
      ["/v1/schemas/users/UserDeleted", { type: "object" }],
      ["/v1/schemas/organizations/OrganizationCreated", organizationCreated],
      // A subject of a topic that does not exist: no channel
      ["/v1/schemas/archive/Thing", { type: "object" }],
    ];
    for (const [url, schema] of schemas) expect((await put(url, { schema })).statusCode, url).toBe(201);
    // And one type's schema deleted again
    const deleted = await app.inject({ method: "DELETE", url: "/v1/schemas/users/UserDeleted" });
    expect(deleted.statusCode).toBe(200);

    // When the document is fetched
    const { raw, parsed } = await fetchDocument();

    // Then each topic is a channel addressed by its name, with a message per live event type
    const channels = Object.fromEntries(
      parsed
        .channels()
        .all()
        .map((channel) => [
          channel.address(),
          channel
            .messages()
            .all()
            .map((message) => message.name())
            .sort(),
        ]),
    );
    expect(channels).toEqual({
      organizations: ["OrganizationCreated"],
      users: ["UserCreated", "UserRenamed"],
    });
    expect(raw.channels.users.description).toContain("POST /v1/topics/users/events");

    // And a message's payload is the registered schema, local references included
    const message = raw.components.messages["users.UserCreated"];
    expect(message.payload).toEqual({
      schemaFormat: "application/schema+json;version=draft-07",
      schema: userCreated,
    });
    const organization = parsed
      .messages()
      .all()
      .find((candidate) => candidate.name() === "OrganizationCreated");
    expect(organization?.payload()?.properties()?.address?.properties()?.city?.type()).toBe("string");

    // And every message has the envelope fields, described once
    expect(message.traits).toEqual([{ $ref: "#/components/messageTraits/event" }]);
    expect(Object.keys(raw.components.schemas.EventEnvelope.properties).sort()).toEqual(
      ["id", "topic", "partition", "offset", "position", "version", "time", "type", "key", "metadata"].sort(),
    );
    expect(organization?.headers()?.properties()?.offset?.type()).toBe("integer");

    // And each channel has a send (append) and a receive operation over its messages
    const operations = parsed
      .operations()
      .all()
      .map((operation) => ({
        id: operation.id(),
        action: operation.action(),
        channel: operation.channels().all()[0]?.address(),
        messages: operation
          .messages()
          .all()
          .map((candidate) => candidate.name())
          .sort(),
      }));
    expect(operations).toEqual(
      expect.arrayContaining([
        { id: "users.send", action: "send", channel: "users", messages: ["UserCreated", "UserRenamed"] },
        {
          id: "users.receive",
          action: "receive",
          channel: "users",
          messages: ["UserCreated", "UserRenamed"],
        },
        {
          id: "organizations.send",
          action: "send",
          channel: "organizations",
          messages: ["OrganizationCreated"],
        },
        {
          id: "organizations.receive",
          action: "receive",
          channel: "organizations",
          messages: ["OrganizationCreated"],
        },
      ]),
    );
    expect(operations).toHaveLength(4);
  });

  it("keeps event types whose names are no AsyncAPI keys, and topics whose names prefix others", async () => {
    // Given a topic whose name starts another's and the types "Order placed" and "Order/placed"
    expect((await put("/v1/topics/users-audit", { partitions: 1 })).statusCode).toBe(201);
    for (const type of ["Order placed", "Order/placed"]) {
      const url = `/v1/schemas/users-audit/${encodeURIComponent(type)}`;
      expect((await put(url, { schema: { type: "object" } })).statusCode, url).toBe(201);
    }
    // When the document is fetched
    const { raw, parsed } = await fetchDocument();
    // Then both types are messages of the topic, under keys that AsyncAPI allows
    const audit = parsed
      .channels()
      .all()
      .find((channel) => channel.address() === "users-audit");
    expect(
      audit
        ?.messages()
        .all()
        .map((message) => message.name())
        .sort(),
    ).toEqual(["Order placed", "Order/placed"]);
    expect(Object.keys(raw.channels["users-audit"].messages).sort()).toEqual([
      "Order_placed",
      "Order_placed_2",
    ]);
    // And the subjects of users-audit are, for the bus, also types "audit-Order…" of users
    const users = parsed
      .channels()
      .all()
      .find((channel) => channel.address() === "users");
    expect(
      users
        ?.messages()
        .all()
        .map((message) => message.name()),
    ).toContain("audit-Order placed");
  });
});
