import type { EventInput, EventMetadata, StoredEvent } from "./event.js";

/** A CloudEvents 1.0 event in its JSON (structured) form. */
export interface CloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  data_base64?: string;
  [extension: string]: unknown;
}

export const cloudEventsContentType = "application/cloudevents+json";
export const cloudEventsBatchContentType = "application/cloudevents-batch+json";

/** CloudEvents extension attribute ↔ Tributary metadata field, for the well-known ones. */
const metadataExtensions: Record<string, keyof EventMetadata> = {
  correlationid: "correlationId",
  causationid: "causationId",
  traceparent: "traceparent",
  tracestate: "tracestate",
  schemaversion: "schemaVersion",
};

/** Attributes Tributary assigns on commit; a producer cannot set them. */
const assignedExtensions = new Set(["topic", "partition", "offset", "position", "version"]);

const contextAttributes = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "data",
  "data_base64",
]);

/** Why a CloudEvent could not be mapped, with the JSON pointer of the offending attribute. */
export interface CloudEventIssue {
  pointer: string;
  message: string;
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return mediaType === "application/json" || mediaType.endsWith("+json") || mediaType === "text/json";
}

/**
 * Maps a structured-mode CloudEvent onto an event input: `id`→`id`, `type`→`type`,
 * `source`→`metadata.source`, `subject`→`key`, `data`→`data`, the producer's `time` →
 * `metadata.occurredAt`, well-known extensions (`correlationid`, `causationid`, `traceparent`…)
 * to their metadata fields and every other extension to `metadata[name]`. Returns the issues
 * instead when required attributes are missing or wrong.
 */
export function fromCloudEvent(
  value: unknown,
  pointer = "",
): { input: EventInput; issues: [] } | { input?: undefined; issues: CloudEventIssue[] } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { issues: [{ pointer, message: "a CloudEvent must be a JSON object" }] };
  }
  const event = value as Record<string, unknown>;
  const issues: CloudEventIssue[] = [];
  if (event.specversion !== "1.0") {
    issues.push({ pointer: `${pointer}/specversion`, message: 'specversion must be "1.0"' });
  }
  for (const name of ["id", "source", "type"] as const) {
    if (typeof event[name] !== "string" || event[name] === "") {
      issues.push({ pointer: `${pointer}/${name}`, message: `${name} must be a non-empty string` });
    }
  }
  for (const name of ["subject", "time", "datacontenttype", "dataschema", "data_base64"] as const) {
    if (event[name] !== undefined && typeof event[name] !== "string") {
      issues.push({ pointer: `${pointer}/${name}`, message: `${name} must be a string` });
    }
  }
  for (const name of Object.keys(event)) {
    if (assignedExtensions.has(name)) {
      issues.push({ pointer: `${pointer}/${name}`, message: `${name} is assigned by the bus on commit` });
    }
  }
  if (issues.length > 0) return { issues };

  const metadata: EventMetadata = { source: event.source as string };
  if (typeof event.time === "string") metadata.occurredAt = event.time;
  if (typeof event.dataschema === "string") metadata.dataschema = event.dataschema;
  for (const [name, attribute] of Object.entries(event)) {
    if (contextAttributes.has(name)) continue;
    metadata[metadataExtensions[name] ?? name] = attribute;
  }
  const contentType = event.datacontenttype as string | undefined;
  if (contentType !== undefined && !isJsonContentType(contentType)) metadata.datacontenttype = contentType;
  let data: unknown = event.data;
  if (typeof event.data_base64 === "string") {
    data = event.data_base64;
    metadata.dataEncoding = "base64";
    if (contentType !== undefined) metadata.datacontenttype = contentType;
  }
  const input: EventInput = { id: event.id as string, type: event.type as string, data, metadata };
  if (typeof event.subject === "string") input.key = event.subject;
  return { input, issues: [] };
}

/**
 * Reads a binary-mode CloudEvent: context attributes from `ce-*` headers (lower-cased names),
 * the body as data. JSON bodies are parsed by the caller and passed as `data`.
 */
export function fromBinaryCloudEvent(
  headers: Record<string, string | string[] | undefined>,
  data: unknown,
  contentType: string | undefined,
): ReturnType<typeof fromCloudEvent> {
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith("ce-") || value === undefined) continue;
    const attribute = lower.slice(3);
    const text = Array.isArray(value) ? value.join(",") : value;
    event[attribute] = decodeHeaderValue(text);
  }
  if (contentType !== undefined) event.datacontenttype = contentType;
  if (data !== undefined) event.data = data;
  return fromCloudEvent(event);
}

/** Binary-mode header values are percent-encoded where they are not printable ASCII. */
function decodeHeaderValue(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A stored event as a structured-mode CloudEvent: `key`→`subject`, `metadata.source`→`source`
 * (or `/topics/{topic}` when the producer gave none), the commit coordinates as the extensions
 * `topic`, `partition`, `offset`, `position` and `version`.
 */
export function toCloudEvent(event: StoredEvent): CloudEvent {
  const {
    source,
    occurredAt: _occurredAt,
    dataschema,
    datacontenttype,
    dataEncoding,
    ...rest
  } = event.metadata;
  const cloudEvent: CloudEvent = {
    specversion: "1.0",
    id: event.id,
    source: typeof source === "string" ? source : `/topics/${event.topic}`,
    type: event.type,
    time: event.time,
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
    position: event.position,
  };
  if (event.key !== null) cloudEvent.subject = event.key;
  if (event.version !== null) cloudEvent.version = event.version;
  if (typeof dataschema === "string") cloudEvent.dataschema = dataschema;
  const reverse = Object.fromEntries(Object.entries(metadataExtensions).map(([a, b]) => [b, a]));
  for (const [field, value] of Object.entries(rest)) {
    const name = reverse[field] ?? field.toLowerCase().replace(/[^a-z0-9]/g, "");
    if (name && !(name in cloudEvent)) cloudEvent[name] = value;
  }
  if (dataEncoding === "base64" && typeof event.data === "string") {
    cloudEvent.data_base64 = event.data;
    if (typeof datacontenttype === "string") cloudEvent.datacontenttype = datacontenttype;
  } else {
    cloudEvent.datacontenttype = typeof datacontenttype === "string" ? datacontenttype : "application/json";
    if (event.data !== undefined) cloudEvent.data = event.data;
  }
  return cloudEvent;
}
