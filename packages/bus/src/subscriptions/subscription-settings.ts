import {
  type DeliveryMode,
  type StartPosition,
  type SubscriptionInfo,
  type SubscriptionSettings,
  TributaryError,
} from "@tributary/protocol";
import { canonicalJson } from "../append/canonical-json.js";

/** The defaults of a subscription's settings (docs/subscriptions.md). */
export const subscriptionDefaults = {
  start: "latest" as StartPosition,
  maxAttempts: 5,
  backoff: { initialMs: 500, maxMs: 60_000 },
  onFailure: "dead-letter" as const,
  ackTimeoutMs: 30_000,
  leaseMs: 10_000,
  pushBatchSize: 100,
  pushTimeoutMs: 10_000,
};

function normalizeDelivery(delivery: DeliveryMode | undefined): DeliveryMode {
  if (delivery === undefined || delivery.mode === "pull") return { mode: "pull" };
  let url: URL;
  try {
    url = new URL(delivery.url);
  } catch {
    url = new URL("invalid:");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TributaryError("invalid-request", {
      message: "delivery.url must be an http or https URL",
      details: { errors: [{ pointer: "/delivery/url", message: "must be an http or https URL" }] },
    });
  }
  return {
    mode: "push",
    url: url.href,
    batchSize: delivery.batchSize ?? subscriptionDefaults.pushBatchSize,
    timeoutMs: delivery.timeoutMs ?? subscriptionDefaults.pushTimeoutMs,
  };
}

/**
 * Fills in the defaults of `settings`. Types are de-duplicated and sorted so that two requests
 * naming the same set compare equal.
 */
export function normalizeSubscription(
  name: string,
  settings: SubscriptionSettings,
  createdAt: string,
): SubscriptionInfo {
  const backoff = {
    initialMs: settings.backoff?.initialMs ?? subscriptionDefaults.backoff.initialMs,
    maxMs: settings.backoff?.maxMs ?? subscriptionDefaults.backoff.maxMs,
  };
  if (backoff.maxMs < backoff.initialMs) {
    throw new TributaryError("invalid-request", {
      message: "backoff.maxMs must not be below backoff.initialMs",
      details: { errors: [{ pointer: "/backoff/maxMs", message: "must be at least backoff.initialMs" }] },
    });
  }
  const ackTimeoutMs = settings.ackTimeoutMs ?? subscriptionDefaults.ackTimeoutMs;
  const delivery = normalizeDelivery(settings.delivery);
  if (delivery.mode === "push" && (delivery.timeoutMs ?? 0) >= ackTimeoutMs) {
    // Otherwise the ack timeout could deliver a batch again while its POST is still running.
    throw new TributaryError("invalid-request", {
      message: "delivery.timeoutMs must be below ackTimeoutMs",
      details: { errors: [{ pointer: "/delivery/timeoutMs", message: "must be below ackTimeoutMs" }] },
    });
  }
  const types =
    settings.types === undefined || settings.types === null ? null : [...new Set(settings.types)].sort();
  return {
    name,
    topic: settings.topic,
    types,
    start: settings.start ?? subscriptionDefaults.start,
    delivery,
    maxAttempts: settings.maxAttempts ?? subscriptionDefaults.maxAttempts,
    backoff,
    onFailure: settings.onFailure ?? subscriptionDefaults.onFailure,
    ackTimeoutMs,
    leaseMs: settings.leaseMs ?? subscriptionDefaults.leaseMs,
    createdAt,
  };
}

function sameStart(a: StartPosition, b: StartPosition): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if ("time" in a && "time" in b) return Date.parse(a.time) === Date.parse(b.time);
  if ("position" in a && "position" in b) return a.position === b.position;
  return false;
}

/**
 * Merges a PUT into an existing subscription: everything but the topic and the start position may
 * change in place. Returns the existing definition itself when nothing changes.
 */
export function mergeSubscription(existing: SubscriptionInfo, wanted: SubscriptionInfo): SubscriptionInfo {
  if (wanted.topic !== existing.topic || !sameStart(wanted.start, existing.start)) {
    throw new TributaryError("subscription-conflict", {
      message: `Subscription "${existing.name}" reads ${existing.topic} from ${JSON.stringify(existing.start)}; use reset to move it`,
      details: { subscription: existing.name, topic: existing.topic, start: existing.start },
    });
  }
  const merged = { ...wanted, start: existing.start, createdAt: existing.createdAt };
  return canonicalJson(merged) === canonicalJson(existing) ? existing : merged;
}
