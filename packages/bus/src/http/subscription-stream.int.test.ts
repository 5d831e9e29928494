import type { StoredEvent } from "@tributary/protocol";
import { EventSource } from "eventsource";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createTestStore, type TestStore } from "../testing/test-stores.js";
import { createApp } from "./app.js";

/** Collects the events of an EventSource until `count` distinct ids arrived. */
function collect(source: EventSource, count: number) {
  const events: StoredEvent[] = [];
  const lastIds: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${events.length} of ${count} events arrived`)),
      20_000,
    );
    source.onmessage = (message) => {
      events.push(JSON.parse(message.data));
      lastIds.push(message.lastEventId);
      if (new Set(events.map((event) => event.id)).size >= count) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  return { events, lastIds, done };
}

describe("subscription event stream (SSE) on sqlite", () => {
  let testStore: TestStore;
  let bus: Bus;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    testStore = await createTestStore("sqlite");
    bus = createBus({ store: testStore.store });
    app = createApp({ bus });
    base = await app.listen({ host: "127.0.0.1", port: 0 });
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await testStore.cleanup();
  });

  const append = (count: number, from: number) =>
    bus.append(
      "users-sse",
      Array.from({ length: count }, (_, index) => ({
        type: "UserCreated",
        key: `user-${(from + index) % 5}`,
        data: { n: from + index },
      })),
    );

  it("streams every event, survives a dropped connection by Last-Event-ID, and acknowledges", async () => {
    // Given a subscription and events before and after a browser-like client connects
    await bus.subscriptions.put("sse", { topic: "users-sse", start: "earliest" });
    await append(20, 0);
    const source = new EventSource(`${base}/v1/subscriptions/sse/stream?consumer=browser-1`);
    const stream = collect(source, 60);
    await append(20, 20);
    // When the server drops every connection mid-stream, the client reconnects on its own
    await new Promise((resolve) => setTimeout(resolve, 200));
    app.server.closeAllConnections();
    await append(20, 40);
    await stream.done;
    source.close();
    // Then every event arrived, in order per key, and the subscription has nothing left
    const numbers = [...new Set(stream.events.map((event) => (event.data as { n: number }).n))];
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, n) => n));
    for (let key = 0; key < 5; key++) {
      const versions = stream.events
        .filter((event) => event.key === `user-${key}`)
        .map((event) => event.version);
      const firstSeen = versions.filter((version, index) => versions.indexOf(version) === index);
      expect(firstSeen).toEqual([...firstSeen].sort((a, b) => (a ?? 0) - (b ?? 0)));
    }
    expect(stream.lastIds.at(-1)).toMatch(/^\d+:\d+(,\d+:\d+)*$/);
    await expect.poll(async () => (await bus.subscriptions.status("sse")).lag, { timeout: 10_000 }).toBe(0);
  });

  it("sends again what a client lost after its Last-Event-ID", async () => {
    // Given a client that received 10 events but kept only the id of the 6th
    await bus.subscriptions.put("sse-lost", { topic: "users-sse-lost", start: "earliest" });
    await bus.append(
      "users-sse-lost",
      Array.from({ length: 10 }, (_, n) => ({ type: "UserCreated", key: "user-1", data: { n } })),
    );
    const first = new EventSource(`${base}/v1/subscriptions/sse-lost/stream`);
    const received = collect(first, 10);
    await received.done;
    first.close();
    const sixth = received.lastIds[5] as string;
    // When it reconnects with that id
    const again = new EventSource(`${base}/v1/subscriptions/sse-lost/stream`, {
      fetch: (input, init) =>
        fetch(input, { ...init, headers: { ...(init?.headers ?? {}), "last-event-id": sixth } }),
    });
    const resent = collect(again, 4);
    await resent.done;
    again.close();
    // Then it gets the 7th to 10th again
    expect(resent.events.map((event) => (event.data as { n: number }).n)).toEqual([6, 7, 8, 9]);
  });

  it("answers an unknown subscription with a problem, not a stream", async () => {
    const response = await fetch(`${base}/v1/subscriptions/nope/stream`);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
  });
});
