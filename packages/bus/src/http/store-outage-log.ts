/** Where the outage lines go (a pino or Fastify logger fits). */
export interface OutageLogger {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface StoreOutageLogOptions {
  log: OutageLogger;
  /** Least time between two summaries of an outage, in milliseconds (default 10 s). */
  summaryIntervalMs?: number;
  /** The clock, in milliseconds (default `Date.now`); tests pass their own. */
  now?: () => number;
}

/** Turns the refusals of an outage into a few lines: its start, a summary now and then, its end. */
export interface StoreOutageLog {
  /** A request was refused because the store is unavailable; `cause` says why (the driver's error). */
  refused(cause: unknown): void;
  /** A request was served by the store: an outage under way is over. Cheap when there is none. */
  served(): void;
}

/**
 * Logs a store outage the way a person reads it, not one line per refused request (a busy bus
 * refuses hundreds a second). The first refusal is logged as an error with its cause. Later ones
 * are counted, and the first refusal at least `summaryIntervalMs` after the previous line logs a
 * warning "store unavailable: N requests refused in the last S s" (so a bus nobody calls during an
 * outage writes nothing more). The first request served afterwards logs the recovery, with the
 * outage's length and every refusal it counted. Keeps no timer: nothing to close.
 *
 * @example
 * const outage = createStoreOutageLog({ log: app.log });
 * // in the error handler: outage.refused(error.cause); after a request the store served: outage.served()
 */
export function createStoreOutageLog(options: StoreOutageLogOptions): StoreOutageLog {
  const { log } = options;
  const summaryIntervalMs = options.summaryIntervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  let outage: { startedAt: number; total: number; windowStartedAt: number; inWindow: number } | undefined;

  return {
    refused(cause) {
      const at = now();
      if (outage === undefined) {
        outage = { startedAt: at, total: 1, windowStartedAt: at, inWindow: 1 };
        log.error(
          { err: cause, code: "store-unavailable" },
          "store unavailable: requests are refused with 503 until it answers again",
        );
        return;
      }
      outage.total += 1;
      outage.inWindow += 1;
      const elapsedMs = at - outage.windowStartedAt;
      if (elapsedMs < summaryIntervalMs) return;
      const seconds = Math.round(elapsedMs / 1000);
      log.warn(
        { code: "store-unavailable", refused: outage.inWindow, seconds },
        `store unavailable: ${outage.inWindow} requests refused in the last ${seconds} s`,
      );
      outage.windowStartedAt = at;
      outage.inWindow = 0;
    },

    served() {
      if (outage === undefined) return;
      const seconds = Math.round((now() - outage.startedAt) / 1000);
      log.info(
        { refused: outage.total, seconds },
        `store available again after ${seconds} s; ${outage.total} requests were refused meanwhile`,
      );
      outage = undefined;
    },
  };
}
