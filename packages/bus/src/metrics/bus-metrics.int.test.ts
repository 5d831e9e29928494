import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createApp } from "../http/app.js";
import { createTestStore, type TestStore } from "../testing/test-stores.js";
import { createMetrics } from "./bus-metrics.js";

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

describe("Prometheus metrics on sqlite", () => {
  let testStore: TestStore;
  let bus: Bus;

  beforeAll(async () => {
    testStore = await createTestStore("sqlite");
  });

  afterAll(async () => {
    await bus.close();
    await testStore.cleanup();
  });

  it("counts appends, commits, deliveries, redeliveries and dead letters, and reports lag", async () => {
    // Given a bus with metrics and a subscription with one attempt
    const metrics = createMetrics({ processMetrics: false });
    bus = createBus({
      store: testStore.store,
      appendObserver: metrics.appendObserver,
      deliveryObserver: metrics.deliveryObserver,
    });
    metrics.watch(bus);
    const app = createApp({ bus, metrics });
    await bus.subscriptions.put("audit", {
      topic: "users",
      start: "earliest",
      maxAttempts: 2,
      backoff: { initialMs: 0, maxMs: 0 },
    });
    // When 3 events are appended, one is replayed, and the consumer fails one event twice
    const appended = await bus.append("users", [
      { id: "e1", type: "UserCreated", key: "a", data: {} },
      { id: "e2", type: "UserCreated", key: "a", data: {} },
      { id: "e3", type: "UserCreated", key: "b", data: {} },
    ]);
    await bus.append("users", [{ id: "e1", type: "UserCreated", key: "a", data: {} }]);
    const first = await bus.subscriptions.poll("audit", { consumer: "c1", max: 10, waitMs: 0 });
    await bus.subscriptions.nack("audit", "c1", ["e3"], { error: "nope" });
    const second = await bus.subscriptions.poll("audit", { consumer: "c1", max: 10, waitMs: 0 });
    await bus.subscriptions.nack("audit", "c1", ["e3"], { error: "nope" });
    // Then /metrics says so
    const response = await app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    const text = response.body;
    expect(appended.events).toHaveLength(3);
    expect(sample(text, "tributary_append_requests_total", 'topic="users",replayed="false"')).toBe(1);
    expect(sample(text, "tributary_append_requests_total", 'topic="users",replayed="true"')).toBe(1);
    expect(sample(text, "tributary_appended_events_total", 'topic="users"')).toBe(4);
    expect(text).toMatch(/tributary_commit_duration_seconds_count 2/);
    const delivered = first.events.length + second.events.length;
    expect(sample(text, "tributary_deliveries_total", 'subscription="audit"')).toBe(delivered);
    expect(sample(text, "tributary_redeliveries_total", 'subscription="audit"')).toBe(second.events.length);
    expect(sample(text, "tributary_dead_letters_total", 'subscription="audit"')).toBe(1);
    const partitionOfE1 = appended.events[0]?.partition;
    expect(
      sample(
        text,
        "tributary_subscription_lag",
        `subscription="audit",topic="users",partition="${partitionOfE1}"`,
      ),
    ).toBe(2);
    await app.close();
  });
});
