import { limits } from "@tributary/protocol";

/** Printable text: no control characters, no lone surrogates (PostgreSQL's jsonb refuses them). */
const text = (maxLength: number) => ({
  type: "string",
  minLength: 1,
  maxLength,
  pattern: "^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$",
});

/** The largest integer JSON numbers carry exactly; the store's bigint columns hold it too. */
const maxInteger = Number.MAX_SAFE_INTEGER;

export const subscriptionParams = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string", maxLength: 128 } },
} as const;

export const consumerId = { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" } as const;

const startPosition = {
  anyOf: [
    { type: "string", enum: ["earliest", "latest"] },
    {
      type: "object",
      additionalProperties: false,
      required: ["time"],
      properties: { time: { type: "string", format: "date-time" } },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["position"],
      properties: { position: { type: "integer", minimum: 0, maximum: maxInteger } },
    },
  ],
} as const;

export const subscriptionBody = {
  type: "object",
  additionalProperties: false,
  required: ["topic"],
  properties: {
    topic: { type: "string", maxLength: 128 },
    types: {
      anyOf: [
        { type: "array", minItems: 1, maxItems: 100, items: text(limits.maxTypeLength) },
        { type: "null" },
      ],
    },
    start: startPosition,
    delivery: {
      anyOf: [
        {
          type: "object",
          additionalProperties: false,
          required: ["mode"],
          properties: { mode: { const: "pull" } },
        },
        {
          type: "object",
          additionalProperties: false,
          required: ["mode", "url"],
          properties: {
            mode: { const: "push" },
            url: text(2048),
            batchSize: { type: "integer", minimum: 1, maximum: limits.maxReadLimit },
            timeoutMs: { type: "integer", minimum: 100, maximum: 300_000 },
          },
        },
      ],
    },
    maxAttempts: { type: "integer", minimum: 1, maximum: 1000 },
    backoff: {
      type: "object",
      additionalProperties: false,
      properties: {
        initialMs: { type: "integer", minimum: 0, maximum: 86_400_000 },
        maxMs: { type: "integer", minimum: 0, maximum: 86_400_000 },
      },
    },
    onFailure: { type: "string", enum: ["dead-letter", "block"] },
    ackTimeoutMs: { type: "integer", minimum: 100, maximum: 86_400_000 },
    leaseMs: { type: "integer", minimum: 100, maximum: 3_600_000 },
  },
} as const;

export const pollBody = {
  type: "object",
  additionalProperties: false,
  required: ["consumer"],
  properties: {
    consumer: consumerId,
    max: { type: "integer", minimum: 1, maximum: limits.maxReadLimit, default: limits.defaultReadLimit },
    wait: { type: "integer", minimum: 0, maximum: limits.maxWaitMs, default: 0 },
  },
} as const;

const eventIds = {
  type: "array",
  minItems: 1,
  maxItems: limits.maxReadLimit,
  items: text(limits.maxIdLength),
} as const;

export const ackBody = {
  type: "object",
  additionalProperties: false,
  required: ["consumer", "events"],
  properties: { consumer: consumerId, events: eventIds },
} as const;

export const nackBody = {
  type: "object",
  additionalProperties: false,
  required: ["consumer", "events"],
  properties: {
    consumer: consumerId,
    events: eventIds,
    // Any text, line breaks too, but nothing PostgreSQL's jsonb refuses: NUL, lone surrogates.
    error: { type: "string", maxLength: 4096, pattern: "^[^\\u0000\\ud800-\\udfff]*$" },
    retryAfterMs: { type: "integer", minimum: 0, maximum: 86_400_000 },
  },
} as const;

export const consumerBody = {
  type: "object",
  additionalProperties: false,
  required: ["consumer"],
  properties: { consumer: consumerId },
} as const;

export const resetBody = {
  type: "object",
  additionalProperties: false,
  required: ["to"],
  properties: {
    to: {
      anyOf: [
        ...startPosition.anyOf,
        {
          type: "object",
          additionalProperties: false,
          required: ["offsets"],
          properties: {
            offsets: {
              type: "object",
              minProperties: 1,
              maxProperties: limits.maxPartitions,
              additionalProperties: { type: "integer", minimum: 0, maximum: maxInteger },
            },
          },
        },
      ],
    },
  },
} as const;

export const redriveBody = {
  type: "object",
  additionalProperties: false,
  properties: { ids: eventIds },
} as const;

export const deadLetterQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    limit: { type: "integer", minimum: 1, maximum: limits.maxReadLimit, default: limits.defaultReadLimit },
    after: text(limits.maxIdLength),
  },
} as const;
