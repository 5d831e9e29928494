import { describe, expect, it } from "vitest";
import { clientBucket, createFailureLimiter, createRateLimiter } from "./rate-limiter.js";

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

describe("failed-authentication limiter", () => {
  it("lets an address fail its burst at once, then at the rate, and gives back the tokens of successes", () => {
    // Given a burst of 3 and 2 failures a second
    const limiter = createFailureLimiter({ burst: 3, perSecond: 2 });
    // When one address fails 3 times at once
    for (let attempt = 0; attempt < 3; attempt++) expect(limiter.take("10.0.0.1", 0)).toEqual({ ok: true });
    // Then the 4th waits for half a second, while another address does not
    expect(limiter.take("10.0.0.1", 0)).toEqual({ ok: false, retryAfterMs: 500 });
    expect(limiter.take("10.0.0.2", 0)).toEqual({ ok: true });
    expect(limiter.take("10.0.0.1", 500)).toEqual({ ok: true });
    // And a token given back is there at once
    limiter.giveBack("10.0.0.1", 500);
    expect(limiter.take("10.0.0.1", 500)).toEqual({ ok: true });
    expect(limiter.take("10.0.0.1", 500)).toMatchObject({ ok: false });
  });

  it("counts an IPv6 /64 as one address, and an IPv4 address mapped into IPv6 as itself", () => {
    const limiter = createFailureLimiter({ burst: 1, perSecond: 1 });
    expect(limiter.take("2001:db8:1:2::1", 0)).toEqual({ ok: true });
    expect(limiter.take("2001:db8:1:2:ffff:ffff:ffff:ffff", 0)).toMatchObject({ ok: false });
    expect(limiter.take("2001:db8:1:3::1", 0)).toEqual({ ok: true });
    expect(limiter.take("192.0.2.7", 0)).toEqual({ ok: true });
    expect(limiter.take("::ffff:192.0.2.7", 0)).toMatchObject({ ok: false });
    expect(clientBucket("2001:0db8:0001:0002:0000:0000:0000:0001")).toBe("2001:db8:1:2::/64");
    expect(clientBucket("::1")).toBe("0:0:0:0::/64");
    expect(clientBucket("fe80::1")).toBe("fe80:0:0:0::/64");
  });

  it("is off with a burst or a rate of 0", () => {
    const limiter = createFailureLimiter({ burst: 0, perSecond: 2 });
    for (let attempt = 0; attempt < 100; attempt++) expect(limiter.take("10.0.0.1", 0)).toEqual({ ok: true });
  });
});
