import { randomUUID } from "node:crypto";
import { TributaryError } from "@tributary/protocol";
import type { Sql } from "postgres";
import type { CommitNotice, EventStore } from "../event-store.js";
import type { StoreObserver } from "../store-observer.js";
import { appendGroup } from "./append-group.js";
import { createPostgresAuthStore } from "./auth-store.js";
import { createCommitNotifications } from "./commit-notifications.js";
import { createConnectionPool } from "./connection-pool.js";
import { getEvent } from "./get-event.js";
import { migrate } from "./migrate.js";
import { offsetsAt } from "./offsets-at.js";
import { putTopic } from "./put-topic.js";
import { queryEvents } from "./query-events.js";
import { readKey } from "./read-key.js";
import { readPartition, readPartitionForDelivery } from "./read-partition.js";
import { getTopic, listTopics } from "./read-topics.js";
import { createPostgresRegistryStore } from "./registry-store.js";
import { assertSchemaName, commitChannel } from "./schema-names.js";
import { StreamVersionCache } from "./stream-version-cache.js";
import { createPostgresSubscriptionStore } from "./subscription-store.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Schema holding every table of the store (created by `migrate()`). Default `public`. */
  schema?: string;
  /** Upper bound of the pool's connections, besides one for LISTEN. Default 10. */
  maxConnections?: number;
  /** Hears of failures nobody waits for: a commit listener or a cache fill that threw. */
  observer?: StoreObserver;
}

/**
 * The PostgreSQL event store, shared by any number of bus processes. Tables live in `schema` (every
 * connection's `search_path`); commits are durable when acknowledged (`synchronous_commit = on`)
 * and announced to every process through LISTEN/NOTIFY. A lost or refused connection fails the
 * operation with `store-unavailable`; the next operation connects afresh, so the store works again
 * as soon as the server is back, without a restart. No connection is opened before the first
 * operation.
 *
 * @example
 * const store = createPostgresStore({ url: "postgres://postgres@127.0.0.1:5432/tributary" });
 * await store.migrate();
 * const [outcome] = await store.appendGroup([{ topic: "users", events: [prepareEvent("users", input)] }], {
 *   autoCreate: true,
 *   defaultPartitions: 4,
 * });
 * await store.close();
 */
export function createPostgresStore(options: PostgresStoreOptions): EventStore {
  const schema = options.schema ?? "public";
  assertSchemaName(schema);
  const maxConnections = options.maxConnections ?? 10;
  const pool = createConnectionPool({ url: options.url, schema, maxConnections });
  const channel = commitChannel(schema);
  const source = randomUUID();
  const partitionCounts = new Map<string, number>();
  // About 100 bytes a key: some 10 MB at most.
  const versionCache = new StreamVersionCache(100_000);
  const inFlight = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  /** Runs an operation: refused after close, tracked so that close waits for it. */
  const run = <T>(work: (sql: Sql) => Promise<T>): Promise<T> => {
    if (closing !== undefined) {
      return Promise.reject(new TributaryError("store-unavailable", { message: "The store is closed" }));
    }
    const promise = pool.use(work);
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  };

  const readHeads = () =>
    run(async (sql): Promise<CommitNotice[]> => {
      const rows = await sql<{ topic: string; partition: number; next_offset: string }[]>`
        SELECT topic, partition, next_offset FROM partitions WHERE next_offset > 0`;
      return rows.map((row) => ({
        topic: row.topic,
        partition: row.partition,
        nextOffset: Number(row.next_offset),
      }));
    });
  const observer = options.observer;
  const notifications = createCommitNotifications({
    sql: () => pool.listener(),
    channel,
    source,
    readHeads,
    ...(observer === undefined ? {} : { listenerFailed: observer.afterCommitFailed.bind(observer) }),
  });

  return {
    kind: "postgres",

    migrate: () => run((sql) => migrate(sql, schema)),

    putTopic: (name, settings) =>
      run(async (sql) => {
        const result = await putTopic(sql, name, settings);
        partitionCounts.set(name, result.topic.partitions);
        return result;
      }),
    getTopic: (name) => run((sql) => getTopic(sql, name)),
    listTopics: () => run((sql) => listTopics(sql)),

    appendGroup: (commands, groupOptions) =>
      run(async (sql) => {
        const result = await appendGroup(
          sql,
          { partitionCounts, channel, source, versionCache },
          commands,
          groupOptions,
        );
        notifications.announce(result.notices);
        return result.outcomes;
      }),

    readPartition: (topic, partition, fromOffset, limit, maxBytes) =>
      run((sql) => readPartition(sql, topic, partition, fromOffset, limit, maxBytes)),
    readPartitionForDelivery: (topic, partition, fromOffset, limit, maxBytes) =>
      run((sql) => readPartitionForDelivery(sql, topic, partition, fromOffset, limit, maxBytes)),
    readKey: (topic, key, readOptions) => run((sql) => readKey(sql, topic, key, readOptions)),
    query: (filter) => run((sql) => queryEvents(sql, filter)),
    getEvent: (id) => run((sql) => getEvent(sql, id)),
    offsetsAt: (topic, at) => run((sql) => offsetsAt(sql, topic, at)),

    subscriptions: createPostgresSubscriptionStore({
      run,
      maxConnections,
      notify: { channel, source },
      onChange: (listener) => notifications.subscribeSubscriptionChanges(listener),
    }),

    registry: createPostgresRegistryStore({
      run,
      notify: { channel, source },
      onRemoteChange: (listener) => notifications.subscribeRegistryChanges(listener),
    }),

    auth: createPostgresAuthStore(run),

    onCommit: (listener) => notifications.subscribe(listener),

    ping: () =>
      run(async (sql) => {
        await sql`SELECT 1`;
      }),

    close() {
      closing ??= (async () => {
        await Promise.allSettled([...inFlight]);
        notifications.close();
        await pool.end();
      })();
      return closing;
    },
  };
}
