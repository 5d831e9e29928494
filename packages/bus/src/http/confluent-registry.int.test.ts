import {
  Compatibility,
  JsonDeserializer,
  JsonSerializer,
  RestError,
  SchemaRegistryClient,
  SerdeType,
} from "@confluentinc/schemaregistry";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";
import { createApp } from "./app.js";
import { confluentContentType } from "./routes/confluent-registry.js";

// Closed content models, so that adding an optional property is backward compatible
// (docs/schema-compatibility.md); requiring a new one is not.
const userCreatedV1 = {
  type: "object",
  additionalProperties: false,
  required: ["userId", "email"],
  properties: { userId: { type: "string" }, email: { type: "string" } },
};
const userCreatedV2 = {
  ...userCreatedV1,
  properties: { ...userCreatedV1.properties, name: { type: "string" } },
};
const userCreatedBreaking = { ...userCreatedV2, required: [...userCreatedV2.required, "name"] };

const json = (schema: unknown) => ({ schemaType: "JSON", schema: JSON.stringify(schema) });

describe.each(storeKinds)("Confluent-compatible registry API on %s", (kind) => {
  let testStore: TestStore;
  let bus: Bus;
  let app: FastifyInstance;
  let registryUrl: string;

  beforeAll(async () => {
    testStore = await createTestStore(kind);
    bus = createBus({ store: testStore.store });
    app = createApp({ bus });
    registryUrl = `${await app.listen({ host: "127.0.0.1", port: 0 })}/schema-registry`;
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await testStore.cleanup();
  });

  const call = (method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown, type?: string) =>
    app.inject({
      method,
      url: `/schema-registry${path}`,
      ...(body === undefined
        ? {}
        : {
            headers: { "content-type": type ?? confluentContentType },
            payload: typeof body === "string" ? body : JSON.stringify(body),
          }),
    });
  const expectError = (response: LightMyRequestResponse, status: number, errorCode: number) => {
    expect(response.statusCode).toBe(status);
    expect(response.headers["content-type"]).toContain(confluentContentType);
    expect(response.json()).toEqual({ error_code: errorCode, message: expect.any(String) });
  };
  const subjects = async () => (await call("GET", "/subjects?deleted=true")).json() as string[];

  it("serves the kafkajs client: register, latest id, schema, encode and decode, a breaking version refused", async () => {
    // Given the kafkajs client pointed at the bus
    const registry = new SchemaRegistry({ host: registryUrl, retry: { retries: 0 } });
    // When it registers a JSON schema under the subject of topic users, type UserCreated
    const { id } = await registry.register(
      { type: SchemaType.JSON, schema: JSON.stringify(userCreatedV1) },
      { subject: "users-UserCreated" },
    );
    // Then the latest id is that id, and the schema it reads back validates like the original
    expect(await registry.getLatestSchemaId("users-UserCreated")).toBe(id);
    const schema = await registry.getSchema(id);
    expect(schema.isValid({ userId: "u-1", email: "ada@example.com" })).toBe(true);
    // and a payload round-trips through the Confluent wire format
    const user = { userId: "u-1", email: "ada@example.com" };
    const encoded = await registry.encode(id, user);
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await new SchemaRegistry({ host: registryUrl }).decode(encoded)).toEqual(user);
    await expect(registry.encode(id, { userId: "u-1" })).rejects.toThrow(/invalid payload/);
    // and the client pinned the subject to BACKWARD on its first registration, as it does with Confluent
    expect((await call("GET", "/config/users-UserCreated")).json()).toEqual({
      compatibilityLevel: "BACKWARD",
    });

    // When a version that requires a new property is registered
    const breaking = registry.register(
      { type: SchemaType.JSON, schema: JSON.stringify(userCreatedBreaking) },
      { subject: "users-UserCreated" },
    );
    // Then it is refused with the reason, and the subject keeps one version
    await expect(breaking).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/incompatible/),
    });
    expect((await call("GET", "/subjects/users-UserCreated/versions")).json()).toEqual([1]);

    // And the bus validates appends of users' UserCreated events against that subject
    await expect(
      bus.append("users", [{ type: "UserCreated", data: { userId: "u-2" } }]),
    ).rejects.toMatchObject({
      code: "schema-violation",
    });
  });

  it("serves the Confluent client: subjects, versions, ids, config, compatibility checks and deletes", async () => {
    // Given the Confluent client and two compatible versions of a subject
    const client = new SchemaRegistryClient({ baseURLs: [registryUrl], maxRetries: 0 });
    const subject = "accounts-UserCreated";
    const first = await client.register(subject, json(userCreatedV1));
    const second = await client.register(subject, json(userCreatedV2));
    // When it reads them back
    const latest = await client.getLatestSchemaMetadata(subject);
    const byId = await client.getBySubjectAndId(subject, first);
    // Then versions, ids and schema texts are Confluent's shapes
    expect(second).not.toBe(first);
    expect(latest).toMatchObject({ subject, version: 2, id: second, schemaType: "JSON" });
    expect(JSON.parse(latest.schema)).toEqual(userCreatedV2);
    expect(byId.schemaType).toBe("JSON");
    expect(JSON.parse(byId.schema)).toEqual(userCreatedV1);
    expect(await client.getId(subject, json(userCreatedV1))).toBe(first);
    expect(await client.getVersion(subject, json(userCreatedV2))).toBe(2);
    expect(await client.getAllVersions(subject)).toEqual([1, 2]);
    expect(await client.getAllSubjects()).toContain(subject);

    // When the subject's compatibility changes, and schemas are tested against it
    await client.updateConfig(subject, { compatibility: Compatibility.BACKWARD_TRANSITIVE });
    // Then the config reads back, and only the breaking schema is reported incompatible
    expect(await client.getConfig(subject)).toEqual({ compatibilityLevel: "BACKWARD_TRANSITIVE" });
    expect(await client.testCompatibility(subject, -1, json(userCreatedV2))).toBe(true);
    expect(await client.testCompatibility(subject, 1, json(userCreatedBreaking))).toBe(false);
    expect(await client.testSubjectCompatibility(subject, json(userCreatedBreaking))).toBe(false);

    // When the subject is deleted, softly then for good
    expect(await client.deleteSubject(subject)).toEqual([1, 2]);
    const afterSoftDelete = await client.getAllSubjects();
    expect(await client.deleteSubject(subject, true)).toEqual([1, 2]);
    // Then it is gone from the lists, reads of it are 40401, and its ids still resolve
    expect(afterSoftDelete).not.toContain(subject);
    expect(await subjects()).not.toContain(subject);
    const missing = await client.getAllVersions(subject).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(RestError);
    expect(missing).toMatchObject({ status: 404, errorCode: 40401 });
    expect((await call("GET", `/schemas/ids/${first}`)).json()).toEqual({
      schema: byId.schema,
      schemaType: "JSON",
    });
  });

  it("round-trips a message through the Confluent JSON serializer and deserializer", async () => {
    // Given a schema for payments' PaymentCaptured, and serdes naming subjects <topic>-<type> like the bus
    const client = new SchemaRegistryClient({ baseURLs: [registryUrl], maxRetries: 0 });
    const paymentCaptured = {
      type: "object",
      required: ["paymentId", "amount"],
      properties: { paymentId: { type: "string" }, amount: { type: "integer", minimum: 1 } },
    };
    const id = await client.register("payments-PaymentCaptured", json(paymentCaptured));
    const subjectNameStrategy = (topic: string) => `${topic}-PaymentCaptured`;
    const serializer = new JsonSerializer(client, SerdeType.VALUE, {
      useLatestVersion: true,
      autoRegisterSchemas: false,
      validate: true,
      subjectNameStrategy,
    });
    const deserializer = new JsonDeserializer(client, SerdeType.VALUE, {
      validate: true,
      subjectNameStrategy,
    });
    // When a payment is serialized and deserialized
    const payment = { paymentId: "p-1", amount: 250 };
    const bytes = await serializer.serialize("payments", payment);
    // Then the bytes carry the schema id, and the message comes back whole
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(await deserializer.deserialize("payments", bytes)).toEqual(payment);
    // and a message that breaks the schema is refused by the serializer
    await expect(serializer.serialize("payments", { paymentId: "p-2", amount: 0 })).rejects.toThrow(
      /Invalid message/,
    );
  });

  it("lets the Confluent serializer register a schema itself under <topic>-value", async () => {
    // Given a serializer with the client's defaults: auto-registration and the associated-subject
    // strategy, which asks /associations first and falls back to <topic>-value on its 404
    const client = new SchemaRegistryClient({ baseURLs: [registryUrl], maxRetries: 0 });
    const serializer = new JsonSerializer(client, SerdeType.VALUE, { autoRegisterSchemas: true });
    const deserializer = new JsonDeserializer(client, SerdeType.VALUE, {});
    // When it serializes a message
    const invoice = { invoiceId: "i-1", total: 12.5, lines: [{ sku: "a", quantity: 2 }] };
    const bytes = await serializer.serialize("invoices", invoice);
    // Then the schema it made from the message is registered, and the message reads back
    const latest = (await call("GET", "/subjects/invoices-value/versions/latest")).json();
    expect(bytes.readInt32BE(1)).toBe(latest.id);
    expect(await deserializer.deserialize("invoices", bytes)).toEqual(invoice);
  });

  it("answers errors with Confluent's codes", async () => {
    // Given one subject with one version
    await call("POST", "/subjects/orders-OrderPlaced/versions", json(userCreatedV1));
    // When unknown subjects, versions and ids are asked for
    const noSubject = await call("GET", "/subjects/orders-Nothing/versions");
    const noVersion = await call("GET", "/subjects/orders-OrderPlaced/versions/7");
    const noId = await call("GET", "/schemas/ids/999999");
    const notAnId = await call("GET", "/schemas/ids/abc");
    const lookupUnknownSubject = await call("POST", "/subjects/orders-Nothing", json(userCreatedV1));
    const lookupUnknownSchema = await call("POST", "/subjects/orders-OrderPlaced", json(userCreatedV2));
    const noConfig = await call("GET", "/config/orders-OrderPlaced");
    const noRoute = await call("GET", "/no/such/route");
    // Then each has its status and error code
    expectError(noSubject, 404, 40401);
    expect(noSubject.json().message).toContain("orders-Nothing");
    expectError(noVersion, 404, 40402);
    expectError(noId, 404, 40403);
    expectError(notAnId, 404, 40403);
    expectError(lookupUnknownSubject, 404, 40401);
    expectError(lookupUnknownSchema, 404, 40403);
    expectError(noConfig, 404, 40408);
    expectError(noRoute, 404, 404);

    // When schemas of other types, with references, or breaking the subject's mode are registered
    const avroByDefault = await call("POST", "/subjects/orders-Avro/versions", { schema: '"string"' });
    const protobuf = await call("POST", "/subjects/orders-Proto/versions", {
      schemaType: "PROTOBUF",
      schema: 'syntax = "proto3"; message A { string a = 1; }',
    });
    const references = await call("POST", "/subjects/orders-Refs/versions", {
      ...json({ $ref: "other.json" }),
      references: [{ name: "other.json", subject: "orders-Other", version: 1 }],
    });
    const breaking = await call("POST", "/subjects/orders-OrderPlaced/versions", json(userCreatedBreaking));
    // Then the first three are 42201 saying what is supported, the last a 409 saying what breaks
    expectError(avroByDefault, 422, 42201);
    expect(avroByDefault.json().message).toMatch(/Only JSON Schema is supported/);
    expectError(protobuf, 422, 42201);
    expectError(references, 422, 42201);
    expect(references.json().message).toMatch(/references are not supported/);
    expectError(breaking, 409, 409);
    expect(breaking.json().message).toMatch(/incompatible .*BACKWARD.*'name'/);
    expect(await subjects()).toEqual(
      expect.not.arrayContaining(["orders-Avro", "orders-Proto", "orders-Refs"]),
    );
  });

  it("serves the other read routes: schema text, references, ids, types, config, mode", async () => {
    // Given a schema registered under two subjects
    const shared = { ...userCreatedV1, title: "shared" };
    const { id } = (await call("POST", "/subjects/shared-A/versions", json(shared))).json();
    await call("POST", "/subjects/shared-B/versions", json(shared));
    // When the read routes are called
    const text = await call("GET", "/subjects/shared-A/versions/latest/schema");
    // Then each answers Confluent's shape as application/vnd.schemaregistry.v1+json
    expect(text.headers["content-type"]).toContain(confluentContentType);
    expect(JSON.parse(text.body)).toEqual(shared);
    expect((await call("GET", "/subjects/shared-A/versions/-1")).json()).toMatchObject({ version: 1, id });
    expect((await call("GET", "/subjects/shared-A/versions/1/referencedby")).json()).toEqual([]);
    expect(JSON.parse((await call("GET", `/schemas/ids/${id}/schema`)).body)).toEqual(shared);
    expect((await call("GET", `/schemas/ids/${id}/versions`)).json()).toEqual([
      { subject: "shared-A", version: 1 },
      { subject: "shared-B", version: 1 },
    ]);
    expect((await call("GET", `/schemas/ids/${id}/subjects`)).json()).toEqual(["shared-A", "shared-B"]);
    expect((await call("GET", "/schemas/types")).json()).toEqual(["JSON"]);
    expect((await call("GET", "/")).json()).toEqual({});
    expect((await call("GET", "/mode")).json()).toEqual({ mode: "READWRITE" });
    expect((await call("GET", "/mode/shared-A")).json()).toEqual({ mode: "READWRITE" });
    expect((await call("GET", "/config")).json()).toEqual({ compatibilityLevel: "BACKWARD" });
    expect((await call("GET", "/config/shared-A?defaultToGlobal=true")).json()).toEqual({
      compatibilityLevel: "BACKWARD",
    });
    const verbose = await call("POST", "/compatibility/subjects/shared-A/versions?verbose=true", {
      ...json(userCreatedBreaking),
    });
    expect(verbose.json()).toEqual({ is_compatible: false, messages: [expect.stringContaining("'name'")] });
    // and a subject's own mode can be set and removed again
    expect((await call("PUT", "/config/shared-A", { compatibility: "none" })).json()).toEqual({
      compatibility: "NONE",
    });
    expect((await call("DELETE", "/config/shared-A")).json()).toEqual({ compatibilityLevel: "NONE" });
    expectError(await call("GET", "/config/shared-A"), 404, 40408);
  });

  it("soft-deletes and permanently deletes versions in Confluent's order", async () => {
    // Given a subject with two versions
    await call("POST", "/subjects/deleting-A/versions", json(userCreatedV1));
    await call("POST", "/subjects/deleting-A/versions", json(userCreatedV2));
    // When version 1 is deleted for good before being soft-deleted, then softly, then for good
    const tooEarly = await call("DELETE", "/subjects/deleting-A/versions/1?permanent=true");
    const soft = await call("DELETE", "/subjects/deleting-A/versions/1");
    const hidden = await call("GET", "/subjects/deleting-A/versions");
    const withDeleted = await call("GET", "/subjects/deleting-A/versions?deleted=true");
    const permanent = await call("DELETE", "/subjects/deleting-A/versions/1?permanent=true");
    // Then Confluent's codes and results come in that order
    expectError(tooEarly, 404, 40407);
    expect(soft.json()).toBe(1);
    expect(hidden.json()).toEqual([2]);
    expect(withDeleted.json()).toEqual([1, 2]);
    expect(permanent.json()).toBe(1);
    expect((await call("GET", "/subjects/deleting-A/versions?deleted=true")).json()).toEqual([2]);
    expectError(await call("DELETE", "/subjects/deleting-A?permanent=true"), 404, 40405);
  });

  it("refuses bad input without changing anything", async () => {
    // Given a subject with one version, and the registry's state
    await call("POST", "/subjects/guarded-A/versions", json(userCreatedV1));
    const before = { subjects: await subjects(), config: (await call("GET", "/config")).json() };
    // When malformed requests come
    const objectSchema = await call("POST", "/subjects/guarded-A/versions", {
      schemaType: "JSON",
      schema: userCreatedV2,
    });
    const textNotJson = await call("POST", "/subjects/guarded-A/versions", {
      schemaType: "JSON",
      schema: "{not json",
    });
    const notASchema = await call("POST", "/subjects/guarded-B/versions", json({ type: "no-such-type" }));
    const bodyNotJson = await call("POST", "/subjects/guarded-B/versions", "{");
    const bodyNotObject = await call("POST", "/subjects/guarded-B/versions", [json(userCreatedV1)]);
    const plainText = await call("POST", "/subjects/guarded-B/versions", "schema", "text/plain");
    const withId = await call("POST", "/subjects/guarded-B/versions", { ...json(userCreatedV1), id: 7 });
    const badVersions = await Promise.all(
      ["abc", "0", "-2", "1.5", "2147483648", "latest2"].map((version) =>
        call("GET", `/subjects/guarded-A/versions/${version}`),
      ),
    );
    const badLevel = await call("PUT", "/config", { compatibility: "SIDEWAYS" });
    const noLevel = await call("PUT", "/config/guarded-A", {});
    const longSubject = await call("POST", `/subjects/${"s".repeat(400)}/versions`, json(userCreatedV1));
    // Then each is refused with its code
    expectError(objectSchema, 422, 42201);
    expectError(textNotJson, 422, 42201);
    expectError(notASchema, 422, 42201);
    expectError(bodyNotJson, 400, 40000);
    expectError(bodyNotObject, 400, 40000);
    expectError(plainText, 415, 41500);
    expectError(withId, 422, 42205);
    for (const response of badVersions) expectError(response, 422, 42202);
    expectError(badLevel, 422, 42203);
    expectError(noLevel, 422, 42203);
    expectError(longSubject, 400, 40000);
    // and nothing changed
    expect(await subjects()).toEqual(before.subjects);
    expect((await call("GET", "/config")).json()).toEqual(before.config);
    expectError(await call("GET", "/config/guarded-A"), 404, 40408);
    expect((await call("GET", "/subjects/guarded-A/versions")).json()).toEqual([1]);
  });

  it("answers a failure of the store as 500/50001 without saying what failed", async () => {
    // Given an app whose registry cannot reach its database
    const failing: Bus = {
      ...bus,
      registry: {
        ...bus.registry,
        subjects: async () => {
          throw new Error("connect ECONNREFUSED 10.0.0.3:5432");
        },
      },
    };
    const failingApp = createApp({ bus: failing });
    // When the subjects are listed
    const response = await failingApp.inject({ method: "GET", url: "/schema-registry/subjects" });
    await failingApp.close();
    // Then the answer is Confluent's backend error, with none of the cause
    expectError(response, 500, 50001);
    expect(response.body).not.toContain("ECONNREFUSED");
  });

  it("accepts every Confluent body content type as JSON", async () => {
    // Given the same schema sent under each content type a client may use
    const types = [
      confluentContentType,
      "application/vnd.schemaregistry+json",
      "application/json",
      "application/octet-stream",
    ];
    // When each registers it
    const answers = await Promise.all(
      types.map((type) => call("POST", "/subjects/typed-A/versions", json(userCreatedV1), type)),
    );
    // Then all get the one version's id
    const ids = answers.map((answer) => answer.json().id);
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(ids).size).toBe(1);
    expect(answers[0]?.json()).toMatchObject({ version: 1, schemaType: "JSON" });
  });
});
