import {
  type EventCoordinates,
  isValidTopicName,
  type KeyPage,
  limits,
  type PartitionPage,
  type QueryPage,
  type StoredEvent,
  type SubscriptionInfo,
  type TopicInfo,
  type TopicSettings,
  TributaryError,
} from "@tributary/protocol";
import { GroupCommitter } from "./append/group-commit.js";
import { prepareEvent } from "./append/prepare-event.js";
import { validateEvents } from "./append/validate-events.js";
import { type Authenticator, type AuthenticatorOptions, createAuthenticator } from "./auth/authenticator.js";
import { decodeCursor, encodeCursor } from "./read/query-cursor.js";
import { Wakeups } from "./read/wakeups.js";
import { createEventValidation } from "./registry/event-validation.js";
import { createSchemaRegistry, type SchemaRegistry } from "./registry/schema-registry.js";
import type { EventStore, PreparedEvent } from "./store/event-store.js";
import { runAfterCommit } from "./store/store-observer.js";
import {
  createSubscriptions,
  type DeliveryObserver,
  defaultBatchBytes,
  type Subscriptions,
  type SubscriptionsOptions,
} from "./subscriptions/subscription-service.js";

export interface BusOptions {
  store: EventStore;
  /** Appending to an unknown topic creates it (default true). */
  autoCreateTopics?: boolean;
  /** Partition count of auto-created topics and of `PUT` without `partitions` (default 4). */
  defaultPartitions?: number;
  /** Events in one group-commit transaction at most (default 10,000). */
  maxGroupEvents?: number;
  /** How API keys are cached and failed authentications limited (defaults: `createAuthenticator`). */
  auth?: Omit<AuthenticatorOptions, "store">;
  /**
   * Bytes of event JSON in one batch of events read at most (default 4 MiB), besides its count: a
   * partition read, a page of an entity stream or a query, a poll response, a push POST, a batch of
   * the event stream. The first event of a batch is in it whatever its size (an event is at most
   * `limits.maxEventBytes`).
   */
  batchBytes?: number;
  /** Bytes of recently delivered events kept in memory for the subscriptions (default 64 MiB). */
  eventCacheBytes?: number;
  /**
   * Told about appends and group commits (metrics), after they committed: what it throws is logged
   * and the append is still answered as committed.
   */
  appendObserver?: AppendObserver;
  /** Told about deliveries and dead letters (metrics). */
  deliveryObserver?: DeliveryObserver;
  /** The push breaker states of this process, for subscription status. */
  breakerStatus?: SubscriptionsOptions["breakerStatus"];
  /**
   * Hears each subscription this bus stores by `PUT` (with its definition) or deletes (`undefined`),
   * after the store has it: push delivery starts a new push subscription without waiting to find it.
   */
  subscriptionChanged?: (name: string, subscription: SubscriptionInfo | undefined) => void;
  /** Where the bus logs what an observer threw after a commit (a pino or Fastify logger fits). */
  log?: BusLog;
}

/** The bus's log of failures it works around. */
export interface BusLog {
  error(details: object, message: string): void;
}

/** Counters of the append path (Prometheus metrics hang off them). */
export interface AppendObserver {
  groupCommitted(seconds: number, commands: number, events: number): void;
  /** An append request's outcome: `replayed` when nothing new was stored. */
  appended(topic: string, events: number, replayed: boolean): void;
}

export interface AppendResult {
  events: EventCoordinates[];
  /** Every event was already stored: nothing new was committed. */
  replayed: boolean;
}

export interface ReadPartitionOptions {
  from: number;
  limit: number;
  /** Long-poll: wait up to this many milliseconds for an event when none is there yet. */
  waitMs: number;
}

export interface ReadKeyRequest {
  fromVersion: number;
  asOf?: Date;
  limit: number;
}

export interface QueryRequest {
  topic?: string;
  type?: string;
  key?: string;
  correlationId?: string;
  from?: Date;
  to?: Date;
  after?: string;
  order: "asc" | "desc";
  limit: number;
}

/** The bus core: what the HTTP layer (and any other front) calls. Knows no HTTP and no SQL. */
export interface Bus {
  readonly store: EventStore;
  /** The byte budget of one batch of events read (`BusOptions.batchBytes`). */
  readonly batchBytes: number;
  /** Consumer groups over the topics of this bus. */
  readonly subscriptions: Subscriptions;
  /** The schema registry; appends are validated against it as each topic's policy says. */
  readonly registry: SchemaRegistry;
  /** API keys and principals. */
  readonly auth: Authenticator;
  /** Validates, prepares and group-commits one request's events (atomic). */
  append(topic: string, inputs: unknown[], pointer?: (index: number) => string): Promise<AppendResult>;
  putTopic(name: string, settings: TopicSettings): Promise<{ topic: TopicInfo; created: boolean }>;
  getTopic(name: string): Promise<TopicInfo>;
  listTopics(): Promise<TopicInfo[]>;
  /**
   * Events of a partition from `from`: at most `limit`, and no more than `batchBytes` of payload
   * (the first event whatever its size); `next` is the offset to read on from.
   */
  readPartition(topic: string, partition: number, options: ReadPartitionOptions): Promise<PartitionPage>;
  /**
   * The entity stream of (topic, key) from `fromVersion`: at most `limit` events, and no more than
   * `batchBytes` of payload (the first event whatever its size). `next` is the version to read on
   * from when the page is full or cut by bytes, `null` when it ends at the last matching event.
   */
  readKey(topic: string, key: string, request: ReadKeyRequest): Promise<KeyPage>;
  /**
   * A page of the cross-topic query: at most `limit` events, and no more than `batchBytes` of
   * payload (the first event whatever its size). `next` is the cursor right after the page's last
   * event when the page is full or cut by bytes, `null` when it ends at the last matching event.
   */
  query(request: QueryRequest): Promise<QueryPage>;
  getEvent(id: string): Promise<StoredEvent>;
  /** Ends every long-poll now (it answers with what it has); later reads do not wait. */
  endWaits(): void;
  /** Ends long-polls, commits what was already submitted, then closes the store. Idempotent. */
  close(): Promise<void>;
}

export function assertTopicName(name: string): void {
  if (!isValidTopicName(name)) {
    throw new TributaryError("invalid-topic-name", {
      message: "topic names match [a-z0-9][a-z0-9._-]{0,127}",
      details: { topic: name.slice(0, 200) },
    });
  }
}

function eventBytes(event: PreparedEvent): number {
  return (
    Buffer.byteLength(event.dataJson) +
    Buffer.byteLength(event.metadataJson) +
    Buffer.byteLength(event.type) +
    Buffer.byteLength(event.id) +
    (event.key === null ? 0 : Buffer.byteLength(event.key))
  );
}

/**
 * Creates the bus core over a migrated store.
 *
 * @example
 * const store = createSqliteStore({ path: "./data/tributary.db" });
 * await store.migrate();
 * const bus = createBus({ store });
 * await bus.append("users", [{ type: "UserCreated", key: "user-1", data: { name: "Ada" } }]);
 */
export function createBus(options: BusOptions): Bus {
  const { store } = options;
  const autoCreate = options.autoCreateTopics ?? true;
  const defaultPartitions = options.defaultPartitions ?? limits.defaultPartitions;
  const afterCommitFailed = (error: unknown, step: string) =>
    options.log?.error({ err: error, step }, "a step after a commit failed; the commit stands");
  const committer = new GroupCommitter(store, {
    autoCreate,
    defaultPartitions,
    maxGroupEvents: options.maxGroupEvents ?? 10_000,
    afterCommitFailed,
    ...(options.appendObserver === undefined
      ? {}
      : { onGroupCommitted: options.appendObserver.groupCommitted.bind(options.appendObserver) }),
  });
  const wakeups = new Wakeups(store);
  const registry = createSchemaRegistry(store.registry);
  const auth = createAuthenticator({ ...options.auth, store: store.auth });
  const validation = createEventValidation({
    registry,
    policyOf: async (topic) => (await store.getTopic(topic))?.validation ?? "if-registered",
  });
  // Partition counts never change, so a topic seen once need not be looked up again.
  const partitionCounts = new Map<string, number>();
  let closing: Promise<void> | undefined;
  let waitsEnded = false;

  async function partitionCount(topic: string): Promise<number> {
    assertTopicName(topic);
    const known = partitionCounts.get(topic);
    if (known !== undefined) return known;
    const info = await store.getTopic(topic);
    if (info === undefined) throw new TributaryError("topic-not-found", { details: { topic } });
    partitionCounts.set(topic, info.partitions);
    return info.partitions;
  }

  async function getTopic(name: string): Promise<TopicInfo> {
    assertTopicName(name);
    const info = await store.getTopic(name);
    if (info === undefined) throw new TributaryError("topic-not-found", { details: { topic: name } });
    return info;
  }

  const batchBytes = options.batchBytes ?? defaultBatchBytes;
  const core = createSubscriptions({
    store,
    batchBytes,
    ...(options.eventCacheBytes === undefined ? {} : { eventCacheBytes: options.eventCacheBytes }),
    topics: {
      async ensure(name) {
        assertTopicName(name);
        const existing = await store.getTopic(name);
        if (existing !== undefined) return existing;
        if (!autoCreate) throw new TributaryError("topic-not-found", { details: { topic: name } });
        return (await store.putTopic(name, { partitions: defaultPartitions })).topic;
      },
      get: getTopic,
    },
    ...(options.deliveryObserver === undefined ? {} : { observer: options.deliveryObserver }),
    ...(options.breakerStatus === undefined ? {} : { breakerStatus: options.breakerStatus }),
  });
  const changed = options.subscriptionChanged;
  const subscriptions: Subscriptions =
    changed === undefined
      ? core
      : {
          ...core,
          async put(name, settings) {
            const result = await core.put(name, settings);
            // Stored: a listener's failure must not answer the PUT as failed.
            runAfterCommit(
              "subscription-changed listener",
              () => changed(name, result.subscription),
              afterCommitFailed,
            );
            return result;
          },
          async delete(name) {
            await core.delete(name);
            runAfterCommit(
              "subscription-changed listener",
              () => changed(name, undefined),
              afterCommitFailed,
            );
          },
        };

  return {
    store,
    batchBytes,
    subscriptions,
    registry,
    auth,

    async append(topic, inputs, pointer = (index) => `/events/${index}`) {
      assertTopicName(topic);
      const valid = validateEvents(inputs, pointer);
      const schemaVersions = await validation.check(topic, valid, pointer);
      const events = valid.map((input, index) => prepareEvent(topic, input, schemaVersions[index]));
      events.forEach((event, index) => {
        const bytes = eventBytes(event);
        if (bytes > limits.maxEventBytes) {
          throw new TributaryError("payload-too-large", {
            message: `${pointer(index) || "the event"} is ${bytes} bytes; one event is at most ${limits.maxEventBytes}`,
            details: { limit: limits.maxEventBytes, bytes, pointer: pointer(index) },
          });
        }
      });
      if (closing) throw new TributaryError("store-unavailable", { message: "the bus is shutting down" });
      const outcome = await committer.submit({ topic, events });
      if (!outcome.ok) throw outcome.error;
      const observer = options.appendObserver;
      if (observer !== undefined) {
        runAfterCommit(
          "append observer",
          () => observer.appended(topic, outcome.events.length, outcome.replayed),
          afterCommitFailed,
        );
      }
      return { events: outcome.events, replayed: outcome.replayed };
    },

    async putTopic(name, settings) {
      assertTopicName(name);
      const result = await store.putTopic(name, {
        partitions: settings.partitions ?? defaultPartitions,
        ...(settings.retention === undefined ? {} : { retention: settings.retention }),
        ...(settings.validation === undefined ? {} : { validation: settings.validation }),
      });
      partitionCounts.set(name, result.topic.partitions);
      validation.forgetPolicy(name);
      return result;
    },

    getTopic,

    listTopics: () => store.listTopics(),

    async readPartition(topic, partition, { from, limit, waitMs }) {
      const partitions = await partitionCount(topic);
      if (partition >= partitions) {
        throw new TributaryError("partition-not-found", { details: { topic, partition, partitions } });
      }
      // Armed before reading, so that a commit between the read and the wait still wakes us.
      const deadline = Date.now() + waitMs;
      const wakeup =
        waitMs > 0 && !waitsEnded
          ? wakeups.arm({ topic, partitions: new Map([[partition, from]]) })
          : undefined;
      let events = await store.readPartition(topic, partition, from, limit, batchBytes);
      if (wakeup !== undefined) {
        if (events.length === 0 && (await wakeup.wait(deadline - Date.now()))) {
          events = await store.readPartition(topic, partition, from, limit, batchBytes);
        } else {
          wakeup.cancel();
        }
      }
      const last = events[events.length - 1];
      return { events, next: last === undefined ? from : last.offset + 1 };
    },

    async readKey(topic, key, request) {
      assertTopicName(topic);
      const { events, isCutByBytes } = await store.readKey(topic, key, { ...request, maxBytes: batchBytes });
      const last = events[events.length - 1];
      const isFull = events.length === request.limit || isCutByBytes;
      return { events, next: isFull && last?.version != null ? last.version + 1 : null };
    },

    async query(request) {
      if (request.topic !== undefined) assertTopicName(request.topic);
      const afterPosition =
        request.after === undefined ? undefined : decodeCursor(request.after, request.order);
      const { events, isCutByBytes } = await store.query({
        ...(request.topic === undefined ? {} : { topic: request.topic }),
        ...(request.type === undefined ? {} : { type: request.type }),
        ...(request.key === undefined ? {} : { key: request.key }),
        ...(request.correlationId === undefined ? {} : { correlationId: request.correlationId }),
        ...(request.from === undefined ? {} : { from: request.from }),
        ...(request.to === undefined ? {} : { to: request.to }),
        ...(afterPosition === undefined ? {} : { afterPosition }),
        order: request.order,
        limit: request.limit,
        maxBytes: batchBytes,
      });
      const last = events[events.length - 1];
      const isFull = events.length === request.limit || isCutByBytes;
      return {
        events,
        next: isFull && last !== undefined ? encodeCursor(request.order, last.position) : null,
      };
    },

    async getEvent(id) {
      const event = await store.getEvent(id);
      if (event === undefined)
        throw new TributaryError("event-not-found", { details: { id: id.slice(0, 256) } });
      return event;
    },

    endWaits() {
      waitsEnded = true;
      wakeups.close();
      subscriptions.endWaits();
    },

    close() {
      closing ??= (async () => {
        waitsEnded = true;
        wakeups.close();
        subscriptions.endWaits();
        await committer.close();
        await store.close();
      })();
      return closing;
    },
  };
}
