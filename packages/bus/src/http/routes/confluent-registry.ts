import {
  type CompatibilityMode,
  compatibilityModes,
  isStoreUnavailable,
  limits,
  TributaryError,
} from "@tributary/protocol";
import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
import { canonicalJson } from "../../append/canonical-json.js";
import type { Bus } from "../../bus.js";
import type { StoredSchemaVersion } from "../../registry/registry-store.js";
import type { SchemaRegistry } from "../../registry/schema-registry.js";
import { createJsonParser, exceedsJsonDepth } from "../hardening.js";
import type { StoreOutageLog } from "../store-outage-log.js";

/** What the Confluent Schema Registry answers with, and what its clients send first. */
export const confluentContentType = "application/vnd.schemaregistry.v1+json";

const bodyContentTypes = [
  confluentContentType,
  "application/vnd.schemaregistry+json",
  "application/json",
  "application/octet-stream",
];

/** The largest version number the Confluent API allows (a Java int). */
const maxVersion = 2 ** 31 - 1;

/** An error in Confluent's terms: the HTTP status and the finer `error_code` its clients read. */
class ConfluentError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

const subjectNotFound = (subject: unknown) =>
  new ConfluentError(404, 40401, `Subject '${String(subject)}' not found.`);
const versionNotFound = (version: unknown) =>
  new ConfluentError(404, 40402, `Version ${String(version)} not found.`);
const schemaNotFound = (id?: unknown) =>
  new ConfluentError(404, 40403, id === undefined ? "Schema not found." : `Schema ${String(id)} not found.`);
const invalidSchema = (message: string) => new ConfluentError(422, 42201, message);
const noSubjectConfig = (subject: string) =>
  new ConfluentError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
const notDeletedFirst = (code: number, what: string) =>
  new ConfluentError(404, code, `${what} was not deleted first before being permanently deleted`);

/** Fastify's own 4xx (body parsing, limits), by code or status. */
const fastifyMessages: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "the body is not valid JSON",
  FST_ERR_CTP_EMPTY_JSON_BODY: "the JSON body is empty",
  413: "the request body is over 10 MiB",
  415: "this content type is not accepted",
};

/** Confluent's body for every error; 5xx say nothing of the cause (the log has it). */
function toConfluentError(error: unknown): ConfluentError {
  if (error instanceof ConfluentError) return error;
  if (error instanceof TributaryError) {
    const details = error.details ?? {};
    if (error.code === "schema-not-found") {
      if (details.missing === "subject") return subjectNotFound(details.subject);
      if (details.missing === "version") return versionNotFound(details.version);
      return schemaNotFound(details.id);
    }
    if (error.code === "schema-incompatible") {
      const found = (details.incompatibilities as { message: string }[] | undefined) ?? [];
      const messages = found.map((incompatibility) => incompatibility.message);
      return new ConfluentError(
        409,
        409,
        `Schema being registered is incompatible with an earlier schema for subject '${String(details.subject)}' (${String(details.compatibility)}), details: ${messages.join("; ")}`,
      );
    }
    if (error.code === "invalid-schema") return invalidSchema(`Invalid schema: ${error.message}`);
    if (error.status < 500) return new ConfluentError(error.status, error.status * 100, error.message);
  } else {
    const fastifyError = error as Partial<FastifyError>;
    const status = fastifyError.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      const message =
        error instanceof SyntaxError
          ? fastifyMessages.FST_ERR_CTP_INVALID_JSON_BODY
          : (fastifyMessages[fastifyError.code ?? ""] ?? fastifyMessages[status]);
      return new ConfluentError(status, status * 100, message ?? "the request could not be read");
    }
  }
  return new ConfluentError(500, 50001, "Error in the backend data store");
}

/** Confluent's error body and content type for the routes of this scope, including its 404s. */
function installConfluentHandling(scope: FastifyInstance, outage: StoreOutageLog | undefined): void {
  const parseJson = createJsonParser(scope);
  for (const type of bodyContentTypes) {
    if (scope.hasContentTypeParser(type)) scope.removeContentTypeParser(type);
    // The Confluent client sends its content type on every request, DELETEs without a body too.
    scope.addContentTypeParser(type, { parseAs: "string" }, (request, body, done) => {
      if (body.length === 0) done(null, undefined);
      else parseJson(request, body.toString(), done);
    });
  }
  scope.addHook("onRequest", async (_request, reply) => {
    reply.type(confluentContentType);
  });
  scope.setErrorHandler((raw, request, reply) => {
    const error = toConfluentError(raw);
    // One line per outage, not per refused request (see the API's error handler).
    if (outage !== undefined && isStoreUnavailable(raw)) outage.refused(raw.cause ?? raw);
    else if (error.status >= 500) request.log.error({ err: raw }, "schema registry request failed");
    return reply
      .status(error.status)
      .type(confluentContentType)
      .send({ error_code: error.errorCode, message: error.message });
  });
  scope.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .type(confluentContentType)
      .send({
        error_code: 404,
        message: `HTTP 404 Not Found: ${request.method} ${request.url.split("?")[0]?.slice(0, 200)}`,
      }),
  );
}

type Query = Record<string, string | string[] | undefined>;

function isTrue(query: Query, name: string): boolean {
  const value = query[name];
  return typeof value === "string" && value.toLowerCase() === "true";
}

/** A version in a path: a number from 1 to 2^31-1, `latest`, or -1 (Confluent's latest). */
function parseVersion(text: string): number | "latest" {
  if (text.toLowerCase() === "latest" || text === "-1") return "latest";
  if (/^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= maxVersion) return Number(text);
  throw new ConfluentError(
    422,
    42202,
    `The specified version '${text.slice(0, 100)}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
  );
}

/** A schema id in a path; anything but a positive integer is an id no schema has. */
function parseId(text: string): number {
  return /^[1-9][0-9]{0,14}$/.test(text) ? Number(text) : 0;
}

function parseCompatibility(body: unknown): CompatibilityMode {
  const fields = readObject(body);
  const level = fields.compatibility ?? fields.compatibilityLevel;
  const mode = typeof level === "string" ? level.toUpperCase() : undefined;
  if (mode === undefined || !compatibilityModes.includes(mode as CompatibilityMode)) {
    throw new ConfluentError(
      422,
      42203,
      "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive",
    );
  }
  return mode as CompatibilityMode;
}

function readObject(body: unknown): Record<string, unknown> {
  if (Buffer.isBuffer(body)) {
    throw new ConfluentError(415, 41500, `bodies are ${confluentContentType} or application/json`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ConfluentError(400, 40000, "the body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** No value, or objects and arrays holding no value at any depth. */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value !== "object") return false;
  return Object.values(value).every(isEmpty);
}

/**
 * The schema of a register, lookup or compatibility request, parsed from its JSON text. Only JSON
 * Schema is kept: a missing `schemaType` means AVRO to Confluent, so it is refused like PROTOBUF.
 * References and data contracts would change what the schema means, so they are refused too.
 */
function readSchema(body: unknown): unknown {
  const fields = readObject(body);
  const type = fields.schemaType ?? "AVRO";
  if (typeof type !== "string" || type.toUpperCase() !== "JSON") {
    throw invalidSchema(
      `Only JSON Schema is supported: send "schemaType": "JSON" (${JSON.stringify(type).slice(0, 40)} schemas are not)`,
    );
  }
  if (!isEmpty(fields.references)) throw invalidSchema("Schema references are not supported");
  if (!isEmpty(fields.metadata) || !isEmpty(fields.ruleSet)) {
    throw invalidSchema("Data contracts (metadata, ruleSet) are not supported");
  }
  if (typeof fields.schema !== "string")
    throw invalidSchema("Invalid schema: `schema` must be a JSON string");
  // Parsed here, not by the body parser: the same nesting limit as a body keeps JSON.parse and the
  // compiler from spending seconds or the stack on it.
  if (exceedsJsonDepth(fields.schema, limits.maxBodyJsonDepth)) {
    throw invalidSchema(`Invalid schema: the schema nests deeper than ${limits.maxBodyJsonDepth} levels`);
  }
  try {
    return JSON.parse(fields.schema);
  } catch {
    throw invalidSchema("Invalid schema: the schema text is not valid JSON");
  }
}

function toVersionBody(stored: StoredSchemaVersion) {
  return {
    subject: stored.subject,
    version: stored.version,
    id: stored.id,
    schemaType: "JSON",
    schema: stored.schema,
  };
}

type SubjectRequest = FastifyRequest<{ Params: { subject: string }; Querystring: Query }>;
type VersionRequest = FastifyRequest<{ Params: { subject: string; version: string }; Querystring: Query }>;
type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: Query }>;

function subjectRoutes(scope: FastifyInstance, registry: SchemaRegistry): void {
  const versionOf = (request: VersionRequest) =>
    registry.version(request.params.subject, parseVersion(request.params.version), {
      deleted: isTrue(request.query, "deleted"),
    });

  scope.get("/subjects", (request: FastifyRequest<{ Querystring: Query }>) =>
    registry.subjects({ deleted: isTrue(request.query, "deleted") }),
  );

  scope.get("/subjects/:subject/versions", async (request: SubjectRequest) => {
    const versions = await registry.versions(request.params.subject, {
      deleted: isTrue(request.query, "deleted"),
    });
    return versions.map((version) => version.version);
  });

  scope.get("/subjects/:subject/versions/:version", async (request: VersionRequest) =>
    toVersionBody(await versionOf(request)),
  );

  // The schema's own text, not wrapped in a JSON string.
  scope.get(
    "/subjects/:subject/versions/:version/schema",
    async (request: VersionRequest) => (await versionOf(request)).schema,
  );

  // References are not supported, so no schema refers to another.
  scope.get("/subjects/:subject/versions/:version/referencedby", async (request: VersionRequest) => {
    await versionOf(request);
    return [];
  });

  scope.post("/subjects/:subject/versions", async (request: SubjectRequest) => {
    const fields = readObject(request.body);
    const schema = readSchema(fields);
    if (fields.id != null || fields.version != null) {
      throw new ConfluentError(
        422,
        42205,
        "Registering with a given id or version needs IMPORT mode, which is not supported",
      );
    }
    const { version } = await registry.register(request.params.subject, schema);
    return { id: version.id, version: version.version, schemaType: "JSON", schema: version.schema };
  });

  scope.post("/subjects/:subject", async (request: SubjectRequest) => {
    const { subject } = request.params;
    const schema = readSchema(request.body);
    const deleted = isTrue(request.query, "deleted");
    const live = await registry.lookup(subject, schema);
    if (live !== undefined) return toVersionBody(live);
    // Throws subject-not-found (40401) when the subject has no version at all.
    const versions = await registry.versions(subject, { deleted });
    const canonical = canonicalJson(schema);
    const found = deleted ? versions.find((version) => version.schema === canonical) : undefined;
    if (found === undefined) throw schemaNotFound();
    return toVersionBody(found);
  });

  scope.delete("/subjects/:subject", async (request: SubjectRequest) => {
    const { subject } = request.params;
    const permanent = isTrue(request.query, "permanent");
    if (permanent) {
      const versions = await registry.versions(subject, { deleted: true });
      if (versions.some((version) => !version.deleted)) throw notDeletedFirst(40405, `Subject '${subject}'`);
    }
    return registry.deleteSubject(subject, { permanent });
  });

  scope.delete("/subjects/:subject/versions/:version", async (request: VersionRequest) => {
    const { subject } = request.params;
    const version = parseVersion(request.params.version);
    const permanent = isTrue(request.query, "permanent");
    if (permanent) {
      const target = await registry.version(subject, version, { deleted: true });
      if (!target.deleted) throw notDeletedFirst(40407, `Subject '${subject}' Version ${target.version}`);
    }
    return registry.deleteVersion(subject, version, { permanent });
  });
}

function schemaIdRoutes(scope: FastifyInstance, registry: SchemaRegistry): void {
  // `subject` and `format` are accepted and ignored: an id means one JSON schema whatever the subject.
  scope.get("/schemas/ids/:id", async (request: IdRequest) => ({
    schema: await registry.schemaById(parseId(request.params.id)),
    schemaType: "JSON",
  }));

  scope.get("/schemas/ids/:id/schema", (request: IdRequest) =>
    registry.schemaById(parseId(request.params.id)),
  );

  scope.get("/schemas/ids/:id/versions", async (request: IdRequest) => {
    const versions = await registry.versionsOfSchema(parseId(request.params.id), {
      deleted: isTrue(request.query, "deleted"),
    });
    return versions.map((version) => ({ subject: version.subject, version: version.version }));
  });

  scope.get("/schemas/ids/:id/subjects", async (request: IdRequest) => {
    const versions = await registry.versionsOfSchema(parseId(request.params.id), {
      deleted: isTrue(request.query, "deleted"),
    });
    return [...new Set(versions.map((version) => version.subject))];
  });

  scope.get("/schemas/types", async () => ["JSON"]);
}

function compatibilityRoutes(scope: FastifyInstance, registry: SchemaRegistry): void {
  const verdict = (report: Awaited<ReturnType<SchemaRegistry["check"]>>, query: Query) =>
    isTrue(query, "verbose")
      ? {
          is_compatible: report.compatible,
          messages: report.incompatibilities.map((incompatibility) => incompatibility.message),
        }
      : { is_compatible: report.compatible };

  scope.post("/compatibility/subjects/:subject/versions/:version", async (request: VersionRequest) => {
    const { subject } = request.params;
    const version = parseVersion(request.params.version);
    const schema = readSchema(request.body);
    try {
      return verdict(await registry.check(subject, schema, version), request.query);
    } catch (error) {
      // Confluent: any schema is compatible with the latest version of a subject that has none.
      const noSubject =
        error instanceof TributaryError &&
        error.code === "schema-not-found" &&
        error.details?.missing === "subject";
      if (version !== "latest" || !noSubject) throw error;
      return verdict(await registry.check(subject, schema), request.query);
    }
  });

  scope.post("/compatibility/subjects/:subject/versions", async (request: SubjectRequest) =>
    verdict(await registry.check(request.params.subject, readSchema(request.body)), request.query),
  );

  scope.get("/config", async () => ({ compatibilityLevel: await registry.compatibility(null) }));

  scope.put("/config", async (request: FastifyRequest) => {
    const compatibility = parseCompatibility(request.body);
    await registry.setCompatibility(null, compatibility);
    return { compatibility };
  });

  scope.get("/config/:subject", async (request: SubjectRequest) => {
    const { subject } = request.params;
    const own = await registry.ownCompatibility(subject);
    if (own !== undefined) return { compatibilityLevel: own };
    if (isTrue(request.query, "defaultToGlobal")) {
      return { compatibilityLevel: await registry.compatibility(subject) };
    }
    throw noSubjectConfig(subject);
  });

  scope.put("/config/:subject", async (request: SubjectRequest) => {
    const compatibility = parseCompatibility(request.body);
    await registry.setCompatibility(request.params.subject, compatibility);
    return { compatibility };
  });

  scope.delete("/config/:subject", async (request: SubjectRequest) => {
    const { subject } = request.params;
    const previous = await registry.deleteCompatibility(subject);
    if (previous === undefined) throw noSubjectConfig(subject);
    return { compatibilityLevel: previous };
  });

  // Only READWRITE: there is no IMPORT or READONLY mode to switch to.
  scope.get("/mode", async () => ({ mode: "READWRITE" }));
  scope.get("/mode/:subject", async () => ({ mode: "READWRITE" }));
}

/**
 * The Confluent-Schema-Registry-compatible view of the registry under `/schema-registry`
 * (docs/schemas.md), for JSON Schema only, so that Kafka-world clients and serializers work
 * against the bus. Errors are Confluent's `{ error_code, message }` bodies, not problems; bodies
 * are JSON under any of Confluent's content types; every answer is
 * `application/vnd.schemaregistry.v1+json`. A `store-unavailable` failure goes to `outage`, when
 * given, instead of a log line of its own.
 *
 * @example
 * ```ts
 * confluentRegistryRoutes(app, bus); // then GET /schema-registry/subjects
 * ```
 */
export function confluentRegistryRoutes(app: FastifyInstance, bus: Bus, outage?: StoreOutageLog): void {
  app.register(
    async (scope) => {
      installConfluentHandling(scope, outage);
      scope.get("/", async () => ({}));
      subjectRoutes(scope, bus.registry);
      schemaIdRoutes(scope, bus.registry);
      compatibilityRoutes(scope, bus.registry);
    },
    { prefix: "/schema-registry" },
  );
}
