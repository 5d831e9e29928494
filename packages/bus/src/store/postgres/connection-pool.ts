import postgres, { type Sql } from "postgres";
import { quoteIdentifier } from "./schema-names.js";
import { isConnectionLost, toStoreError } from "./store-errors.js";

export interface ConnectionPoolOptions {
  url: string;
  schema: string;
  maxConnections: number;
}

/** The store's connections, lent to one operation at a time through `use`. */
export interface ConnectionPool {
  /**
   * Runs `work` with the current driver pool. Errors come out as the port's errors
   * (`store-unavailable`, `internal`). After a lost connection the driver pool is replaced.
   */
  use<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /** A separate driver instance for LISTEN, which the driver re-establishes by itself. */
  listener(): Sql;
  /** Waits for running work, then closes every connection. Idempotent. */
  end(): Promise<void>;
}

/** Seconds to wait for a connection before answering `store-unavailable`. */
const connectTimeoutSeconds = 10;
/** Seconds a replaced or closing pool lets running queries finish before it cuts its connections. */
const endTimeoutSeconds = 5;

function createDriver(options: ConnectionPoolOptions, max: number): Sql {
  return postgres(options.url, {
    max,
    connect_timeout: connectTimeoutSeconds,
    // NOTICEs ("schema already exists, skipping", "no transaction in progress") are expected.
    onnotice: () => {},
    connection: {
      application_name: "tributary",
      search_path: quoteIdentifier(options.schema),
      // Explicit, whatever the server's default: an acknowledged append must survive a crash.
      synchronous_commit: "on",
      // The driver prepares every statement; after five runs the server may switch to a generic
      // plan that cannot see the sizes of the array parameters, and the append's reads got four
      // times slower with it. Planning each run costs far less than that.
      plan_cache_mode: "force_custom_plan",
    },
  });
}

/**
 * The connection pool of a store. The driver (postgres 3.4.9) can leave a connection unusable after
 * its socket closed at the wrong moment: every later query on it waits for the connect timeout, for
 * ever. So when an operation loses its connection, the whole driver pool is retired (its healthy
 * connections finish their work, then close) and a fresh one serves the next operations: after the
 * server comes back, the store works again without a restart.
 */
export function createConnectionPool(options: ConnectionPoolOptions): ConnectionPool {
  let current = createDriver(options, options.maxConnections);
  let listener: Sql | undefined;
  const retiring = new Set<Promise<void>>();
  let ending: Promise<void> | undefined;

  const retire = (sql: Sql) => {
    const ended = sql.end({ timeout: endTimeoutSeconds }).catch(() => undefined);
    retiring.add(ended);
    ended.then(() => retiring.delete(ended));
  };

  return {
    async use(work) {
      const sql = current;
      try {
        return await work(sql);
      } catch (error) {
        if (isConnectionLost(error) && sql === current && ending === undefined) {
          current = createDriver(options, options.maxConnections);
          retire(sql);
        }
        throw toStoreError(error);
      }
    },
    listener() {
      listener ??= createDriver(options, 1);
      return listener;
    },
    end() {
      ending ??= (async () => {
        retire(current);
        if (listener !== undefined) retire(listener);
        while (retiring.size > 0) await Promise.all([...retiring]);
      })();
      return ending;
    },
  };
}
