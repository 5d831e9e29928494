/** Limits of the append contract (DESIGN.md, HTTP API). */
export const limits = {
  /** One event, serialized as JSON. */
  maxEventBytes: 1024 * 1024,
  /** One request body. */
  maxRequestBytes: 10 * 1024 * 1024,
  maxEventsPerRequest: 1000,
  defaultPartitions: 4,
  maxPartitions: 1024,
  maxTypeLength: 256,
  maxKeyLength: 1024,
  maxIdLength: 256,
  maxReadLimit: 1000,
  defaultReadLimit: 100,
  /** Deepest nesting of objects and arrays in `data` and `metadata`. */
  maxJsonDepth: 64,
  /** Longest long-poll `wait`, in milliseconds. */
  maxWaitMs: 60_000,
} as const;

/** `[a-z0-9][a-z0-9._-]{0,127}` — safe in URLs, file names and NATS subjects. */
export const topicNamePattern = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export function isValidTopicName(name: string): boolean {
  return topicNamePattern.test(name);
}

/** Control characters (C0, DEL, C1) are refused in ids, types and keys. */
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlCharacters(value: string): boolean {
  return controlCharacters.test(value);
}
