import { type RunningServer, startServer } from "@tributary/bus";
import { createTestStoreUrl, type TestStoreUrl } from "@tributary/bus/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, type TributaryClient } from "./client.js";
import type { Consumer } from "./consumer.js";
import type { ConsumerErrorContext } from "./consumer-options.js";
import type { DeliveredEvent } from "./index.js";

/** Polls `check` every 25 ms until it holds; fails after `timeoutMs` naming `what`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("client.subscribe against a bus on sqlite", () => {
  let location: TestStoreUrl;
  let server: RunningServer;
  let client: TributaryClient;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    location = await createTestStoreUrl("sqlite");
    server = await startServer({ store: location.url, port: 0, logger: false });
    client = createClient({ url: server.url });
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  it("stops gracefully: the running handler finishes and is acked, the rest goes to the other instance", async () => {
    // Given 40 user events on 2 partitions and two instances, the first one slow
    await client.putTopic("users", { partitions: 2 });
    await client.append(
      "users",
      Array.from({ length: 40 }, (_, index) => ({
        type: "UserRenamed",
        key: `user-${index % 8}`,
        data: { index },
      })),
    );
    const settings = { topic: "users", start: "earliest" as const, wait: 200, max: 10, onError: () => {} };
    const slowLog: string[] = [];
    const fastLog: string[] = [];
    let isSlowStopped = false;
    let handledAfterStop = 0;
    const slow = await client.subscribe("profiles", { ...settings, consumer: "slow" }, async (event) => {
      await sleep(20);
      if (isSlowStopped) handledAfterStop += 1;
      slowLog.push(event.id);
    });
    consumers.push(slow);
    await eventually("the slow instance to start", () => slowLog.length >= 2);
    const fast = await client.subscribe("profiles", { ...settings, consumer: "fast" }, async (event) => {
      fastLog.push(event.id);
    });
    consumers.push(fast);

    // When the slow instance stops in the middle of its work
    await slow.stop();
    isSlowStopped = true;
    await slow.stopped;
    // Then it left at once
    expect((await client.getSubscription("profiles")).consumers.map((consumer) => consumer.id)).not.toContain(
      "slow",
    );

    // and the other instance handles everything else, none of it twice
    await eventually(
      "the fast instance to catch up",
      async () => (await client.getSubscription("profiles")).lag === 0,
    );
    await fast.stop();
    expect(handledAfterStop).toBe(0);
    expect(slowLog.filter((id) => fastLog.includes(id))).toEqual([]);
    expect(new Set([...slowLog, ...fastLog]).size).toBe(40);
    expect(slowLog.length + fastLog.length).toBe(40);
    // and no instance holds a lease any more; stopping again is a no-op
    expect((await client.getSubscription("profiles")).consumers).toEqual([]);
    await slow.stop();
  });

  it("nacks a failing event and handles its partition again from it, in order", async () => {
    // Given a one-partition topic with five versions of one user, and a handler failing once on v3
    await client.putTopic("organizations", { partitions: 1 });
    await client.append(
      "organizations",
      Array.from({ length: 5 }, (_, index) => ({
        type: "OrganizationRenamed",
        key: "org-acme",
        data: { index },
      })),
    );
    const seen: Array<[number, number]> = [];
    const errors: ConsumerErrorContext[] = [];
    let hasFailed = false;
    const consumer = await client.subscribe(
      "org-directory",
      {
        topic: "organizations",
        start: "earliest",
        wait: 200,
        retryBackoff: () => 10,
        onError: (_, context) => errors.push(context),
      },
      async (event: DeliveredEvent) => {
        seen.push([event.version as number, event.attempt]);
        if (event.version === 3 && !hasFailed) {
          hasFailed = true;
          throw new Error("directory unavailable");
        }
      },
    );
    consumers.push(consumer);
    // When it has run until the subscription caught up
    await eventually(
      "every version to be handled",
      () => seen.filter(([version]) => version === 5).length > 0,
    );
    await eventually("the acks", async () => (await client.getSubscription("org-directory")).lag === 0);
    // Then v3 was handled twice, v4 and v5 only after its retry, and the failure was reported
    expect(seen).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [3, 2],
      [4, expect.any(Number)],
      [5, expect.any(Number)],
    ]);
    expect(errors).toEqual([expect.objectContaining({ operation: "handler" })]);
  });

  it("settles `stopped` with the error when the subscription is deleted under it", async () => {
    // Given a running consumer
    const errors: string[] = [];
    const consumer = await client.subscribe(
      "doomed",
      { topic: "organizations", wait: 100, onError: (_, context) => errors.push(context.operation) },
      async () => {},
    );
    consumers.push(consumer);
    // When its subscription is deleted
    await client.deleteSubscription("doomed");
    // Then the loop ends with subscription-not-found instead of retrying forever
    await expect(consumer.stopped).rejects.toMatchObject({ code: "subscription-not-found" });
    expect(errors).toContain("poll");
    await consumer.stop();
  });

  it("refuses an invalid consumer id before any request", async () => {
    await expect(
      client.subscribe("profiles", { topic: "users", consumer: "has spaces" }, async () => {}),
    ).rejects.toThrow(TypeError);
  });
});
