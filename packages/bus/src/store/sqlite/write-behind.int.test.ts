import Database from "better-sqlite3";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../server.js";
import { createTestStoreUrl, type TestStoreUrl } from "../../testing/test-stores.js";

/** Polls `check` every 25 ms until it holds; fails after `timeoutMs` naming `what`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000) {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("subscription state written behind to the SQLite file", () => {
  let location: TestStoreUrl;
  let server: RunningServer;
  let lines: { level: number; msg: string }[];

  beforeEach(async () => {
    location = await createTestStoreUrl("sqlite");
    lines = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    server = await startServer({ store: location.url, port: 0, logger, push: false });
  });

  afterEach(async () => {
    await server.close();
    await location.cleanup();
  });

  const post = (path: string, body: unknown, method = "POST") =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("logs and counts a write that failed, which nobody waited for", async () => {
    // Given a subscription with an event to deliver
    expect((await post("/v1/subscriptions/audit", { topic: "users" }, "PUT")).status).toBe(201);
    expect((await post("/v1/topics/users/events", { type: "UserCreated", key: "user-1" })).status).toBe(201);
    // and a file that refuses every update of subscription partitions from now on
    const path = location.url.slice("sqlite:".length);
    const saboteur = new Database(path);
    saboteur.exec(`CREATE TRIGGER refuse_partition_updates BEFORE UPDATE ON subscription_partitions
      BEGIN SELECT RAISE(ABORT, 'the disk is failing'); END`);
    saboteur.close();
    // When a consumer polls (its lease and cursor are written behind)
    const polled = await post("/v1/subscriptions/audit/poll", { consumer: "c1", wait: 0 });
    expect(polled.status).toBe(200);
    expect(((await polled.json()) as { events: unknown[] }).events).toHaveLength(1);
    // Then the failed write is logged once, as an error
    await eventually("the failed write to be logged", () =>
      lines.some((line) => line.msg.includes("subscription state could not be written")),
    );
    const logged = lines.filter((line) => line.msg.includes("subscription state could not be written"));
    expect(logged).toHaveLength(1);
    expect(logged[0]?.level).toBe(50);
    // and counted in the metrics
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^tributary_subscription_write_failures_total 1$/m);
  });
});
