import type { BackoffPolicy, BreakerStatus } from "@tributary/protocol";
import { deferred } from "./pause.js";

/** Consecutive failed POSTs that open a closed breaker (docs/subscriptions.md). */
export const breakerThreshold = 5;

/**
 * What a push loop may do now: send batches as usual, send the one probe batch of a half-open
 * breaker, or wait (at most `ms`, or until the breaker changes).
 */
export type BreakerPermit = { kind: "send" } | { kind: "probe" } | { kind: "wait"; ms: number };

/** How long a breaker whose probe is taken lets the others wait before they ask again. */
const probeRecheckMs = 1_000;

/**
 * The circuit breaker of one push endpoint in this bus process, shared by every subscription that
 * POSTs to it.
 *
 * Closed: batches go out; `breakerThreshold` failures in a row open it. Open: nothing is sent for
 * the backoff's current delay, `initialMs · 2^(failures − 1)` capped at `maxMs` (no jitter), taken
 * from the subscription whose failure opened it. Once that delay has passed, the first loop to ask
 * gets the probe (half-open) and sends one batch of one event while the others wait: a success
 * closes the breaker (failures back to 0); a failure opens it again for a longer delay.
 *
 * Results of POSTs that were already under way when the breaker opened still count: a success
 * closes it (the endpoint answered), a failure adds to the count without extending the delay.
 */
export class CircuitBreaker {
  #state: BreakerStatus["state"] = "closed";
  #failures = 0;
  #openedAt: number | null = null;
  #openUntil = 0;
  #isProbeTaken = false;
  #changed = deferred();
  readonly #now: () => number;
  readonly #onChange: ((state: BreakerStatus["state"]) => void) | undefined;

  /** `onChange` hears every change of state; `now` is the clock (tests). */
  constructor(options: { onChange?: (state: BreakerStatus["state"]) => void; now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange;
  }

  /** Asks to send. A `probe` permit must end in `succeeded`, `failed` or `releaseProbe`. */
  permit(): BreakerPermit {
    if (this.#state === "closed") return { kind: "send" };
    if (this.#state === "open") {
      const remaining = this.#openUntil - this.#now();
      if (remaining > 0) return { kind: "wait", ms: remaining };
      this.#transition("half-open");
    }
    if (this.#isProbeTaken) return { kind: "wait", ms: probeRecheckMs };
    this.#isProbeTaken = true;
    return { kind: "probe" };
  }

  /**
   * Whether a batch polled under `permit` may still be POSTed now: a probe always (it holds the
   * half-open breaker), any other batch only while the breaker is closed.
   */
  isSendAllowed(permit: BreakerPermit): boolean {
    return permit.kind === "probe" || this.#state === "closed";
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openedAt = null;
    this.#isProbeTaken = false;
    if (this.#state !== "closed") this.#transition("closed");
  }

  /**
   * Counts a failed POST sent under `permit`; `backoff` sets the open delay when this failure opens
   * the breaker (the probe's failure, or the threshold's while closed).
   */
  failed(backoff: BackoffPolicy, permit: BreakerPermit): void {
    this.#failures++;
    const isProbe = permit.kind === "probe" && this.#state === "half-open";
    if (isProbe || (this.#state === "closed" && this.#failures >= breakerThreshold)) {
      const exponent = Math.min(Math.max(this.#failures - 1, 0), 30);
      const now = this.#now();
      this.#openedAt = now;
      this.#openUntil = now + Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
      this.#isProbeTaken = false;
      this.#transition("open");
    }
  }

  /** Gives the probe back without a verdict (nothing to send, or the loop stopped). */
  releaseProbe(): void {
    if (!this.#isProbeTaken) return;
    this.#isProbeTaken = false;
    this.#resolveChanged();
  }

  /** Resolves on the next change of state or of the probe: waiting loops ask again then. */
  changed(): Promise<void> {
    return this.#changed.promise;
  }

  status(): BreakerStatus {
    return {
      state: this.#state,
      failures: this.#failures,
      openedAt: this.#openedAt === null ? null : new Date(this.#openedAt).toISOString(),
    };
  }

  #transition(state: BreakerStatus["state"]): void {
    this.#state = state;
    this.#resolveChanged();
    this.#onChange?.(state);
  }

  #resolveChanged(): void {
    this.#changed.resolve();
    this.#changed = deferred();
  }
}

/**
 * The endpoint a breaker guards: origin and path of the URL, so that subscriptions differing only
 * in a query string share one breaker.
 */
export function endpointOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
