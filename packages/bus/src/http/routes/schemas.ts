import {
  type CompatibilityMode,
  compatibilityModes,
  isValidTopicName,
  type JsonSchema,
  limits,
  type SchemaSubject,
  type SchemaVersion,
  subjectOf,
  TributaryError,
} from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";
import type { StoredSchemaVersion } from "../../registry/registry-store.js";
import { requireJsonBody } from "../require-json-body.js";

type EventTypeParams = { Params: { topic: string; type: string } };

const eventTypeParams = {
  type: "object",
  required: ["topic", "type"],
  properties: {
    topic: { type: "string", maxLength: 128 },
    type: { type: "string", minLength: 1, maxLength: limits.maxTypeLength },
  },
} as const;

const versionParams = {
  type: "object",
  required: ["topic", "type", "version"],
  properties: {
    ...eventTypeParams.properties,
    version: {
      anyOf: [
        { type: "string", enum: ["latest"] },
        { type: "integer", minimum: 1, maximum: 2 ** 31 - 1 },
      ],
    },
  },
} as const;

const schemaBody = {
  type: "object",
  required: ["schema"],
  additionalProperties: false,
  properties: { schema: { anyOf: [{ type: "object" }, { type: "boolean" }] } },
} as const;

const compatibilityBody = {
  type: "object",
  required: ["compatibility"],
  additionalProperties: false,
  properties: { compatibility: { type: "string", enum: [...compatibilityModes] } },
} as const;

export function toSchemaVersion(stored: StoredSchemaVersion): SchemaVersion {
  return {
    subject: stored.subject,
    version: stored.version,
    id: stored.id,
    schema: JSON.parse(stored.schema) as JsonSchema,
    createdAt: stored.createdAt,
  };
}

/** The subject of a topic's event type, after checking the topic name. */
function subjectFor(params: { topic: string; type: string }): string {
  if (!isValidTopicName(params.topic)) {
    throw new TributaryError("invalid-topic-name", { details: { topic: params.topic } });
  }
  return subjectOf(params.topic, params.type);
}

/**
 * The registry's own API (docs/schemas.md): the schemas of each topic's event types, by topic and
 * type. The Confluent-compatible view of the same registry is under `/schema-registry`.
 */
export function schemaRoutes(app: FastifyInstance, bus: Bus): void {
  const { registry } = bus;
  const json = { preValidation: requireJsonBody };

  app.get("/v1/schemas", async () => ({ subjects: await registry.subjects() }));

  app.put<EventTypeParams & { Body: { schema: JsonSchema } }>(
    "/v1/schemas/:topic/:type",
    { schema: { params: eventTypeParams, body: schemaBody }, ...json },
    async (request, reply) => {
      const { version, created } = await registry.register(subjectFor(request.params), request.body.schema);
      return reply.status(created ? 201 : 200).send({ ...toSchemaVersion(version), created });
    },
  );

  app.get<EventTypeParams>(
    "/v1/schemas/:topic/:type",
    { schema: { params: eventTypeParams } },
    async (request): Promise<SchemaSubject> => {
      const subject = subjectFor(request.params);
      const versions = await registry.versions(subject);
      return {
        subject,
        topic: request.params.topic,
        type: request.params.type,
        compatibility: await registry.compatibility(subject),
        latest: toSchemaVersion(versions[versions.length - 1] as StoredSchemaVersion),
        versions: versions.map((version) => version.version),
      };
    },
  );

  app.delete<EventTypeParams>(
    "/v1/schemas/:topic/:type",
    { schema: { params: eventTypeParams } },
    async (request) => ({ deleted: await registry.deleteSubject(subjectFor(request.params)) }),
  );

  app.get<EventTypeParams & { Params: { version: number | "latest" } }>(
    "/v1/schemas/:topic/:type/versions/:version",
    { schema: { params: versionParams } },
    async (request) =>
      toSchemaVersion(await registry.version(subjectFor(request.params), request.params.version)),
  );

  app.delete<EventTypeParams & { Params: { version: number | "latest" } }>(
    "/v1/schemas/:topic/:type/versions/:version",
    { schema: { params: versionParams } },
    async (request) => ({
      deleted: [await registry.deleteVersion(subjectFor(request.params), request.params.version)],
    }),
  );

  app.post<EventTypeParams & { Body: { schema: JsonSchema } }>(
    "/v1/schemas/:topic/:type/compatibility",
    { schema: { params: eventTypeParams, body: schemaBody }, ...json },
    (request) => registry.check(subjectFor(request.params), request.body.schema),
  );

  app.get<EventTypeParams>(
    "/v1/schemas/:topic/:type/config",
    { schema: { params: eventTypeParams } },
    async (request) => ({ compatibility: await registry.compatibility(subjectFor(request.params)) }),
  );

  app.put<EventTypeParams & { Body: { compatibility: CompatibilityMode } }>(
    "/v1/schemas/:topic/:type/config",
    { schema: { params: eventTypeParams, body: compatibilityBody }, ...json },
    async (request) => {
      await registry.setCompatibility(subjectFor(request.params), request.body.compatibility);
      return { compatibility: request.body.compatibility };
    },
  );

  app.get("/v1/schemas/config", async () => ({ compatibility: await registry.compatibility(null) }));

  app.put<{ Body: { compatibility: CompatibilityMode } }>(
    "/v1/schemas/config",
    { schema: { body: compatibilityBody }, ...json },
    async (request) => {
      await registry.setCompatibility(null, request.body.compatibility);
      return { compatibility: request.body.compatibility };
    },
  );
}
