import { describe, expect, it } from "vitest";
import { createRateLimiter } from "./rate-limiter.js";

describe("append rate limiter", () => {
  it("lets a second's worth through, then refuses until the debt is paid back", () => {
    // Given 100 events/s and 1000 bytes/s
    const limiter = createRateLimiter({ eventsPerSecond: 100, bytesPerSecond: 1000 });
    // When a principal sends 60 + 60 events at once
    expect(limiter.take("a", 60, 10, 0)).toEqual({ ok: true });
    expect(limiter.take("a", 60, 10, 0)).toEqual({ ok: true });
    // Then it is 20 events in debt: refused for 200 ms, while another principal is not
    expect(limiter.take("a", 1, 1, 0)).toEqual({ ok: false, retryAfterMs: 200 });
    expect(limiter.take("b", 1, 1, 0)).toEqual({ ok: true });
    expect(limiter.take("a", 1, 1, 199)).toMatchObject({ ok: false });
    expect(limiter.take("a", 1, 1, 200)).toEqual({ ok: true });
  });

  it("limits bytes on their own, and lets one oversized request go rather than never", () => {
    const limiter = createRateLimiter({ eventsPerSecond: 0, bytesPerSecond: 1000 });
    expect(limiter.take("a", 1, 5000, 0)).toEqual({ ok: true });
    expect(limiter.take("a", 1, 1, 1000)).toEqual({ ok: false, retryAfterMs: 3000 });
    expect(limiter.take("a", 1, 1, 4000)).toEqual({ ok: true });
  });
});
