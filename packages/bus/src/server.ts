import { problemContentType, TributaryError, toProblem } from "@tributary/protocol";
import type { FastifyBaseLogger } from "fastify";
import { type Bus, type BusLog, createBus } from "./bus.js";
import { type AppOptions, createApp } from "./http/app.js";
import { type BusMetrics, createMetrics } from "./metrics/bus-metrics.js";
import { defaultStoreUrl, openStore } from "./store/open-store.js";
import {
  createPushDispatcher,
  type PushDispatcher,
  type PushDispatcherOptions,
} from "./subscriptions/push/push-dispatcher.js";

export interface ServerOptions {
  /** `sqlite:PATH` or `postgres://…` (default `sqlite:./data/tributary.db`). */
  store?: string;
  host?: string;
  /** 0 picks a free port (tests). Default 4700. */
  port?: number;
  autoCreateTopics?: boolean;
  defaultPartitions?: number;
  logger?: AppOptions["logger"];
  /** Append rates per principal (see `AppOptions.rateLimits`). */
  rateLimits?: AppOptions["rateLimits"];
  /** How long to wait for slow clients (see `AppOptions.timeouts`). */
  timeouts?: AppOptions["timeouts"];
  /** Bytes of recently delivered events kept in memory (see `BusOptions.eventCacheBytes`). */
  eventCacheBytes?: number;
  /** Bytes of event JSON in one batch read at most (see `BusOptions.batchBytes`). */
  batchBytes?: number;
  /** Listen on a non-loopback address even with no API keys in the store. */
  insecure?: boolean;
  /**
   * Push delivery of the push subscriptions from this process: on by default, tuned by an object,
   * `false` for none (tests that drive their subscriptions themselves).
   */
  push?: false | Omit<PushDispatcherOptions, "subscriptions" | "log">;
}

export interface RunningServer {
  /** The base URL it listens on, e.g. `http://127.0.0.1:4700`. */
  url: string;
  bus: Bus;
  /** True when the store had no API keys at start: every request is allowed until one exists. */
  isOpen: boolean;
  /**
   * Graceful shutdown: stops push delivery (POSTs under way get a grace period; what was not
   * acknowledged goes out again at once elsewhere), stops accepting connections, ends long-polls,
   * lets in-flight requests and their commits finish, then closes the store. Idempotent.
   */
  close(): Promise<void>;
}

/** Whether a listen address only takes connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Opens and migrates the store, then serves the HTTP API. Refuses to listen on a non-loopback
 * address while the store has no API keys (the bus would be open to the network), unless
 * `insecure`.
 *
 * @example
 * const server = await startServer({ store: "sqlite:./data/tributary.db", port: 4700 });
 * console.log(`listening on ${server.url}`);
 * await server.close();
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  // The log and the metrics exist once the checks below passed; nothing is reported before them
  // (no append and no subscription write runs until the server listens).
  let appLog: FastifyBaseLogger | undefined;
  let metrics: BusMetrics | undefined;
  const log: BusLog = { error: (details, message) => appLog?.error(details, message) };
  const store = openStore(options.store ?? defaultStoreUrl, {
    observer: {
      writeBehindFailed(error) {
        metrics?.storeObserver.writeBehindFailed(error);
        log.error(
          { err: error },
          "subscription state could not be written to the store; the events it held will be delivered again",
        );
      },
      afterCommitFailed(error, step) {
        log.error({ err: error, step }, "a step after a commit failed; the commit stands");
      },
    },
  });
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  const host = options.host ?? "127.0.0.1";
  let isOpen: boolean;
  try {
    isOpen = (await store.auth.countKeys()) === 0;
  } catch (error) {
    await store.close();
    throw error;
  }
  if (isOpen && !isLoopback(host) && options.insecure !== true) {
    await store.close();
    throw new Error(
      `refusing to listen on ${host} with no API keys in the store: anyone who can reach it could write and read every topic. Give an admin key to store at start (TRIBUTARY_ADMIN_KEY_FILE, made by tributary keys generate), create a key first (tributary keys create --store URL --principal NAME --admin), listen on 127.0.0.1, or start with --insecure`,
    );
  }
  metrics = createMetrics();
  // Started once the server listens; the bus asks it for breaker states and tells it of PUTs.
  let push: PushDispatcher | undefined;
  const bus = createBus({
    store,
    appendObserver: metrics.appendObserver,
    deliveryObserver: metrics.deliveryObserver,
    breakerStatus: (name) => push?.breakerStatus(name),
    subscriptionChanged: (name, subscription) => push?.changed(name, subscription),
    log,
    ...(options.autoCreateTopics === undefined ? {} : { autoCreateTopics: options.autoCreateTopics }),
    ...(options.defaultPartitions === undefined ? {} : { defaultPartitions: options.defaultPartitions }),
    ...(options.eventCacheBytes === undefined ? {} : { eventCacheBytes: options.eventCacheBytes }),
    ...(options.batchBytes === undefined ? {} : { batchBytes: options.batchBytes }),
  });
  metrics.watch(bus);
  const app = createApp({
    bus,
    metrics,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
  });
  appLog = app.log;
  let isClosing = false;
  const beginClosing = () => {
    isClosing = true;
    // Long-polls would hold the shutdown for up to their wait: end them as soon as closing starts.
    bus.endWaits();
  };
  app.addHook("preClose", async () => beginClosing());
  // A request that arrives while closing gets the API's 503 problem with Retry-After (answered here,
  // not thrown: a shutdown is no error to log).
  app.addHook("onRequest", async (_request, reply) => {
    if (!isClosing) return;
    const error = new TributaryError("store-unavailable", { message: "the bus is shutting down" });
    return reply.status(503).header("retry-after", "1").type(problemContentType).send(toProblem(error));
  });
  // While closing, every answer closes its connection and idle ones are swept after it: a keep-alive
  // connection whose request was in flight when closing began would otherwise stay open until its
  // keep-alive timeout (72 s) and hold up the exit.
  app.addHook("onSend", async (_request, reply, payload) => {
    if (isClosing) reply.header("connection", "close");
    return payload;
  });
  app.addHook("onResponse", async () => {
    if (isClosing) setImmediate(() => app.server.closeIdleConnections());
  });
  try {
    await app.listen({ host, port: options.port ?? 4700 });
  } catch (error) {
    await bus.close();
    throw error;
  }
  if (options.push !== false) {
    push = createPushDispatcher({ subscriptions: bus.subscriptions, log: app.log, ...options.push });
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    bus,
    isOpen,
    close() {
      closing ??= (async () => {
        // Before the long-polls end: push loops would otherwise poll without waiting until stopped.
        await push?.stop();
        beginClosing();
        await app.close();
        await bus.close();
      })();
      return closing;
    },
  };
}
