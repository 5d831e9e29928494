import { describe, expect, it } from "vitest";
import { breakerThreshold, CircuitBreaker, endpointOf } from "./circuit-breaker.js";

const backoff = { initialMs: 10, maxMs: 200 };
const send = { kind: "send" } as const;

function breakerAt(start = 1_000) {
  const clock = { now: start };
  const changes: string[] = [];
  const breaker = new CircuitBreaker({ now: () => clock.now, onChange: (state) => changes.push(state) });
  return { breaker, clock, changes };
}

describe("circuit breaker", () => {
  it("opens after the threshold of failures in a row, for the backoff's current delay", () => {
    // Given a closed breaker
    const { breaker, clock } = breakerAt();
    // When one fewer failure than the threshold happens, then a success, then the threshold
    for (let n = 1; n < breakerThreshold; n++) breaker.failed(backoff, send);
    expect(breaker.status()).toMatchObject({ state: "closed", failures: breakerThreshold - 1 });
    breaker.succeeded();
    for (let n = 1; n <= breakerThreshold; n++) breaker.failed(backoff, send);
    // Then it opens for 10 · 2^4 = 160 ms and asks loops to wait that long
    expect(breaker.status()).toEqual({
      state: "open",
      failures: breakerThreshold,
      openedAt: new Date(clock.now).toISOString(),
    });
    expect(breaker.permit()).toEqual({ kind: "wait", ms: 160 });
    clock.now += 100;
    expect(breaker.permit()).toEqual({ kind: "wait", ms: 60 });
  });

  it("lets one probe through when the delay is over; a success closes it", () => {
    const { breaker, clock, changes } = breakerAt();
    for (let n = 1; n <= breakerThreshold; n++) breaker.failed(backoff, send);
    clock.now += 160;
    // When two loops ask after the delay
    const first = breaker.permit();
    const second = breaker.permit();
    // Then only the first gets the probe; a batch polled before the breaker opened may not go out
    expect(first).toEqual({ kind: "probe" });
    expect(second.kind).toBe("wait");
    expect(breaker.status().state).toBe("half-open");
    expect(breaker.isSendAllowed(first)).toBe(true);
    expect(breaker.isSendAllowed(send)).toBe(false);
    // and a late failure of a batch sent before the breaker opened does not reopen it
    breaker.failed(backoff, send);
    expect(breaker.status().state).toBe("half-open");
    // When the probe succeeds
    breaker.succeeded();
    // Then the breaker is closed with its count reset
    expect(breaker.status()).toEqual({ state: "closed", failures: 0, openedAt: null });
    expect(breaker.permit()).toEqual(send);
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });

  it("opens again for longer when the probe fails, up to the backoff's maximum", () => {
    const { breaker, clock } = breakerAt();
    for (let n = 1; n <= breakerThreshold; n++) breaker.failed(backoff, send);
    const delays: number[] = [];
    for (let round = 0; round < 3; round++) {
      const wait = breaker.permit();
      if (wait.kind !== "wait") throw new Error("expected to wait");
      delays.push(wait.ms);
      clock.now += wait.ms;
      const probe = breaker.permit();
      expect(probe).toEqual({ kind: "probe" });
      breaker.failed(backoff, probe);
    }
    // 10 · 2^4, then capped at 200
    expect(delays).toEqual([160, 200, 200]);
    expect(breaker.status()).toMatchObject({ state: "open", failures: breakerThreshold + 3 });
  });

  it("gives the probe to the next loop when it was released without a verdict", async () => {
    const { breaker, clock } = breakerAt();
    for (let n = 1; n <= breakerThreshold; n++) breaker.failed(backoff, send);
    clock.now += 160;
    expect(breaker.permit()).toEqual({ kind: "probe" });
    const changed = breaker.changed();
    breaker.releaseProbe();
    await changed;
    expect(breaker.permit()).toEqual({ kind: "probe" });
  });

  it("guards one endpoint per origin and path", () => {
    expect(endpointOf("http://svc:8080/hooks/users?token=a")).toBe("http://svc:8080/hooks/users");
    expect(endpointOf("http://svc:8080/hooks/users?token=b")).toBe("http://svc:8080/hooks/users");
  });
});
