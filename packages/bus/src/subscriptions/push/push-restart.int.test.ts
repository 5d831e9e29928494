import type { CloudEvent, SubscriptionStatus } from "@tributary/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createBus } from "../../bus.js";
import { eventually, request } from "../../e2e/http.js";
import { type RunningServer, startServer } from "../../server.js";
import { openStore } from "../../store/open-store.js";
import { createTestStoreUrl, storeKinds, type TestStoreUrl } from "../../testing/test-stores.js";
import { firstArrivalVersionsByKey, type Receiver, startReceiver } from "./push-receiver.test.fixture.js";

/** The checkpoints of a subscription read straight from the store, with no bus serving it. */
async function checkpointsAt(storeUrl: string, name: string): Promise<number[]> {
  const bus = createBus({ store: openStore(storeUrl) });
  try {
    const status = await bus.subscriptions.status(name);
    return status.partitions.map((partition) => partition.checkpoint);
  } finally {
    await bus.close();
  }
}

describe.each(storeKinds)("push delivery across a restart on %s", (kind) => {
  let location: TestStoreUrl | undefined;
  let receiver: Receiver | undefined;
  const servers: RunningServer[] = [];

  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
    await receiver?.close();
    await location?.cleanup();
  });

  const serve = async (storeUrl: string) => {
    const server = await startServer({
      store: storeUrl,
      port: 0,
      logger: false,
      push: { discoveryIntervalMs: 100, pollWaitMs: 1_000, stopGraceMs: 500 },
    });
    servers.push(server);
    return server;
  };

  it("resumes from the checkpoint after the bus restarts mid-stream, and delivers every event", async () => {
    // Given a bus pushing 300 events in small batches to a receiver
    location = await createTestStoreUrl(kind);
    const endpoint = await startReceiver();
    receiver = endpoint;
    const first = await serve(location.url);
    await first.bus.append(
      "users-restart",
      Array.from({ length: 300 }, (_, n) => ({ type: "UserCreated", key: `user-${n % 10}`, data: { n } })),
    );
    await first.bus.subscriptions.put("restart", {
      topic: "users-restart",
      start: "earliest",
      delivery: { mode: "push", url: endpoint.url, batchSize: 5 },
      backoff: { initialMs: 10, maxMs: 200 },
    });
    // When the bus shuts down part way through
    await eventually("some events are pushed", async () => endpoint.acceptedIds().size >= 30, {
      attempts: 500,
      intervalMs: 5,
    });
    await first.close();
    const checkpoints = await checkpointsAt(location.url, "restart");
    const beforeRestart = endpoint.accepted.length;
    // and a new bus starts on the same store
    const second = await serve(location.url);
    // Then delivery continues until every event arrived
    await eventually("every event is pushed", async () => endpoint.acceptedIds().size === 300, {
      attempts: 300,
    });
    expect(checkpoints.reduce((sum, checkpoint) => sum + checkpoint, 0)).toBeGreaterThan(0);
    expect(beforeRestart).toBeLessThan(300);
    // from the stored checkpoints: nothing below them was sent again
    const afterRestart: CloudEvent[] = endpoint.accepted.slice(beforeRestart);
    for (const event of afterRestart) {
      expect(Number(event.offset)).toBeGreaterThanOrEqual(checkpoints[Number(event.partition)] ?? 0);
    }
    // in order per key, and the subscription caught up
    for (const [key, versions] of firstArrivalVersionsByKey(endpoint.accepted)) {
      expect(versions, key).toEqual([...versions].sort((a, b) => a - b));
    }
    await eventually(
      "the subscription catches up",
      async () =>
        (await request<SubscriptionStatus>(`${second.url}/v1/subscriptions/restart`)).body.lag === 0,
    );
  });
});
