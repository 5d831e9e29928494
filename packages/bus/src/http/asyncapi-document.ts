import {
  hasControlCharacters,
  isTributaryError,
  limits,
  subjectOf,
  type TopicInfo,
  topicNamePattern,
} from "@tributary/protocol";
import type { Bus } from "../bus.js";
import type { SchemaRegistry } from "../registry/schema-registry.js";

/** Where the bus's HTTP API is reached, as the request for the document named it. */
export interface AsyncApiServer {
  /** `host[:port]`. */
  host: string;
  protocol: string;
}

type Json = Record<string, unknown>;

/** The registered schemas are JSON Schema; those that name a later draft say so in `$schema`. */
const jsonSchemaFormat = "application/schema+json;version=draft-07";

/** Keys of AsyncAPI components and channel messages. */
const componentKeyPattern = /[^\w.-]/g;

const eventEnvelope = {
  type: "object",
  description:
    "The fields of a stored event around its `data` (the message payload). Events read over HTTP " +
    "are JSON objects with these members and `data`; CloudEvents carry them as attributes.",
  required: ["id", "topic", "partition", "offset", "position", "version", "time", "type", "key", "metadata"],
  properties: {
    id: {
      type: "string",
      maxLength: limits.maxIdLength,
      description: "Unique: the producer's (resending it is an idempotent replay), else a UUIDv7.",
    },
    topic: { type: "string", pattern: topicNamePattern.source },
    partition: {
      type: "integer",
      minimum: 0,
      description: "floor(md5(key) × partitions / 2^128); by the hash of the id for an event without a key.",
    },
    offset: { type: "integer", minimum: 0, description: "Contiguous per partition from 0, set on commit." },
    position: { type: "integer", minimum: 0, description: "Store-wide and increasing, set on commit." },
    version: {
      type: ["integer", "null"],
      minimum: 1,
      description: "1, 2, 3… per (topic, key): the entity stream's version; null without a key.",
    },
    time: { type: "string", format: "date-time", description: "Commit time, ISO 8601 UTC." },
    type: { type: "string", minLength: 1, maxLength: limits.maxTypeLength },
    key: {
      type: ["string", "null"],
      maxLength: limits.maxKeyLength,
      description: "The entity and partition key; events of one key keep their order.",
    },
    metadata: {
      type: "object",
      properties: {
        correlationId: { type: "string" },
        causationId: { type: "string" },
        traceparent: { type: "string" },
        source: { type: "string", description: "The producer (CloudEvents `source`)." },
        schemaVersion: { type: "integer", description: "The schema version the data was checked against." },
      },
      additionalProperties: true,
    },
  },
};

/**
 * The event types of a topic that have a subject: subjects are `<topic>-<type>`. Topic names may
 * hold dashes, so `users-audit-Entry` is type `Entry` of `users-audit` and type `audit-Entry` of
 * `users` alike: appends of either are checked against it, and both channels list it.
 */
function typesOf(topic: string, subjects: readonly string[]): string[] {
  const prefix = subjectOf(topic, "");
  return subjects
    .filter((subject) => subject.startsWith(prefix))
    .map((subject) => subject.slice(prefix.length))
    .filter((type) => type.length > 0 && type.length <= limits.maxTypeLength && !hasControlCharacters(type))
    .sort();
}

/** A key made of the allowed characters, with a suffix when it is taken already. */
function uniqueKey(wanted: string, taken: Set<string>): string {
  const base = wanted.replace(componentKeyPattern, "_");
  let key = base;
  for (let suffix = 2; taken.has(key); suffix++) key = `${base}_${suffix}`;
  taken.add(key);
  return key;
}

/** The latest live version of a subject, or none when it was deleted meanwhile. */
async function latestOf(registry: SchemaRegistry, subject: string) {
  try {
    return await registry.version(subject, "latest");
  } catch (error) {
    if (isTributaryError(error) && error.code === "schema-not-found") return undefined;
    throw error;
  }
}

/** Keywords whose values are data, not subschemas: a `$ref` member there is no reference. */
const dataKeywords = new Set(["const", "default", "enum", "examples"]);

/**
 * Points a schema's local `$ref`s (`#/$defs/…`) at where the schema sits in the document: AsyncAPI
 * tools resolve references against the document, not against the embedded schema.
 */
function relocateReferences(schema: unknown, base: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => relocateReferences(item, base));
  if (typeof schema !== "object" || schema === null) return schema;
  const relocated: Json = {};
  for (const [name, value] of Object.entries(schema)) {
    if (name === "$ref" && typeof value === "string" && (value === "#" || value.startsWith("#/"))) {
      relocated[name] = `${base}${value.slice(1)}`;
    } else {
      relocated[name] = dataKeywords.has(name) ? value : relocateReferences(value, base);
    }
  }
  return relocated;
}

function payloadOf(schemaText: string, messageKey: string): Json {
  const schema: unknown = JSON.parse(schemaText);
  // Boolean schemas, as the equivalent objects, which every tool reads.
  const object = schema === true ? {} : schema === false ? { not: {} } : schema;
  return {
    schemaFormat: jsonSchemaFormat,
    schema: relocateReferences(object, `#/components/messages/${messageKey}/payload/schema`),
  };
}

function channelDescription(topic: TopicInfo): string {
  const name = topic.name;
  return [
    `Topic \`${name}\`: ${topic.partitions} partitions, validation \`${topic.validation}\`.`,
    `Appended with \`POST /v1/topics/${name}/events\`; read with`,
    `\`GET /v1/topics/${name}/partitions/{partition}/events\`, \`GET /v1/topics/${name}/keys/{key}/events\`,`,
    `or through a subscription (\`PUT /v1/subscriptions/{name}\` with \`"topic": "${name}"\`, then`,
    "`POST /v1/subscriptions/{name}/poll`, `GET /v1/subscriptions/{name}/stream` or push delivery).",
    topic.validation === "required"
      ? "Only the event types listed here can be appended."
      : "Event types without a registered schema may be appended too, with any JSON data.",
  ].join(" ");
}

/**
 * The AsyncAPI 3.0 document of the bus as it is now: a channel per topic (its address is the topic
 * name), a message per event type with a registered schema (the latest version, as the message
 * payload), and per channel a `send` operation (append) and a `receive` one (reads and
 * subscriptions). The envelope fields every event has are described once, as a message trait.
 * Topics come in name order, their messages in type order; with no topics the document has none.
 *
 * @example
 * ```ts
 * const document = await createAsyncApiDocument(bus, {
 *   version: "0.1.0",
 *   server: { host: "localhost:4700", protocol: "http" },
 * });
 * ```
 */
export async function createAsyncApiDocument(
  bus: Pick<Bus, "listTopics" | "registry">,
  options: { version: string; server: AsyncApiServer },
): Promise<Json> {
  const [topics, subjects] = await Promise.all([bus.listTopics(), bus.registry.subjects()]);
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  const messageKeys = new Set<string>();

  for (const topic of [...topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const channelMessages: Json = {};
    const channelKeys = new Set<string>();
    for (const type of typesOf(topic.name, subjects)) {
      const subject = subjectOf(topic.name, type);
      const latest = await latestOf(bus.registry, subject);
      if (latest === undefined) continue;
      const channelKey = uniqueKey(type, channelKeys);
      const messageKey = uniqueKey(`${topic.name}.${channelKey}`, messageKeys);
      messages[messageKey] = {
        name: type,
        title: type,
        description: `The data of \`${type}\` events of topic \`${topic.name}\`, as subject \`${subject}\` describes it in its latest version, ${latest.version} (schema id ${latest.id}).`,
        contentType: "application/json",
        payload: payloadOf(latest.schema, messageKey),
        traits: [{ $ref: "#/components/messageTraits/event" }],
      };
      channelMessages[channelKey] = { $ref: `#/components/messages/${messageKey}` };
    }

    const channel = `#/channels/${topic.name}`;
    const channelMessageReferences = Object.keys(channelMessages).map((key) => ({
      $ref: `${channel}/messages/${key}`,
    }));
    channels[topic.name] = {
      address: topic.name,
      title: topic.name,
      description: channelDescription(topic),
      messages: channelMessages,
    };
    operations[`${topic.name}.send`] = {
      action: "send",
      channel: { $ref: channel },
      summary: `Append events to ${topic.name}`,
      description: `\`POST /v1/topics/${topic.name}/events\`: one event, \`{ "events": [...] }\` or CloudEvents; answered after commit.`,
      messages: channelMessageReferences,
    };
    operations[`${topic.name}.receive`] = {
      action: "receive",
      channel: { $ref: channel },
      summary: `Read or subscribe to ${topic.name}`,
      description:
        "Partition and entity reads, or a subscription (consumer group): pull (`poll`, `ack`, `nack`), " +
        "Server-Sent Events (`stream`) or push to a webhook. At least once, in order per partition.",
      messages: channelMessageReferences,
    };
  }

  return {
    asyncapi: "3.0.0",
    info: {
      title: "Tributary events",
      version: options.version,
      description:
        "The topics of this bus and the registered schemas of their event types, as of this request. " +
        "The HTTP routes are described by /openapi.json.",
    },
    defaultContentType: "application/json",
    servers: {
      http: {
        host: options.server.host,
        protocol: options.server.protocol,
        description: "The bus's HTTP API.",
        security: [{ $ref: "#/components/securitySchemes/apiKey" }],
      },
    },
    channels,
    operations,
    components: {
      schemas: { EventEnvelope: eventEnvelope },
      messages,
      messageTraits: {
        event: {
          headers: { $ref: "#/components/schemas/EventEnvelope" },
          correlationId: {
            description: "The event's `metadata.correlationId`.",
            location: "$message.header#/metadata/correlationId",
          },
        },
      },
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key, needed once any key exists; a bus without keys is open.",
        },
      },
    },
  };
}
