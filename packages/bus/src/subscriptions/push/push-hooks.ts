import type { BreakerStatus } from "@tributary/protocol";

/**
 * Push-specific counters, for whoever keeps the metrics. Deliveries and dead letters are counted
 * by the core's `DeliveryObserver` already; these add what only the push side knows.
 */
export interface PushObserver {
  /** One POST ended with the receiver's verdict (an aborted POST at shutdown is not reported). */
  posted(subscription: string, outcome: "delivered" | "failed", events: number, seconds: number): void;
  /** The circuit breaker of `endpoint` (origin and path) moved to `state`. */
  breakerChanged(endpoint: string, state: BreakerStatus["state"]): void;
}

/** Where the dispatcher reports trouble it works around (a pino or Fastify logger fits). */
export interface PushLogger {
  warn(details: object, message: string): void;
}
