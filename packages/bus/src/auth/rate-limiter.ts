import { LruCache } from "./lru-cache.js";

/** Append rates per principal; 0 (or Infinity) turns a limit off. */
export interface RateLimits {
  eventsPerSecond: number;
  bytesPerSecond: number;
}

export const defaultRateLimits: RateLimits = { eventsPerSecond: 20_000, bytesPerSecond: 20 * 1024 * 1024 };

export interface RateLimiter {
  /**
   * Takes `events` and `bytes` from the principal's buckets. Admitted while neither bucket is in
   * debt; a request larger than a whole second's allowance still goes (it leaves the bucket in debt
   * for the next ones) so big batches are never refused for ever. Refused: the milliseconds until
   * the debt is paid back.
   */
  take(
    principal: string,
    events: number,
    bytes: number,
    now?: number,
  ): { ok: true } | { ok: false; retryAfterMs: number };
}

interface Bucket {
  events: number;
  bytes: number;
  at: number;
}

/** Buckets kept at most; past it the least recently used is forgotten (a full bucket again). */
const maxBuckets = 100_000;

/**
 * Token buckets per principal for appends (events/s and bytes/s), holding one second of each at
 * most: a principal may burst a second's worth, then goes at the rate.
 */
export function createRateLimiter(limits: RateLimits): RateLimiter {
  const eventRate = limits.eventsPerSecond > 0 ? limits.eventsPerSecond : Number.POSITIVE_INFINITY;
  const byteRate = limits.bytesPerSecond > 0 ? limits.bytesPerSecond : Number.POSITIVE_INFINITY;
  const buckets = new LruCache<string, Bucket>(maxBuckets);
  return {
    take(principal, events, bytes, now = performance.now()) {
      let bucket = buckets.get(principal);
      if (bucket === undefined) {
        bucket = { events: eventRate, bytes: byteRate, at: now };
        buckets.set(principal, bucket);
      }
      const elapsed = Math.max(0, now - bucket.at) / 1000;
      bucket.events = Math.min(eventRate, bucket.events + elapsed * eventRate);
      bucket.bytes = Math.min(byteRate, bucket.bytes + elapsed * byteRate);
      bucket.at = now;
      if (bucket.events < 0 || bucket.bytes < 0) {
        const wait = Math.max(
          bucket.events < 0 ? -bucket.events / eventRate : 0,
          bucket.bytes < 0 ? -bucket.bytes / byteRate : 0,
        );
        return { ok: false, retryAfterMs: Math.ceil(wait * 1000) };
      }
      bucket.events -= events;
      bucket.bytes -= bytes;
      return { ok: true };
    },
  };
}

/** The budget of failed authentications of one client address. */
export interface FailureLimits {
  /** Failures an address may have at once: the bucket's size. */
  burst: number;
  /** Failures per second an address gets back. 0 here or in `burst` turns the limit off. */
  perSecond: number;
}

export const defaultFailureLimits: FailureLimits = { burst: 20, perSecond: 2 };

export interface FailureLimiter {
  /**
   * Takes a token for an attempt that may fail, before it costs anything: refused, the
   * milliseconds until a token is back. Concurrent attempts each take their own, so an address
   * never has more than `burst` attempts under way beyond its rate.
   */
  take(client: string, now?: number): { ok: true } | { ok: false; retryAfterMs: number };
  /** Gives the token of an attempt back: it succeeded, or failed for a reason that was not the client's. */
  giveBack(client: string, now?: number): void;
}

/** Addresses tracked at most; past it the least recently seen is forgotten (a full bucket again). */
const maxClients = 100_000;

/**
 * The bucket an address counts against: an IPv4 address itself (also when mapped into IPv6), an
 * IPv6 address by its /64 network, since one host commonly holds a whole /64.
 */
export function clientBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1] as string;
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::", 2);
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const groups = address.includes("::")
    ? [
        ...headGroups,
        ...Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"),
        ...tailGroups,
      ]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/**
 * A token bucket per client address for failed authentications: an address may fail `burst` times
 * at once, then `perSecond` times a second. Buckets live in this process, at most 100,000 of them.
 */
export function createFailureLimiter(limits: FailureLimits): FailureLimiter {
  const isOff = !(limits.burst > 0 && limits.perSecond > 0);
  const rate = limits.perSecond;
  const buckets = new LruCache<string, { tokens: number; at: number }>(maxClients);
  const refill = (client: string, now: number) => {
    const key = clientBucket(client);
    const bucket = buckets.get(key) ?? { tokens: limits.burst, at: now };
    bucket.tokens = Math.min(limits.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * rate);
    bucket.at = now;
    buckets.set(key, bucket);
    return bucket;
  };
  return {
    take(client, now = performance.now()) {
      if (isOff) return { ok: true };
      const bucket = refill(client, now);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / rate) * 1000) };
    },
    giveBack(client, now = performance.now()) {
      if (isOff) return;
      const bucket = refill(client, now);
      bucket.tokens = Math.min(limits.burst, bucket.tokens + 1);
    },
  };
}
