import { pino } from "pino";
import { startServer } from "../server.js";
import { describeStoreUrl } from "../store/open-store.js";
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
  const server = await startServer({
    store: options.store,
    host: options.host,
    port: options.port,
    autoCreateTopics: options.autoCreateTopics,
    defaultPartitions: options.defaultPartitions,
    insecure: options.insecure,
    rateLimits: options.rateLimits,
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
