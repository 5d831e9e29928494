/** An entry of the error catalogue: every error the API can answer with. */
export interface ErrorDefinition {
  status: number;
  title: string;
  /** Whether the same request may succeed if sent again later. */
  retriable: boolean;
  /** When it happens, for the docs. */
  description: string;
}

/**
 * The error catalogue: stable codes, their HTTP status and title. Problem responses carry
 * `type: "urn:tributary:problem:<code>"` and `code: "<code>"`. `docs/errors.md` documents each
 * code; a test keeps the two in step.
 */
export const errorCatalogue = {
  "malformed-request": {
    status: 400,
    title: "Malformed request",
    retriable: false,
    description: "The body is not valid JSON or a required header is wrong.",
  },
  "invalid-request": {
    status: 400,
    title: "Invalid request",
    retriable: false,
    description:
      "A field has the wrong type or value: an event without a type, a negative limit, a bad cursor. `details.errors` lists each problem with its JSON pointer.",
  },
  "invalid-topic-name": {
    status: 400,
    title: "Invalid topic name",
    retriable: false,
    description: "Topic names match `[a-z0-9][a-z0-9._-]{0,127}`.",
  },
  unauthorized: {
    status: 401,
    title: "Unauthorized",
    retriable: false,
    description:
      "The bus requires an API key (`Authorization: Bearer <key>`) and the request has none, or its key is unknown or revoked.",
  },
  forbidden: {
    status: 403,
    title: "Forbidden",
    retriable: false,
    description:
      "The API key is valid but its principal lacks the right the route needs (`produce` or `consume` on the topic or subscription, or `admin`). `details.needs` names it.",
  },
  "topic-not-found": {
    status: 404,
    title: "Topic not found",
    retriable: false,
    description:
      "The topic does not exist (appends create it, unless the server runs with `--no-auto-create`).",
  },
  "partition-not-found": {
    status: 404,
    title: "Partition not found",
    retriable: false,
    description: "The partition number is not below the topic's partition count.",
  },
  "event-not-found": {
    status: 404,
    title: "Event not found",
    retriable: false,
    description: "No event has that id.",
  },
  "subscription-not-found": {
    status: 404,
    title: "Subscription not found",
    retriable: false,
    description: "No subscription has that name.",
  },
  "dead-letter-not-found": {
    status: 404,
    title: "Dead letter not found",
    retriable: false,
    description: "The subscription has no dead letter with that event id.",
  },
  "schema-not-found": {
    status: 404,
    title: "Schema not found",
    retriable: false,
    description: "No schema is registered under that subject, version or id (or it was deleted).",
  },
  "key-not-found": {
    status: 404,
    title: "API key not found",
    retriable: false,
    description: "No API key has that id, or it was revoked already.",
  },
  "route-not-found": {
    status: 404,
    title: "Route not found",
    retriable: false,
    description: "No route matches the method and path.",
  },
  "request-timeout": {
    status: 408,
    title: "Request timeout",
    retriable: true,
    description:
      "The client sent its request line and headers, or its whole request, too slowly (10 s and 30 s by default); the connection is closed.",
  },
  "version-conflict": {
    status: 409,
    title: "Version conflict",
    retriable: false,
    description:
      "An event's `expectedVersion` does not match the entity stream's current version; nothing of the request was stored. `details` gives the key, the expected and the actual version.",
  },
  "id-conflict": {
    status: 409,
    title: "Event id reused with different content",
    retriable: false,
    description:
      "An event id is already stored with another topic, type, key, data or metadata; nothing of the request was stored.",
  },
  "topic-conflict": {
    status: 409,
    title: "Topic exists with other settings",
    retriable: false,
    description:
      "`PUT /v1/topics/{topic}` asked for a partition count other than the existing topic's (partition counts never change, so keys keep their partition).",
  },
  "subscription-conflict": {
    status: 409,
    title: "Subscription exists with another topic or start",
    retriable: false,
    description:
      "`PUT /v1/subscriptions/{name}` named another topic or start position than the existing subscription's; use `reset` to move it, or another name.",
  },
  "delivery-not-held": {
    status: 409,
    title: "Delivery not held by this consumer",
    retriable: false,
    description:
      "An ack or nack named an event that is not in flight to that consumer: never delivered, already acknowledged, reset away, or its partition moved to another consumer instance. Nothing of the request changed; `details.ids` lists the events.",
  },
  "schema-incompatible": {
    status: 409,
    title: "Schema incompatible",
    retriable: false,
    description:
      "The schema breaks the subject's compatibility mode. `details.incompatibilities` says what breaks, where in the schema (a JSON pointer), and against which version. Nothing was registered.",
  },
  "payload-too-large": {
    status: 413,
    title: "Payload too large",
    retriable: false,
    description: "One event over 1 MiB, a request over 10 MiB or with more than 1000 events.",
  },
  "unsupported-media-type": {
    status: 415,
    title: "Unsupported media type",
    retriable: false,
    description:
      "Bodies are `application/json`, `application/cloudevents+json`, `application/cloudevents-batch+json`, or CloudEvents binary mode (`ce-*` headers).",
  },
  "invalid-schema": {
    status: 422,
    title: "Invalid schema",
    retriable: false,
    description:
      "The schema is not a JSON Schema the registry can compile: not an object or boolean, an unknown keyword value, or a `$ref` outside the document.",
  },
  "schema-violation": {
    status: 422,
    title: "Schema violation",
    retriable: false,
    description:
      "An event's `data` does not match the registered schema of its type. `details.errors` lists each failure with its JSON pointer into the request, and `details.schemaVersion` the version checked. Nothing of the request was stored.",
  },
  "schema-required": {
    status: 422,
    title: "Schema required",
    retriable: false,
    description:
      "The topic's validation policy is `required` and no schema is registered for the event's type. Nothing of the request was stored.",
  },
  "rate-limited": {
    status: 429,
    title: "Rate limited",
    retriable: true,
    description:
      "The principal is over its append rate (events or bytes per second), or the client address is over its budget of failed authentications (unknown, revoked or malformed keys). Nothing was stored; retry after the `Retry-After` seconds.",
  },
  "headers-too-large": {
    status: 431,
    title: "Request headers too large",
    retriable: false,
    description: "The request line and headers together are over 16 KiB; the connection is closed.",
  },
  "store-unavailable": {
    status: 503,
    title: "Store unavailable",
    retriable: true,
    description:
      "The database cannot be reached or is shutting down; nothing was stored. Retry after the `Retry-After` seconds.",
  },
  internal: {
    status: 500,
    title: "Internal error",
    retriable: true,
    description: "An unexpected failure; the response leaks no detail, the server log has it.",
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorCatalogue;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(errorCatalogue, code);
}

export const problemTypePrefix = "urn:tributary:problem:";

export interface TributaryErrorOptions {
  /** Overrides the catalogue's title-derived message. */
  message?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The one error class of Tributary, on the server and in the SDK. */
export class TributaryError extends Error {
  override readonly name = "TributaryError";
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, options: TributaryErrorOptions = {}) {
    const definition = errorCatalogue[code];
    super(options.message ?? definition.title, { cause: options.cause });
    this.code = code;
    this.status = definition.status;
    this.retriable = definition.retriable;
    this.details = options.details;
  }
}

export function isTributaryError(error: unknown): error is TributaryError {
  return error instanceof TributaryError;
}

function hasCode(error: unknown, code: ErrorCode): error is TributaryError {
  return error instanceof TributaryError && error.code === code;
}

export const isVersionConflict = (error: unknown) => hasCode(error, "version-conflict");
export const isIdConflict = (error: unknown) => hasCode(error, "id-conflict");
export const isStoreUnavailable = (error: unknown) => hasCode(error, "store-unavailable");
export const isDeliveryNotHeld = (error: unknown) => hasCode(error, "delivery-not-held");
export const isNotFound = (error: unknown): error is TributaryError =>
  error instanceof TributaryError && error.status === 404;
