import { limits } from "@tributary/protocol";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import { createRateLimiter, defaultRateLimits, type RateLimits } from "../auth/rate-limiter.js";
import type { Bus } from "../bus.js";
import type { BusMetrics } from "../metrics/bus-metrics.js";
import { installAuthorization } from "./authorization.js";
import { installContentTypes } from "./content-types.js";
import { installErrorHandler } from "./error-handler.js";
import { type HttpTimeouts, hardenedServerOptions, installHardening } from "./hardening.js";
import { adminRoutes } from "./routes/admin.js";
import { apiDocumentRoutes } from "./routes/api-documents.js";
import { appendRoutes } from "./routes/append.js";
import { confluentRegistryRoutes } from "./routes/confluent-registry.js";
import { deadLetterRoutes } from "./routes/dead-letters.js";
import { healthRoutes } from "./routes/health.js";
import { metricsRoutes } from "./routes/metrics.js";
import { readRoutes } from "./routes/read.js";
import { schemaRoutes } from "./routes/schemas.js";
import { subscriptionStreamRoutes } from "./routes/subscription-stream.js";
import { subscriptionRoutes } from "./routes/subscriptions.js";
import { topicRoutes } from "./routes/topics.js";
import { createStoreOutageLog, type StoreOutageLogOptions } from "./store-outage-log.js";

export interface AppOptions {
  bus: Bus;
  /** Served at `/metrics` (the CLI's server always has them). */
  metrics?: BusMetrics;
  /** Append rates per principal once keys are required (default `defaultRateLimits`). */
  rateLimits?: RateLimits;
  /** A pino logger configuration or instance, or `false` for none (tests). */
  logger?: FastifyServerOptions["logger"] | FastifyBaseLogger;
  /** How long to wait for slow clients (default `defaultHttpTimeouts`; tests shorten them). */
  timeouts?: Partial<HttpTimeouts>;
  /**
   * How a store outage is logged: its first refusal, then a summary at most every
   * `summaryIntervalMs` (default 10 s), then its end. Tests pass a clock of their own.
   */
  storeOutageLog?: Omit<StoreOutageLogOptions, "log">;
}

function isLoggerInstance(logger: AppOptions["logger"]): logger is FastifyBaseLogger {
  return (
    typeof logger === "object" &&
    logger !== null &&
    typeof (logger as { child?: unknown }).child === "function"
  );
}

/**
 * The HTTP API (v1, docs/http-api.md) as a Fastify instance, not yet listening (tests use `inject`).
 * Closing the app does not close the bus: its owner does, after the app stopped taking requests.
 */
export function createApp(options: AppOptions): FastifyInstance {
  const logger = options.logger ?? false;
  const app = Fastify({
    ...hardenedServerOptions(options.timeouts),
    // Fastify 5 takes a ready logger (the CLI's pino) only as `loggerInstance`.
    ...(isLoggerInstance(logger) ? { loggerInstance: logger } : { logger }),
    bodyLimit: limits.maxRequestBytes,
    // Keys travel in the path and may be up to 1 KiB once encoded many times over; longer ones are
    // refused by the route schema with a clear 400 rather than an opaque 404.
    routerOptions: { maxParamLength: 16 * 1024 },
    logController: new LogController({ disableRequestLogging: true }),
    // While closing, `startServer` answers the API's own 503 problem (with Retry-After) instead.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false, allErrors: false } },
  });
  const outage = createStoreOutageLog({ log: app.log, ...options.storeOutageLog });
  installErrorHandler(app, outage);
  installAuthorization(app, options.bus, options.bus.auth);
  installContentTypes(app);
  installHardening(app);
  // First: it records the routes declared after it for /openapi.json.
  apiDocumentRoutes(app, options.bus);
  healthRoutes(app, options.bus);
  topicRoutes(app, options.bus);
  appendRoutes(app, options.bus, createRateLimiter(options.rateLimits ?? defaultRateLimits));
  schemaRoutes(app, options.bus);
  confluentRegistryRoutes(app, options.bus, outage);
  adminRoutes(app, options.bus);
  readRoutes(app, options.bus);
  subscriptionRoutes(app, options.bus);
  deadLetterRoutes(app, options.bus);
  subscriptionStreamRoutes(app, options.bus);
  if (options.metrics !== undefined) metricsRoutes(app, options.metrics);
  return app;
}
