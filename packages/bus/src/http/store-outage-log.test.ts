import { describe, expect, it } from "vitest";
import { createStoreOutageLog } from "./store-outage-log.js";

/** An outage log over a clock the test moves, recording `level: message` lines. */
function recordedOutageLog() {
  const lines: string[] = [];
  const details: object[] = [];
  const record = (level: string) => (detail: object, message: string) => {
    lines.push(`${level}: ${message}`);
    details.push(detail);
  };
  let clock = 1_000_000;
  const outage = createStoreOutageLog({
    log: { error: record("error"), warn: record("warn"), info: record("info") },
    now: () => clock,
  });
  const advance = (ms: number) => {
    clock += ms;
  };
  const refuse = (count: number) => {
    for (let index = 0; index < count; index += 1) outage.refused(new Error("connect ECONNREFUSED"));
  };
  return { outage, lines, details, advance, refuse };
}

describe("store outage log", () => {
  it("logs the first refusal, then one summary per interval, then the recovery", () => {
    // Given an outage log
    const { outage, lines, advance, refuse } = recordedOutageLog();
    // When 100 requests are refused at once, then 5 a second for 20 s
    refuse(100);
    for (let second = 1; second <= 20; second += 1) {
      advance(1_000);
      refuse(5);
    }
    // and then, 3 s later, a request is served
    advance(3_000);
    outage.served();
    // Then the log has four lines, not 200
    expect(lines).toEqual([
      "error: store unavailable: requests are refused with 503 until it answers again",
      "warn: store unavailable: 146 requests refused in the last 10 s",
      "warn: store unavailable: 50 requests refused in the last 10 s",
      "info: store available again after 23 s; 200 requests were refused meanwhile",
    ]);
  });

  it("logs the cause of the first refusal, and nothing for a request served outside an outage", () => {
    // Given an outage log
    const { outage, lines, details, refuse } = recordedOutageLog();
    // When a request is served, then one is refused
    outage.served();
    refuse(1);
    // Then only the refusal is logged, with its cause
    expect(lines).toHaveLength(1);
    expect(details[0]).toMatchObject({ code: "store-unavailable", err: { message: "connect ECONNREFUSED" } });
  });

  it("starts afresh after a recovery: the next outage is logged from its first refusal", () => {
    // Given an outage that ended
    const { outage, lines, advance, refuse } = recordedOutageLog();
    refuse(3);
    outage.served();
    // When the store goes away again
    advance(60_000);
    refuse(2);
    outage.served();
    // Then both outages are told in full
    expect(lines).toEqual([
      "error: store unavailable: requests are refused with 503 until it answers again",
      "info: store available again after 0 s; 3 requests were refused meanwhile",
      "error: store unavailable: requests are refused with 503 until it answers again",
      "info: store available again after 0 s; 2 requests were refused meanwhile",
    ]);
  });
});
