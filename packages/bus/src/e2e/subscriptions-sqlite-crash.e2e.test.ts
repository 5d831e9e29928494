import type { PollResponse, SubscriptionStatus } from "@tributary/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killSpawnedBuses, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";
import { request } from "./http.js";

/**
 * On SQLite, acknowledgements are written behind (a crash may forget the last ones): after a kill -9
 * nothing is lost — every event is delivered again or was acknowledged — and after a graceful stop
 * nothing is delivered again.
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

  async function drain(url: string, seen: Set<string>, acked: Set<string>): Promise<number> {
    let delivered = 0;
    for (let round = 0; round < 200; round++) {
      const polled = await request<PollResponse>(`${url}/v1/subscriptions/audit/poll`, {
        body: { consumer: "c1", max: 100 },
      });
      if (polled.body.events.length === 0) return delivered;
      delivered += polled.body.events.length;
      const ids = polled.body.events.map((event) => event.id);
      for (const id of ids) seen.add(id);
      const ack = await request(`${url}/v1/subscriptions/audit/ack`, {
        body: { consumer: "c1", events: ids },
      });
      expect(ack.status).toBe(200);
      for (const id of ids) acked.add(id);
    }
    throw new Error("the subscription did not drain in 200 polls");
  }

  it("loses no event to a crash and delivers nothing again after a graceful stop", async () => {
    // Given 500 events and a subscription whose consumer acknowledged all of them
    const first = await spawnBus({ store: location.url });
    await request(`${first.url}/v1/subscriptions/audit`, {
      method: "PUT",
      body: { topic: "users", start: "earliest" },
    });
    const events = Array.from({ length: 500 }, (_, n) => ({
      type: "UserCreated",
      key: `user-${n % 7}`,
      data: { n },
    }));
    await request(`${first.url}/v1/topics/users/events`, { body: { events } });
    const seen = new Set<string>();
    const acked = new Set<string>();
    await drain(first.url, seen, acked);
    expect(acked.size).toBe(500);
    // When the bus is killed right after the last ack, then restarted
    await first.kill();
    const second = await spawnBus({ store: location.url });
    const again = new Set<string>();
    await drain(second.url, again, acked);
    // Then whatever the crash forgot is delivered again and nothing is missing
    const status = await request<SubscriptionStatus>(`${second.url}/v1/subscriptions/audit`);
    expect(status.body.lag).toBe(0);
    expect(new Set([...seen, ...again]).size).toBe(500);
    // When it stops gracefully and starts again, nothing is delivered again
    await second.stop();
    const third = await spawnBus({ store: location.url });
    expect(await drain(third.url, new Set(), new Set())).toBe(0);
    await third.stop();
  });
});
