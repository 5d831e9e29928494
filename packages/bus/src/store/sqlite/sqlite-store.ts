import type { TopicInfo } from "@tributary/protocol";
import type {
  AppendCommand,
  AppendGroupOptions,
  CommitNotice,
  DeliveryRow,
  EventStore,
} from "../event-store.js";
import { runAfterCommit, type StoreObserver } from "../store-observer.js";
import { appendGroupInTransaction } from "./append-group.js";
import { createSqliteAuthStore } from "./auth-store.js";
import { toDeliveryRow, toStoredEvent } from "./event-row.js";
import { applyMigrations } from "./migrate.js";
import { offsetsAt } from "./offsets-at.js";
import { openDatabase, setReadOnly, withWrites } from "./open-database.js";
import { type QueryStatementCache, queryEventRows } from "./query-events.js";
import { readWithinBytes } from "./read-within-bytes.js";
import { createSqliteRegistryStore } from "./registry-store.js";
import { closedStoreError, toStoreError } from "./sqlite-errors.js";
import { prepareStatements, type SqliteStatements } from "./statements.js";
import { createSqliteSubscriptionStore } from "./subscription-store.js";
import { toTopicInfo } from "./topic-rows.js";
import {
  applyWriteOperation,
  createWriteOperations,
  type WriteOperation,
  type WriteOperationName,
  type WriteOperations,
} from "./write-operations.js";
import { SqliteWriter } from "./writer.js";

export interface SqliteStoreOptions {
  /** The database file, created when missing (its folder must exist). `":memory:"` for a private one. */
  path: string;
  /** Hears of failures nobody waits for: a failed write-behind, a commit listener that threw. */
  observer?: StoreObserver;
}

/**
 * An event store in one SQLite file, owned by this process. Every write (appends, topics,
 * subscription state, the registry, keys) runs on a writer thread with a connection of its own,
 * one transaction at a time: each `appendGroup` is one `BEGIN IMMEDIATE` transaction (one fsync
 * for the whole group), and its offsets are taken and committed before the next group starts,
 * which makes offsets contiguous and visible in order. The event loop meanwhile serves requests
 * and gathers the next group; reads use the store's own connection, which is read-only and has
 * no busy timeout (WAL: readers never wait for the writer), so the event loop never waits for a
 * lock. Only `migrate()` writes on it, waiting for another process's migration if need be. A
 * `":memory:"` database has a single connection, so there every write runs on the event loop.
 * The store must be migrated (`migrate()`) before other calls.
 *
 * @example
 * const store = createSqliteStore({ path: "./data/tributary.db" });
 * await store.migrate();
 * const [outcome] = await store.appendGroup([{ topic: "users", events: [prepareEvent("users", input)] }], {
 *   autoCreate: true,
 *   defaultPartitions: 4,
 * });
 */
export function createSqliteStore(options: SqliteStoreOptions): EventStore {
  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(options.path);
  } catch (error) {
    throw toStoreError(error);
  }
  let statements: SqliteStatements | undefined;
  let closed = false;
  let closing: Promise<void> | undefined;
  /** Partition counts of committed topics: they never change, so entries never go stale. */
  const partitionCounts = new Map<string, number>();
  const queryStatements: QueryStatementCache = new Map();
  const listeners = new Set<(notice: CommitNotice) => void>();
  const appendTransaction = db.transaction(appendGroupInTransaction);
  const writer = db.memory ? undefined : new SqliteWriter(options.path);
  // The store's connection only reads; without a writer thread (":memory:") it writes too.
  let inlineOperations: WriteOperations | undefined;
  if (writer !== undefined) {
    try {
      setReadOnly(db);
    } catch (error) {
      db.close();
      throw toStoreError(error);
    }
  }

  /** Runs a write on the writer thread (on this connection for `":memory:"`). */
  function write<Name extends WriteOperationName>(
    name: Name,
    ...args: Parameters<WriteOperations[Name]>
  ): Promise<ReturnType<WriteOperations[Name]>> {
    if (closed) return Promise.reject(closedStoreError());
    if (writer !== undefined) return writer.run(name, ...args);
    try {
      inlineOperations ??= createWriteOperations(db, () => {
        statements ??= prepareStatements(db);
        return statements;
      });
      const result = applyWriteOperation(inlineOperations, { name, args } as WriteOperation);
      return Promise.resolve(result as ReturnType<WriteOperations[Name]>);
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
  }

  const observer = options.observer;
  const subscriptions = createSqliteSubscriptionStore({
    db,
    ...(observer === undefined ? {} : { onWriteFailure: (error) => observer.writeBehindFailed(error) }),
    write: (toWrite, durable = true) => write("statements", toWrite, durable),
    assertOpen() {
      if (closed) throw closedStoreError();
    },
  });

  const registry = createSqliteRegistryStore({
    db,
    write,
    assertOpen() {
      if (closed) throw closedStoreError();
    },
    toStoreError,
  });

  /** Runs `work` on the open database, surfacing driver failures as `store-unavailable` when apt. */
  function run<T>(work: (prepared: SqliteStatements) => T): Promise<T> {
    if (closed) return Promise.reject(closedStoreError());
    try {
      statements ??= prepareStatements(db);
      return Promise.resolve(work(statements));
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
  }

  function readTopic(prepared: SqliteStatements, name: string): TopicInfo | undefined {
    const row = prepared.selectTopic.get(name);
    if (row === undefined) return undefined;
    partitionCounts.set(row.name, row.partitions);
    return toTopicInfo(row, prepared.selectHeads.all(name));
  }

  function announce(notices: CommitNotice[]): void {
    for (const notice of notices) {
      for (const listener of listeners) {
        // The events are committed: a listener's failure must not turn the append into an error
        // (the producer would retry an append that succeeded), nor keep the others from hearing.
        runAfterCommit("commit listener", () => listener(notice), observer?.afterCommitFailed.bind(observer));
      }
    }
  }

  return {
    kind: "sqlite",

    migrate() {
      if (closed) return Promise.reject(closedStoreError());
      try {
        if (writer === undefined) applyMigrations(db);
        // At start, before any other write: waiting for another process's migration is fine here.
        else withWrites(db, () => applyMigrations(db));
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(toStoreError(error));
      }
    },

    async putTopic(name, settings) {
      const result = await write("putTopic", name, settings);
      partitionCounts.set(name, result.topic.partitions);
      return result;
    },

    getTopic(name) {
      return run((prepared) => readTopic(prepared, name));
    },

    listTopics() {
      return run((prepared) => {
        const heads = new Map<string, number[]>();
        for (const row of prepared.selectAllHeads.all()) {
          const list = heads.get(row.topic);
          if (list === undefined) heads.set(row.topic, [row.next_offset]);
          else list.push(row.next_offset);
        }
        return prepared.selectTopics.all().map((row) => toTopicInfo(row, heads.get(row.name) ?? []));
      });
    },

    appendGroup(commands: AppendCommand[], groupOptions: AppendGroupOptions) {
      if (writer !== undefined) {
        if (closed) return Promise.reject(closedStoreError());
        return writer.append(commands, groupOptions).then((result) => {
          announce(result.notices);
          return result.outcomes;
        });
      }
      return run((prepared) => {
        const result = appendTransaction.immediate(prepared, partitionCounts, commands, groupOptions);
        // Only now that the group committed may the topics it created be trusted by later groups.
        for (const [name, partitions] of result.partitionCounts) partitionCounts.set(name, partitions);
        announce(result.notices);
        return result.outcomes;
      });
    },

    readPartition(topic, partition, fromOffset, limit, maxBytes) {
      return run((prepared) => {
        const statement = prepared.readPartition;
        if (maxBytes === undefined)
          return statement.all(topic, partition, fromOffset, limit).map(toStoredEvent);
        // Row by row, stopping at the budget: the rows past it are never read into memory.
        return readWithinBytes(statement.iterate(topic, partition, fromOffset, limit), maxBytes).events;
      });
    },

    readPartitionForDelivery(topic, partition, fromOffset, limit, maxBytes) {
      return run((prepared) => {
        const statement = prepared.readPartitionForDelivery;
        if (maxBytes === undefined)
          return statement.all(topic, partition, fromOffset, limit).map(toDeliveryRow);
        const rows: DeliveryRow[] = [];
        let bytes = 0;
        for (const tuple of statement.iterate(topic, partition, fromOffset, limit)) {
          bytes += tuple[5];
          if (rows.length > 0 && bytes > maxBytes) break;
          rows.push(toDeliveryRow(tuple));
        }
        return rows;
      });
    },

    readKey(topic, key, { fromVersion, asOf, limit, maxBytes }) {
      return run((prepared) =>
        readWithinBytes(
          asOf === undefined
            ? prepared.readKey.iterate(topic, key, fromVersion, limit)
            : prepared.readKeyAsOf.iterate(topic, key, fromVersion, asOf.toISOString(), limit),
          maxBytes,
        ),
      );
    },

    query(filter) {
      return run(() => readWithinBytes(queryEventRows(db, queryStatements, filter), filter.maxBytes));
    },

    getEvent(id) {
      return run((prepared) => {
        const row = prepared.getEvent.get(id);
        return row === undefined ? undefined : toStoredEvent(row);
      });
    },

    offsetsAt(topic, at) {
      return run((prepared) => offsetsAt(prepared, topic, at));
    },

    subscriptions,
    registry,
    auth: createSqliteAuthStore({ db, read: (work) => run(() => work()), write }),

    onCommit(listener) {
      // A wrapper, so that subscribing the same function twice gives two independent subscriptions.
      const subscription = (notice: CommitNotice) => listener(notice);
      listeners.add(subscription);
      return () => {
        listeners.delete(subscription);
      };
    },

    ping() {
      return run((prepared) => {
        prepared.ping.get();
      });
    },

    close() {
      closing ??= (async () => {
        // What subscriptions wrote behind goes to the file before the writer stops.
        await subscriptions.drain();
        closed = true;
        listeners.clear();
        await writer?.close();
        try {
          db.close();
        } catch (error) {
          throw toStoreError(error);
        }
      })();
      return closing;
    },
  };
}
