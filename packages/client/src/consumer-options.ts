import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type DeliveredEvent,
  isValidConsumerId,
  type SubscriptionSettings,
  TributaryError,
} from "@tributary/protocol";
import type { SubscriptionCalls } from "./subscription-calls.js";

/** What the consumer was doing when an error happened, for `onError`. */
export type ConsumerOperation = "handler" | "retryBackoff" | "poll" | "ack" | "nack" | "heartbeat" | "leave";

export interface ConsumerErrorContext {
  operation: ConsumerOperation;
  /** The event being handled, acked or nacked, when there is one. */
  event?: DeliveredEvent;
}

/** How a consumer instance runs, whether or not it ensures the subscription. */
export interface ConsumerSettings {
  /** This instance's id: `[A-Za-z0-9._:-]{1,128}`, default `<hostname>-<pid>-<random>`. */
  consumer?: string;
  /** Events per poll at most (server default 100). Pick it so one batch is handled within `ackTimeoutMs`. */
  max?: number;
  /** Long-poll wait in milliseconds when no event is ready (default 5,000). */
  wait?: number;
  /** Heartbeat interval while no poll, ack or nack keeps the instance live (default: a third of `leaseMs`). */
  heartbeatMs?: number;
  /**
   * Called with every error the consumer keeps running through: a handler's throw, a failed poll
   * that is retried, an ack of a delivery no longer held. Default: `console.warn`.
   */
  onError?: (error: unknown, context: ConsumerErrorContext) => void;
}

/**
 * Options shared by `subscribe` and `consume`: the subscription's settings, `PUT` before the first
 * poll (creating it, or updating its delivery settings in place), unless `ensure: false`, when the
 * subscription must exist and only its `leaseMs` and `ackTimeoutMs` are read.
 */
export type ConsumeOptions = ConsumerSettings &
  ((SubscriptionSettings & { ensure?: true }) | { ensure: false });

/** A fresh consumer instance id: host, process and a random suffix, so restarts never reuse one. */
export function defaultConsumerId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._:-]/g, "-")
      .slice(0, 64) || "host";
  return `${host}-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/** The consumer id to use, checked against the protocol's rule so that a typo fails at once. */
export function resolveConsumerId(consumer: string | undefined): string {
  const id = consumer ?? defaultConsumerId();
  if (!isValidConsumerId(id)) {
    throw new TypeError(`invalid consumer id ${JSON.stringify(id)}: expected [A-Za-z0-9._:-]{1,128}`);
  }
  return id;
}

const consumerOnlyKeys = new Set([
  "ensure",
  "consumer",
  "max",
  "wait",
  "heartbeatMs",
  "onError",
  "concurrency",
  "retryBackoff",
]);

/** The `PUT` body: the options minus what only the SDK's consumer uses. */
export function subscriptionSettings(options: object): SubscriptionSettings {
  return Object.fromEntries(
    Object.entries(options).filter(
      ([key, value]) => !consumerOnlyKeys.has(key) && typeof value !== "function" && value !== undefined,
    ),
  ) as unknown as SubscriptionSettings;
}

/** Ensures (or reads) the subscription; its lease sets the heartbeat pace, its ack timeout the ack pace. */
export async function prepareSubscription(
  calls: SubscriptionCalls,
  name: string,
  options: ConsumeOptions,
): Promise<{ leaseMs: number; ackTimeoutMs: number }> {
  const info =
    options.ensure === false
      ? await calls.getSubscription(name)
      : await calls.putSubscription(name, subscriptionSettings(options));
  return { leaseMs: info.leaseMs, ackTimeoutMs: info.ackTimeoutMs };
}

/**
 * Errors the consumer cannot get past by retrying: the bus refused the request itself (4xx other
 * than a retriable one), e.g. the subscription was deleted or the key was revoked.
 */
export function isFatalConsumerError(error: unknown): boolean {
  return error instanceof TributaryError && !error.retriable && error.status >= 400 && error.status < 500;
}

/** Exponential backoff with jitter for a failing poll: 200 ms doubling up to 10 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(200 * 2 ** Math.max(0, failures - 1), 10_000) * (0.5 + Math.random() / 2);
}

/** The `onError` used when none is given: one warning line per error, with the operation and event. */
export function defaultOnError(error: unknown, context: ConsumerErrorContext): void {
  const message = error instanceof Error ? error.message : String(error);
  const event = context.event === undefined ? "" : ` (event ${context.event.id})`;
  console.warn(`tributary consumer: ${context.operation} failed${event}: ${message}`);
}

/** Resolves after `ms`, or at once when `signal` aborts; the timer never outlives either. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Heartbeats on a timer whenever nothing else (a poll, ack or nack) reached the bus for
 * `intervalMs`, so the instance keeps its leases while handlers run. `touch()` records such contact.
 */
export function createHeartbeat(intervalMs: number, beat: () => Promise<unknown>) {
  let lastContact = Date.now();
  let isBeating = false;
  const timer = setInterval(
    () => {
      if (isBeating || Date.now() - lastContact < intervalMs) return;
      isBeating = true;
      // A failed beat leaves `lastContact` as it was, so the next tick tries again.
      void beat()
        .then(
          () => {
            lastContact = Date.now();
          },
          () => {},
        )
        .finally(() => {
          isBeating = false;
        });
    },
    Math.max(10, Math.floor(intervalMs / 2)),
  );
  // A consumer that waits on nothing else must not keep the process alive by its heartbeat alone.
  timer.unref();
  return {
    touch() {
      lastContact = Date.now();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
