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

/** Buckets kept at most; a full map starts over (every principal then starts with a full bucket). */
const maxBuckets = 100_000;

/**
 * Token buckets per principal for appends (events/s and bytes/s), holding one second of each at
 * most: a principal may burst a second's worth, then goes at the rate.
 */
export function createRateLimiter(limits: RateLimits): RateLimiter {
  const eventRate = limits.eventsPerSecond > 0 ? limits.eventsPerSecond : Number.POSITIVE_INFINITY;
  const byteRate = limits.bytesPerSecond > 0 ? limits.bytesPerSecond : Number.POSITIVE_INFINITY;
  let buckets = new Map<string, Bucket>();
  return {
    take(principal, events, bytes, now = performance.now()) {
      let bucket = buckets.get(principal);
      if (bucket === undefined) {
        if (buckets.size >= maxBuckets) buckets = new Map();
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
