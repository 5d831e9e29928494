import { TributaryError } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import {
  defaultConsumerId,
  isFatalConsumerError,
  resolveConsumerId,
  retryDelayMs,
  subscriptionSettings,
} from "./consumer-options.js";
import { quoteTableName } from "./idempotent.js";

describe("consumer options", () => {
  it("sends only the subscription's settings in the PUT", () => {
    const settings = subscriptionSettings({
      topic: "users",
      types: ["UserRegistered"],
      leaseMs: 1_000,
      consumer: "profiles-1",
      max: 10,
      wait: 100,
      heartbeatMs: 300,
      concurrency: 2,
      retryBackoff: () => 5,
      onError: () => {},
      ensure: true,
      maxAttempts: undefined,
    });
    expect(settings).toEqual({ topic: "users", types: ["UserRegistered"], leaseMs: 1_000 });
  });

  it("makes default consumer ids that are valid and differ between instances", () => {
    const first = defaultConsumerId();
    expect(resolveConsumerId(first)).toBe(first);
    expect(first).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{8}$`));
    expect(defaultConsumerId()).not.toBe(first);
    expect(() => resolveConsumerId("two words")).toThrow(TypeError);
  });

  it("retries everything but a bus refusal", () => {
    expect(isFatalConsumerError(new TributaryError("subscription-not-found"))).toBe(true);
    expect(isFatalConsumerError(new TributaryError("store-unavailable"))).toBe(false);
    expect(isFatalConsumerError(new TypeError("fetch failed"))).toBe(false);
  });

  it("backs off exponentially with jitter, capped at 10 s", () => {
    for (const failures of [1, 2, 3, 10, 50]) {
      const cap = Math.min(200 * 2 ** (failures - 1), 10_000);
      const delay = retryDelayMs(failures);
      expect(delay).toBeGreaterThanOrEqual(cap / 2);
      expect(delay).toBeLessThanOrEqual(cap);
    }
  });

  it("quotes table names and refuses anything else", () => {
    expect(quoteTableName("processed_events")).toBe('"processed_events"');
    expect(quoteTableName("billing.processed_events")).toBe('"billing"."processed_events"');
    expect(() => quoteTableName('x"; DROP TABLE users; --')).toThrow(TypeError);
  });
});
