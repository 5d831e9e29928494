import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { startTcpProxy, type TcpProxy } from "../e2e/tcp-proxy.js";
import { createMetrics } from "../metrics/bus-metrics.js";
import type { EventStore } from "../store/event-store.js";
import { openStore } from "../store/open-store.js";
import { createTestStoreUrl, type StoreKind, storeKinds } from "../testing/test-stores.js";
import { createApp } from "./app.js";

interface OutageStore {
  store: EventStore;
  /** Makes the store unavailable: PostgreSQL's connections cut, the SQLite store closed. */
  fail(): Promise<void>;
  cleanup(): Promise<void>;
}

/** A migrated store that the test can take down: PostgreSQL through a TCP proxy, or SQLite. */
async function outageStore(kind: StoreKind): Promise<OutageStore> {
  const location = await createTestStoreUrl(kind);
  if (kind === "sqlite") {
    const store = openStore(location.url);
    await store.migrate();
    return { store, fail: () => store.close(), cleanup: () => location.cleanup() };
  }
  const direct = openStore(location.url);
  await direct.migrate();
  await direct.close();
  const proxy: TcpProxy = await startTcpProxy(Number(new URL(location.url).port || 5432));
  const proxied = new URL(location.url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  return {
    store: openStore(proxied.toString()),
    fail: () => proxy.cut(),
    cleanup: async () => {
      await proxy.close();
      await location.cleanup();
    },
  };
}

/** The value of a sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, line: string): number | undefined {
  const found = text.split("\n").find((entry) => entry.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.split(" ").at(-1));
}

describe.each(storeKinds)("a store outage during authorized requests on %s", (kind) => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it("answers 503 store-unavailable with Retry-After, never 401 or 403, and /metrics says what it could not read", async () => {
    // Given a bus whose keys stay cached through the outage, a consumer key of users (and one never
    // used yet), an event, a subscription, and metrics
    const outage = await outageStore(kind);
    cleanups.push(() => outage.cleanup());
    const metrics = createMetrics({ processMetrics: false });
    const bus: Bus = createBus({
      store: outage.store,
      auth: { cacheMs: 600_000 },
      appendObserver: metrics.appendObserver,
    });
    metrics.watch(bus);
    const app: FastifyInstance = createApp({ bus, metrics });
    cleanups.push(
      () => bus.close(),
      () => app.close(),
    );
    const grants = { produce: [], consume: ["users"], admin: false };
    const { key } = await bus.auth.createKey("search", grants);
    const { key: unusedKey } = await bus.auth.createKey("search", grants);
    await bus.append("users", [{ id: "e-1", type: "UserCreated", key: "u-1", data: {} }]);
    await bus.subscriptions.put("audit", { topic: "users", start: "earliest" });
    const get = (url: string, bearer = key) =>
      app.inject({ method: "GET", url, headers: { authorization: `Bearer ${bearer}` } });
    expect((await get("/v1/events/e-1")).statusCode).toBe(200);
    expect((await get("/v1/subscriptions/audit")).statusCode).toBe(200);
    const healthy = (await get("/metrics")).body;
    expect(sample(healthy, "tributary_subscription_lag_up")).toBe(1);
    expect(healthy).toMatch(
      /tributary_subscription_lag\{subscription="audit",topic="users",partition="\d+"\} 1/,
    );

    // When the store becomes unavailable
    await outage.fail();

    // Then requests whose authorization reads the store answer 503, not a refusal
    for (const url of [
      "/v1/events/e-1",
      "/v1/events/no-such-event",
      "/v1/subscriptions/audit",
      "/v1/subscriptions/audit/dead-letters",
    ]) {
      const response = await get(url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(503);
      expect(response.json()).toMatchObject({ code: "store-unavailable" });
      expect(response.headers["retry-after"]).toBe("1");
    }
    // And so does a key that must be looked up
    const unknownToCache = await get("/v1/topics", unusedKey);
    expect(unknownToCache.statusCode).toBe(503);
    expect(unknownToCache.headers["retry-after"]).toBe("1");
    // And /metrics still answers with this process's counters, says the lag is unread, reports no zeros
    const scrape = await get("/metrics");
    expect(scrape.statusCode).toBe(200);
    expect(sample(scrape.body, "tributary_subscription_lag_up")).toBe(0);
    expect(scrape.body).not.toMatch(/^tributary_subscription_lag\{/m);
    expect(sample(scrape.body, 'tributary_append_requests_total{topic="users",replayed="false"}')).toBe(1);
  });
});
