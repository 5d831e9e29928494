import { parseArgs } from "node:util";
import { limits } from "@tributary/protocol";
import { defaultRateLimits, type RateLimits } from "../auth/rate-limiter.js";
import { defaultStoreUrl } from "../store/open-store.js";
import { defaultEventCacheBytes } from "../subscriptions/event-cache.js";
import { defaultBatchBytes } from "../subscriptions/subscription-service.js";
import type { AdminKeySource } from "./admin-key.js";

export interface ServeOptions {
  store: string;
  host: string;
  port: number;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  logLevel: string;
  insecure: boolean;
  rateLimits: RateLimits;
  /** An admin key to make the store's first key at start, when one is given. */
  adminKey?: AdminKeySource;
  /** Bytes of recently delivered events kept in memory for the subscriptions. */
  eventCacheBytes: number;
  /** Bytes of event JSON in one batch read at most (poll, push, event stream, partition read). */
  batchBytes: number;
}

export const serveUsage = `Usage: tributary serve [options]

Options (environment variable in brackets):
  --store URL              sqlite:PATH or postgres://user@host:port/db[?schema=NAME]
                           [TRIBUTARY_STORE] (default ${defaultStoreUrl})
  --host HOST              interface to listen on [TRIBUTARY_HOST] (default 127.0.0.1)
  --port PORT              port to listen on [TRIBUTARY_PORT] (default 4700)
  --no-auto-create         appending to an unknown topic is a 404 [TRIBUTARY_AUTO_CREATE=false]
  --default-partitions N   partitions of new topics [TRIBUTARY_DEFAULT_PARTITIONS] (default ${limits.defaultPartitions})
  --log-level LEVEL        fatal, error, warn, info, debug, trace, silent [TRIBUTARY_LOG_LEVEL] (default info)
  --insecure               listen on a non-loopback host with no API keys [TRIBUTARY_INSECURE=true]
  --admin-key-file PATH    a file holding an admin key (tributary keys generate), stored as the
                           first key of a store that has none [TRIBUTARY_ADMIN_KEY_FILE]; or the
                           key itself in [TRIBUTARY_ADMIN_KEY] (no flag: the command line is public)
  --rate-events N          appended events per second per principal, 0 for no limit
                           [TRIBUTARY_RATE_EVENTS] (default ${defaultRateLimits.eventsPerSecond})
  --rate-bytes N           appended bytes per second per principal, 0 for no limit
                           [TRIBUTARY_RATE_BYTES] (default ${defaultRateLimits.bytesPerSecond})
  --event-cache-bytes N    bytes of recently delivered events kept in memory, 0 for none
                           [TRIBUTARY_EVENT_CACHE_BYTES] (default ${defaultEventCacheBytes})
  --batch-bytes N          bytes of events in one poll response, push POST, event-stream batch,
                           partition read, entity stream or query page; the first event goes
                           whatever its size
                           [TRIBUTARY_BATCH_BYTES] (default ${defaultBatchBytes})
  -h, --help               show this help
`;

/** Every flag `serve` takes (the README's table of options lists each; a test checks it). */
export const serveFlags = {
  store: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  "no-auto-create": { type: "boolean" },
  "default-partitions": { type: "string" },
  "log-level": { type: "string" },
  insecure: { type: "boolean" },
  "admin-key-file": { type: "string" },
  "rate-events": { type: "string" },
  "rate-bytes": { type: "string" },
  "event-cache-bytes": { type: "string" },
  "batch-bytes": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  return value;
}

/**
 * Reads `serve` options from the command line, then the environment, then the defaults. Throws a
 * plain Error with a message fit for the terminal on a bad value.
 */
export function parseServeOptions(
  args: string[],
  env: Record<string, string | undefined>,
): ServeOptions | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: serveFlags,
  });
  if (values.help) return "help";
  const autoCreateEnv = env.TRIBUTARY_AUTO_CREATE?.toLowerCase();
  const adminKeyFile = values["admin-key-file"] ?? env.TRIBUTARY_ADMIN_KEY_FILE;
  if (adminKeyFile !== undefined && env.TRIBUTARY_ADMIN_KEY !== undefined) {
    throw new Error("give the admin key in TRIBUTARY_ADMIN_KEY or in a file, not both");
  }
  const adminKey: AdminKeySource | undefined =
    adminKeyFile !== undefined
      ? { file: adminKeyFile }
      : env.TRIBUTARY_ADMIN_KEY !== undefined
        ? { env: "TRIBUTARY_ADMIN_KEY" }
        : undefined;
  return {
    store: values.store ?? env.TRIBUTARY_STORE ?? defaultStoreUrl,
    host: values.host ?? env.TRIBUTARY_HOST ?? "127.0.0.1",
    port: integer("--port", values.port ?? env.TRIBUTARY_PORT ?? "4700", 0, 65535),
    autoCreateTopics: !(values["no-auto-create"] ?? (autoCreateEnv === "false" || autoCreateEnv === "0")),
    defaultPartitions: integer(
      "--default-partitions",
      values["default-partitions"] ?? env.TRIBUTARY_DEFAULT_PARTITIONS ?? String(limits.defaultPartitions),
      1,
      limits.maxPartitions,
    ),
    logLevel: values["log-level"] ?? env.TRIBUTARY_LOG_LEVEL ?? "info",
    insecure: values.insecure ?? ["true", "1"].includes(env.TRIBUTARY_INSECURE?.toLowerCase() ?? ""),
    rateLimits: {
      eventsPerSecond: integer(
        "--rate-events",
        values["rate-events"] ?? env.TRIBUTARY_RATE_EVENTS ?? String(defaultRateLimits.eventsPerSecond),
        0,
        1e9,
      ),
      bytesPerSecond: integer(
        "--rate-bytes",
        values["rate-bytes"] ?? env.TRIBUTARY_RATE_BYTES ?? String(defaultRateLimits.bytesPerSecond),
        0,
        1e12,
      ),
    },
    ...(adminKey === undefined ? {} : { adminKey }),
    eventCacheBytes: integer(
      "--event-cache-bytes",
      values["event-cache-bytes"] ?? env.TRIBUTARY_EVENT_CACHE_BYTES ?? String(defaultEventCacheBytes),
      0,
      1e12,
    ),
    batchBytes: integer(
      "--batch-bytes",
      values["batch-bytes"] ?? env.TRIBUTARY_BATCH_BYTES ?? String(defaultBatchBytes),
      1,
      1e12,
    ),
  };
}
