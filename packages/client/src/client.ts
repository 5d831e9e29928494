import {
  type EventCoordinates,
  type EventInput,
  fromProblem,
  type KeyPage,
  type PartitionPage,
  type QueryPage,
  type StoredEvent,
  type TopicInfo,
  type TopicSettings,
  TributaryError,
} from "@tributary/protocol";
import { v7 as uuidv7 } from "uuid";
import { type Consumer, type EventHandler, type SubscribeOptions, subscribe } from "./consumer.js";
import type { ConsumeOptions } from "./consumer-options.js";
import { consume, type MessageStream } from "./message-stream.js";
import { createSubscriptionCalls, type SubscriptionCalls } from "./subscription-calls.js";
import { createFetchTransport, createNodeTransport } from "./transport.js";

export interface ClientOptions {
  /** Base URL of the bus, e.g. `http://127.0.0.1:4700`. */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /**
   * How often a retriable failure (503, a refused or reset connection) is retried, with exponential
   * backoff that honours `Retry-After`. Appends are safe to retry: the client gives every event an
   * id before the first attempt, so a retry of a request that did commit is an idempotent replay.
   * Default 3.
   */
  retries?: number;
  /** Milliseconds before a request is abandoned (long-polls add their `wait`). Default 30,000. */
  timeoutMs?: number;
  /**
   * A fetch implementation to send requests with (a proxy's, a test's). By default the client uses
   * `node:http`/`node:https` with keep-alive connections, which costs far less CPU per request.
   */
  fetch?: typeof fetch;
}

export interface AppendResult {
  events: EventCoordinates[];
  /** Every event was already stored (HTTP 200): this call committed nothing new. */
  replayed: boolean;
}

export interface ReadPartitionOptions {
  /** Offset to start at (default 0). */
  from?: number;
  limit?: number;
  /** Long-poll: wait up to this many milliseconds for an event if none is there yet. */
  wait?: number;
  signal?: AbortSignal;
}

export interface ReadKeyOptions {
  fromVersion?: number;
  /** The entity's history up to this time. */
  asOf?: Date | string;
  limit?: number;
}

export interface QueryOptions {
  topic?: string;
  type?: string;
  key?: string;
  correlationId?: string;
  from?: Date | string;
  to?: Date | string;
  /** Cursor from a previous page's `next`. */
  after?: string;
  /** `asc` (oldest first, default) or `desc`. */
  order?: "asc" | "desc";
  limit?: number;
}

export interface TributaryClient extends SubscriptionCalls {
  /**
   * Appends one event or a batch (atomic: all commit or none) to a topic. Resolves after the bus
   * committed them. Throws `TributaryError` (`version-conflict`, `id-conflict`, `payload-too-large`…).
   */
  append(topic: string, events: EventInput | EventInput[]): Promise<AppendResult>;
  putTopic(topic: string, settings?: TopicSettings): Promise<TopicInfo>;
  getTopic(topic: string): Promise<TopicInfo>;
  listTopics(): Promise<TopicInfo[]>;
  /** Events of one partition in offset order; `next` is the offset to read from next. */
  readPartition(topic: string, partition: number, options?: ReadPartitionOptions): Promise<PartitionPage>;
  /**
   * One page of the entity stream of a key in version order (within `limit` and the bus's batch
   * budget of bytes); read on from `next` until it is `null` for the rest.
   */
  readKey(topic: string, key: string, options?: ReadKeyOptions): Promise<KeyPage>;
  /** One page of the cross-topic query (within `limit` and the bus's batch budget of bytes). */
  query(options?: QueryOptions): Promise<QueryPage>;
  /** Every event the query matches, fetching page after page from each page's `next`. */
  queryAll(options?: Omit<QueryOptions, "after">): AsyncIterable<StoredEvent>;
  getEvent(id: string): Promise<StoredEvent>;
  /**
   * Starts a consumer instance of the subscription `name` (created or updated from `options` unless
   * `ensure: false`) that hands every event to `handler`: one at a time and in offset order within a
   * partition, partitions in parallel. An event is acked when the handler resolves and nacked when it
   * throws; then the rest of its partition's batch waits and comes back with it. Delivery is at least
   * once: wrap the handler with `idempotent` for effects that must happen once. Resolves once the
   * subscription is ensured; the loop then runs until `stop()`, riding out transient failures.
   *
   * @example
   * const consumer = await client.subscribe("welcome-emails", { topic: "users", types: ["UserRegistered"] },
   *   async (event) => sendWelcomeEmail(event.data),
   * );
   * process.once("SIGTERM", () => consumer.stop());
   */
  subscribe(name: string, options: SubscribeOptions, handler: EventHandler): Promise<Consumer>;
  /**
   * The pull consumer as an async iterable of messages, each settled by `ack()` or `nack()`. The
   * iteration ensures the subscription first (unless `ensure: false`).
   *
   * @example
   * const messages = client.consume("audit", { topic: "users", start: "earliest" });
   * for await (const message of messages) {
   *   await audit(message.event);
   *   await message.ack();
   * }
   */
  consume(name: string, options: ConsumeOptions): MessageStream;
}

interface RequestSpec {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  extraTimeoutMs?: number;
}

const retriableNetworkCodes = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);

function isRetriableNetworkError(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code !== undefined && retriableNetworkCodes.has(cause.code);
}

function toIso(value: Date | string | undefined): string | undefined {
  return value instanceof Date ? value.toISOString() : value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The SDK for services.
 *
 * @example
 * const client = createClient({ url: "http://127.0.0.1:4700" });
 * await client.append("users", { type: "UserCreated", key: "user-1", data: { name: "Ada" } });
 * const { events } = await client.readKey("users", "user-1");
 */
export function createClient(options: ClientOptions): TributaryClient {
  const base = options.url.replace(/\/+$/, "");
  const retries = options.retries ?? 3;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const transport = options.fetch === undefined ? createNodeTransport() : createFetchTransport(options.fetch);

  async function once(spec: RequestSpec): Promise<{ status: number; body: unknown }> {
    const url = new URL(`${base}${spec.path}`);
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
    const response = await transport({
      method: spec.method,
      url,
      headers,
      body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
      timeoutMs: timeoutMs + (spec.extraTimeoutMs ?? 0),
      ...(spec.signal === undefined ? {} : { signal: spec.signal }),
    });
    const text = response.text;
    let body: unknown = text;
    try {
      body = text === "" ? undefined : JSON.parse(text);
    } catch {
      // Not JSON (a proxy's error page, say): kept as text for the error message.
    }
    if (response.status < 200 || response.status > 299) {
      const error = fromProblem(response.status, body);
      const retryAfter = Number(response.header("retry-after"));
      throw Object.assign(error, {
        retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      });
    }
    return { status: response.status, body };
  }

  async function request(spec: RequestSpec): Promise<{ status: number; body: unknown }> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await once(spec);
      } catch (error) {
        const isRetriable =
          (error instanceof TributaryError && error.retriable) || isRetriableNetworkError(error);
        if (!isRetriable || attempt >= retries || spec.signal?.aborted) throw error;
        const hinted = (error as { retryAfterMs?: number }).retryAfterMs;
        const backoff = Math.min(100 * 2 ** attempt, 5_000) * (0.5 + Math.random() / 2);
        await sleep(hinted ?? backoff);
      }
    }
  }

  async function call<T>(spec: RequestSpec): Promise<T> {
    return (await request(spec)).body as T;
  }

  const encode = encodeURIComponent;

  const client: TributaryClient = {
    ...createSubscriptionCalls(call),
    subscribe: (name, subscribeOptions, handler) => subscribe(client, name, subscribeOptions, handler),
    consume: (name, consumeOptions) => consume(client, name, consumeOptions),

    async append(topic, events) {
      const list = (Array.isArray(events) ? events : [events]).map((event) =>
        event.id === undefined ? { ...event, id: uuidv7() } : event,
      );
      const { status, body } = await request({
        method: "POST",
        path: `/v1/topics/${encode(topic)}/events`,
        body: Array.isArray(events) ? { events: list } : list[0],
      });
      return { events: (body as { events: EventCoordinates[] }).events, replayed: status === 200 };
    },

    async putTopic(topic, settings = {}) {
      return call<TopicInfo>({ method: "PUT", path: `/v1/topics/${encode(topic)}`, body: settings });
    },

    getTopic: (topic) => call<TopicInfo>({ method: "GET", path: `/v1/topics/${encode(topic)}` }),

    async listTopics() {
      const body = await call<{ topics: TopicInfo[] }>({ method: "GET", path: "/v1/topics" });
      return body.topics;
    },

    readPartition(topic, partition, { from, limit, wait, signal } = {}) {
      return call<PartitionPage>({
        method: "GET",
        path: `/v1/topics/${encode(topic)}/partitions/${partition}/events`,
        query: { from, limit, wait },
        extraTimeoutMs: wait ?? 0,
        ...(signal === undefined ? {} : { signal }),
      });
    },

    readKey(topic, key, { fromVersion, asOf, limit } = {}) {
      return call<KeyPage>({
        method: "GET",
        path: `/v1/topics/${encode(topic)}/keys/${encode(key)}/events`,
        query: { fromVersion, asOf: toIso(asOf), limit },
      });
    },

    query(query = {}) {
      return call<QueryPage>({
        method: "GET",
        path: "/v1/events",
        query: { ...query, from: toIso(query.from), to: toIso(query.to) },
      });
    },

    async *queryAll(query = {}) {
      let after: string | undefined;
      do {
        const page = await client.query({ ...query, ...(after === undefined ? {} : { after }) });
        yield* page.events;
        after = page.next ?? undefined;
      } while (after !== undefined);
    },

    getEvent: (id) => call<StoredEvent>({ method: "GET", path: `/v1/events/${encode(id)}` }),
  };
  return client;
}
