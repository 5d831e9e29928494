import { type Logger, pino } from "pino";
import { parseApiKey } from "../auth/api-keys.js";
import { startServer } from "../server.js";
import { describeStoreUrl, openStore } from "../store/open-store.js";
import { type AdminKeySource, ensureAdminKey, readAdminKey } from "./admin-key.js";
import { keys } from "./keys.js";
import { parseServeOptions, serveUsage } from "./serve-options.js";

const usage = `Usage: tributary <command> [options]

Commands:
  serve     run the bus (tributary serve --help for its options)
  keys      create, list and revoke API keys (tributary keys --help)
`;

async function serve(args: string[]): Promise<number> {
  const options = parseServeOptions(args, process.env);
  if (options === "help") {
    process.stdout.write(serveUsage);
    return 0;
  }
  const logger = pino({ level: options.logLevel, redact: ["req.headers.authorization"] });
  if (options.adminKey !== undefined) await provideAdminKey(options.store, options.adminKey, logger);
  const server = await startServer({
    store: options.store,
    host: options.host,
    port: options.port,
    autoCreateTopics: options.autoCreateTopics,
    defaultPartitions: options.defaultPartitions,
    insecure: options.insecure,
    rateLimits: options.rateLimits,
    eventCacheBytes: options.eventCacheBytes,
    batchBytes: options.batchBytes,
    logger,
  });

  // The signal handlers go in before the line that says the bus is up: whoever waits for that line
  // may signal at once, and a signal without a handler would kill the process mid-start.
  const stopped = new Promise<number>((resolve) => {
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, "second signal: exiting without waiting");
        process.exit(130);
      }
      logger.info({ signal }, "shutting down: finishing in-flight requests");
      server.close().then(
        () => {
          logger.info("stopped");
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

  logger.info({ url: server.url, store: describeStoreUrl(options.store) }, "tributary is listening");
  // Said at every start: with no keys, whoever reaches the address may do anything.
  const access = server.isOpen ? "; OPEN: no API keys, every request is allowed (tributary keys create)" : "";
  process.stdout.write(
    `Tributary listening on ${server.url} (store ${describeStoreUrl(options.store)}${access})\n`,
  );
  return stopped;
}

/**
 * Stores the admin key given at start as the first key of a store that has none, before the server
 * starts (so that it may listen beyond loopback). The key goes out of the environment first, so
 * that no thread or child started later inherits it; it is never logged, only its id.
 */
async function provideAdminKey(
  storeUrl: string,
  source: AdminKeySource,
  logger: Pick<Logger, "info" | "warn">,
): Promise<void> {
  const key = readAdminKey(source, process.env);
  delete process.env.TRIBUTARY_ADMIN_KEY;
  const store = openStore(storeUrl);
  try {
    await store.migrate();
    const outcome = await ensureAdminKey(store.auth, key);
    const keyId = parseApiKey(key)?.id;
    if (outcome === "created") logger.info({ keyId }, "stored the admin key given at start");
    if (outcome === "revoked") logger.warn({ keyId }, "the admin key given at start is revoked");
    if (outcome === "ignored") {
      logger.warn({ keyId }, "the store has API keys already: the admin key given at start was not stored");
    }
  } finally {
    await store.close();
  }
}

/** The `tributary` command line. Resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "serve":
      return serve(rest);
    case "keys":
      return keys(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return command === undefined ? 1 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${usage}`);
      return 1;
  }
}
