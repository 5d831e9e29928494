import type { DeliveredEvent, PollResponse, SubscriptionStatus } from "@tributary/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killSpawnedBuses, type SpawnedBus, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";
import { request } from "./http.js";

interface Processed {
  event: DeliveredEvent;
  /** Global processing order across consumers. */
  sequence: number;
  consumer: string;
}

/**
 * Two bus processes share one PostgreSQL schema; two consumer instances pull through different
 * buses. One bus is killed with -9 (its consumer fails over to the other bus), and one consumer
 * instance crashes mid-batch (it stops without acknowledging): every event is still processed,
 * and no key is processed out of order.
 */
describe("subscriptions across bus processes on postgres", () => {
  let location: TestStoreUrl;
  let busA: SpawnedBus;
  let busB: SpawnedBus;

  beforeAll(async () => {
    location = await createTestStoreUrl("postgres");
    busA = await spawnBus({ store: location.url });
    busB = await spawnBus({ store: location.url });
  });

  afterAll(async () => {
    await busB.stop().catch(() => undefined);
    killSpawnedBuses();
    await location.cleanup();
  });

  it("wakes a poll waiting on one bus when a batch is acknowledged through the other", async () => {
    // Given one partition whose first event is in flight, and a poll for more waiting on bus B
    await request(`${busB.url}/v1/topics/relay`, { method: "PUT", body: { partitions: 1 } });
    await request(`${busB.url}/v1/subscriptions/relay`, {
      method: "PUT",
      body: { topic: "relay", start: "earliest", ackTimeoutMs: 60_000 },
    });
    for (const n of [1, 2]) {
      await request(`${busB.url}/v1/topics/relay/events`, {
        body: { type: "Relayed", key: "k", data: { n } },
      });
    }
    const first = await request<PollResponse>(`${busB.url}/v1/subscriptions/relay/poll`, {
      body: { consumer: "c1", max: 1 },
    });
    expect(first.body.events).toHaveLength(1);
    const waiting = request<PollResponse>(`${busB.url}/v1/subscriptions/relay/poll`, {
      body: { consumer: "c1", wait: 10_000 },
    });
    // When the first event is acknowledged through bus A
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ack = await request(`${busA.url}/v1/subscriptions/relay/ack`, {
      body: { consumer: "c1", events: [first.body.events[0]?.id] },
    });
    expect(ack.status).toBe(200);
    // Then the waiting poll on bus B hears of it and delivers the second (unnotified, it would wait
    // out its 10 s and answer nothing: the batch's ack timeout is a minute)
    expect((await waiting).body.events.map((event) => event.data)).toEqual([{ n: 2 }]);
  });

  it("processes every event in key order through a bus crash and a consumer crash", async () => {
    // Given a subscription with a short lease and two consumers on two buses
    const put = await request(`${busA.url}/v1/subscriptions/billing`, {
      method: "PUT",
      body: { topic: "orders", start: "earliest", leaseMs: 800, ackTimeoutMs: 20_000 },
    });
    expect(put.status).toBe(201);
    const total = 1200;
    const processed: Processed[] = [];
    let sequence = 0;
    const stopped = new Set<string>();
    const crashAfterBatches = new Map([["c2", 6]]);
    const busOf = new Map([
      ["c1", () => (busA.child.exitCode === null && busA.child.signalCode === null ? busA : busB)],
      ["c2", () => busB],
    ]);

    async function consume(consumer: string): Promise<void> {
      let batches = 0;
      for (let round = 0; round < 3000 && !stopped.has(consumer); round++) {
        const bus = busOf.get(consumer)?.() as SpawnedBus;
        let polled: PollResponse;
        try {
          const answer = await request<PollResponse>(`${bus.url}/v1/subscriptions/billing/poll`, {
            body: { consumer, max: 50, wait: 300 },
          });
          if (answer.status !== 200) continue;
          polled = answer.body;
        } catch {
          continue; // the bus went away mid-request: fail over on the next round
        }
        if (polled.events.length === 0) {
          if (new Set(processed.map((entry) => entry.event.id)).size >= total) return;
          continue;
        }
        for (const event of polled.events) processed.push({ event, sequence: sequence++, consumer });
        batches += 1;
        if (batches === crashAfterBatches.get(consumer)) {
          // Crash mid-batch: processed but never acknowledged, and never heard of again.
          stopped.add(consumer);
          return;
        }
        await request(`${bus.url}/v1/subscriptions/billing/ack`, {
          body: { consumer, events: polled.events.map((event) => event.id) },
        }).catch(() => undefined);
      }
    }

    // When events are appended through both buses while both consumers run
    const consumers = [consume("c1"), consume("c2")];
    for (let start = 0; start < total; start += 50) {
      const bus = start % 100 === 0 ? busA : busB;
      const target = busA.child.exitCode === null && busA.child.signalCode === null ? bus : busB;
      const events = Array.from({ length: 50 }, (_, index) => ({
        type: "OrderPlaced",
        key: `order-${(start + index) % 40}`,
        data: { n: start + index },
      }));
      const answer = await request(`${target.url}/v1/topics/orders/events`, { body: { events } });
      expect(answer.status).toBe(201);
      if (start === total / 2) await busA.kill();
    }
    await Promise.all(consumers);

    // Then every event was processed, and per key the first processing of each version is in order
    const ids = new Set(processed.map((entry) => entry.event.id));
    expect(ids.size).toBe(total);
    const firstSeen = new Map<string, Processed>();
    for (const entry of processed) if (!firstSeen.has(entry.event.id)) firstSeen.set(entry.event.id, entry);
    const byKey = new Map<string, number[]>();
    for (const entry of [...firstSeen.values()].sort((a, b) => a.sequence - b.sequence)) {
      const versions = byKey.get(entry.event.key as string) ?? [];
      versions.push(entry.event.version as number);
      byKey.set(entry.event.key as string, versions);
    }
    for (const versions of byKey.values()) expect(versions).toEqual([...versions].sort((a, b) => a - b));
    // The crashed consumer's unacknowledged batch was delivered again, as a second attempt
    const redelivered = processed.filter((entry) => entry.event.attempt > 1);
    expect(redelivered.length).toBeGreaterThan(0);
    const status = await request<SubscriptionStatus>(`${busB.url}/v1/subscriptions/billing`);
    expect(status.body.lag).toBe(0);
    expect(status.body.consumers.map((consumer) => consumer.id)).toEqual(["c1"]);
  });
});
