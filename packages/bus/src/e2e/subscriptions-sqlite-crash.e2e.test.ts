import type { PollResponse, SubscriptionStatus } from "@tributary/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killSpawnedBuses, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";
import { request } from "./http.js";

/**
 * On SQLite, acknowledgements are written behind (a crash may forget the last ones): after a kill -9
 * nothing is lost — what the crash forgot is delivered again once the old consumer's lease ran out —
 * and after a graceful stop nothing is delivered again.
 */
describe("subscription checkpoints on sqlite across a kill -9 and a graceful restart", () => {
  let location: TestStoreUrl;

  beforeAll(async () => {
    location = await createTestStoreUrl("sqlite");
  });

  afterAll(async () => {
    killSpawnedBuses();
    await location.cleanup();
  });

  /** Polls and acknowledges as `consumer` until the subscription has nothing left to do. */
  async function drain(url: string, consumer: string, seen: Set<string>): Promise<number> {
    let delivered = 0;
    for (let round = 0; round < 200; round++) {
      const status = await request<SubscriptionStatus>(`${url}/v1/subscriptions/audit`);
      if (status.body.lag === 0) return delivered;
      const polled = await request<PollResponse>(`${url}/v1/subscriptions/audit/poll`, {
        body: { consumer, max: 100, wait: 300 },
      });
      if (polled.body.events.length === 0) continue;
      delivered += polled.body.events.length;
      const ids = polled.body.events.map((event) => event.id);
      for (const id of ids) seen.add(id);
      const ack = await request(`${url}/v1/subscriptions/audit/ack`, { body: { consumer, events: ids } });
      expect(ack.status).toBe(200);
    }
    throw new Error("the subscription did not drain in 200 rounds");
  }

  it("loses no event to a crash and delivers nothing again after a graceful stop", async () => {
    // Given 500 events and a subscription whose consumer acknowledged all of them
    const first = await spawnBus({ store: location.url });
    await request(`${first.url}/v1/subscriptions/audit`, {
      method: "PUT",
      body: { topic: "users", start: "earliest", leaseMs: 400, ackTimeoutMs: 800 },
    });
    const events = Array.from({ length: 500 }, (_, n) => ({
      type: "UserCreated",
      key: `user-${n % 7}`,
      data: { n },
    }));
    await request(`${first.url}/v1/topics/users/events`, { body: { events } });
    const seen = new Set<string>();
    await drain(first.url, "before-crash", seen);
    expect(seen.size).toBe(500);
    // When the bus is killed right after the last ack, and a new consumer starts on a new bus
    await first.kill();
    const second = await spawnBus({ store: location.url });
    const again = new Set<string>();
    await drain(second.url, "after-crash", again);
    // Then whatever the crash forgot was delivered again (after the old lease ran out), nothing is
    // missing, and the new consumer holds every partition
    expect(new Set([...seen, ...again]).size).toBe(500);
    const status = await request<SubscriptionStatus>(`${second.url}/v1/subscriptions/audit`);
    expect(status.body.lag).toBe(0);
    // When it stops gracefully and starts again, nothing is delivered again
    await second.stop();
    const third = await spawnBus({ store: location.url });
    const polled = await request<PollResponse>(`${third.url}/v1/subscriptions/audit/poll`, {
      body: { consumer: "after-restart", max: 100, wait: 1000 },
    });
    expect(polled.body.events).toEqual([]);
    expect((await request<SubscriptionStatus>(`${third.url}/v1/subscriptions/audit`)).body.lag).toBe(0);
    await third.stop();
  });
});
