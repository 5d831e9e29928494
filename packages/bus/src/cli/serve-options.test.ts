import { describe, expect, it } from "vitest";
import { parseServeOptions } from "./serve-options.js";

describe("serve options", () => {
  it("defaults to the embedded store on loopback port 4700", () => {
    expect(parseServeOptions([], {})).toEqual({
      store: "sqlite:./data/tributary.db",
      host: "127.0.0.1",
      port: 4700,
      autoCreateTopics: true,
      defaultPartitions: 4,
      logLevel: "info",
      insecure: false,
      rateLimits: { eventsPerSecond: 20_000, bytesPerSecond: 20 * 1024 * 1024 },
      eventCacheBytes: 64 * 1024 * 1024,
      batchBytes: 4 * 1024 * 1024,
    });
  });

  it("takes the byte budgets of the event cache and of batches, from flags or the environment", () => {
    expect(parseServeOptions(["--event-cache-bytes", "0", "--batch-bytes", "65536"], {})).toMatchObject({
      eventCacheBytes: 0,
      batchBytes: 65_536,
    });
    expect(
      parseServeOptions([], { TRIBUTARY_EVENT_CACHE_BYTES: "1048576", TRIBUTARY_BATCH_BYTES: "1024" }),
    ).toMatchObject({ eventCacheBytes: 1_048_576, batchBytes: 1024 });
    expect(() => parseServeOptions(["--batch-bytes", "0"], {})).toThrow(
      /--batch-bytes must be a whole number/,
    );
    expect(() => parseServeOptions(["--event-cache-bytes", "64MiB"], {})).toThrow(
      /--event-cache-bytes must be a whole number/,
    );
  });

  it("takes --insecure and the rate limits", () => {
    expect(
      parseServeOptions(["--insecure", "--rate-events", "0", "--rate-bytes", "1000"], {
        TRIBUTARY_RATE_EVENTS: "5",
      }),
    ).toMatchObject({ insecure: true, rateLimits: { eventsPerSecond: 0, bytesPerSecond: 1000 } });
    expect(parseServeOptions([], { TRIBUTARY_INSECURE: "true", TRIBUTARY_RATE_EVENTS: "5" })).toMatchObject({
      insecure: true,
      rateLimits: { eventsPerSecond: 5 },
    });
  });

  it("takes the environment, and flags over the environment", () => {
    const env = {
      TRIBUTARY_PORT: "5000",
      TRIBUTARY_HOST: "0.0.0.0",
      TRIBUTARY_STORE: "postgres://db/x",
      TRIBUTARY_AUTO_CREATE: "false",
    };
    expect(parseServeOptions([], env)).toMatchObject({
      port: 5000,
      host: "0.0.0.0",
      store: "postgres://db/x",
      autoCreateTopics: false,
    });
    expect(
      parseServeOptions(["--port", "6000", "--no-auto-create"], { TRIBUTARY_PORT: "5000" }),
    ).toMatchObject({
      port: 6000,
      autoCreateTopics: false,
    });
  });

  it("takes an admin key from a file, or from TRIBUTARY_ADMIN_KEY, but not from both", () => {
    expect(parseServeOptions(["--admin-key-file", "/run/secrets/a"], {})).toMatchObject({
      adminKey: { file: "/run/secrets/a" },
    });
    expect(parseServeOptions([], { TRIBUTARY_ADMIN_KEY_FILE: "/run/secrets/b" })).toMatchObject({
      adminKey: { file: "/run/secrets/b" },
    });
    expect(parseServeOptions([], { TRIBUTARY_ADMIN_KEY: "trb_…" })).toMatchObject({
      adminKey: { env: "TRIBUTARY_ADMIN_KEY" },
    });
    expect(() =>
      parseServeOptions([], { TRIBUTARY_ADMIN_KEY: "trb_…", TRIBUTARY_ADMIN_KEY_FILE: "/run/secrets/b" }),
    ).toThrow("give the admin key in TRIBUTARY_ADMIN_KEY or in a file, not both");
  });

  it("refuses bad values and unknown flags with a clear message", () => {
    expect(() => parseServeOptions(["--port", "http"], {})).toThrow(/--port must be a whole number/);
    expect(() => parseServeOptions(["--prot", "1"], {})).toThrow(/Unknown option/);
    expect(parseServeOptions(["--help"], {})).toBe("help");
  });
});
