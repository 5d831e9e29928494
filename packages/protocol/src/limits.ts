/** Limits of the append contract (docs/http-api.md, the event and limits). */
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
  /**
   * Deepest nesting of objects and arrays in any JSON request body, refused with a 400 before a
   * route reads it: room for a batch (`{ events: [{ data }] }`) whose data nests `maxJsonDepth` deep.
   */
  maxBodyJsonDepth: 128,
  /** Most parameters in one query string (repeats count); no route takes more than ten. */
  maxQueryParameters: 64,
  /** Longest request line and headers together, in bytes (Node's `maxHeaderSize`); longer is a 431. */
  maxHeaderBytes: 16 * 1024,
  /** Time for a client to send the request line and headers, in milliseconds; slower is a 408. */
  headersTimeoutMs: 10_000,
  /**
   * Time for a client to send a whole request, headers and body, in milliseconds; slower is a 408.
   * It ends once the body is in: long-polls and event streams may answer for longer.
   */
  requestTimeoutMs: 30_000,
  /**
   * Idle time after an answer before a keep-alive connection is closed, in milliseconds: longer
   * than the 60 s idle timeout of common load balancers, so that they close first.
   */
  keepAliveTimeoutMs: 72_000,
  /**
   * Time a connection may pass with no byte in either direction, in milliseconds (a client that
   * stops reading its answer): twice the longest `wait`; event streams send a comment every 15 s.
   */
  connectionTimeoutMs: 120_000,
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
