import type { EventCoordinates, StoredEvent } from "@tributary/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killSpawnedBuses, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, storeKinds, type TestStoreUrl } from "../testing/test-stores.js";
import { type SentRequest, startAppendLoad } from "./append-load.js";
import { eventually, request } from "./http.js";
import { coordinatesOf, expectIntactTopic, scanTopic } from "./topic-scan.js";

/** Kill-and-restart rounds per store: the second crash hits a store that already recovered once. */
const rounds = 2;

describe.each(storeKinds)("kill -9 under append load on %s", (kind) => {
  let location: TestStoreUrl;

  beforeAll(async () => {
    location = await createTestStoreUrl(kind);
  });

  afterEach(killSpawnedBuses);

  afterAll(async () => {
    await killSpawnedBuses();
    await location?.cleanup();
  });

  it("loses no acknowledged event, stores none twice and leaves no gap", async () => {
    const acked = new Map<string, EventCoordinates>();
    const requests: SentRequest[] = [];
    // Given a bus on a fresh store, with a users topic of 4 partitions
    let bus = await spawnBus({ store: location.url });
    expect(
      (await request(`${bus.url}/v1/topics/users`, { method: "PUT", body: { partitions: 4 } })).status,
    ).toBe(201);

    for (let round = 1; round <= rounds; round += 1) {
      // When 6 writers append single events and batches with their own ids
      const load = startAppendLoad({
        urls: [bus.url],
        topic: "users",
        writers: 6,
        maxRequests: 3000,
        prefix: `crash-${kind}-${round}`,
      });
      // and the bus is killed with SIGKILL at a random moment of the load
      const threshold = 50 + Math.floor(Math.random() * 450);
      await eventually(`${threshold} events acknowledged`, async () => load.acked.size >= threshold, {
        attempts: 3000,
        intervalMs: 10,
      });
      expect(load.inFlight().length).toBeGreaterThan(0);
      expect((await bus.kill()).signal).toBe("SIGKILL");
      await load.done;
      for (const [id, coordinates] of load.acked) acked.set(id, coordinates);
      requests.push(...load.requests);
      // (every answer that came was a success: the crash only cut requests off)
      expect(load.requests.filter((sent) => sent.status !== undefined && sent.status > 201)).toEqual([]);

      // and a new bus starts on the same store
      bus = await spawnBus({ store: location.url });
    }

    // Then every partition runs from offset 0 without gap, duplicate id or version skip
    const stored = expectIntactTopic(await scanTopic(bus.url, "users"));
    expect(stored.size).toBeGreaterThanOrEqual(acked.size);
    // and every acknowledged event is there once, at the coordinates its answer gave
    for (const [id, coordinates] of acked) {
      const event = stored.get(id);
      expect(event, `acknowledged event ${id}`).toBeDefined();
      expect(coordinatesOf(event as StoredEvent)).toEqual(coordinates);
    }
    // and it is found by id too
    const ids = [...acked.keys()];
    for (let start = 0; start < ids.length; start += 25) {
      const answers = await Promise.all(
        ids.slice(start, start + 25).map((id) => request<StoredEvent>(`${bus.url}/v1/events/${id}`)),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(coordinatesOf(answer.body)).toEqual(acked.get(answer.body.id));
      }
    }
    // and each request, answered or cut off, was stored whole or not at all
    for (const sent of requests) {
      const count = sent.ids.filter((id) => stored.has(id)).length;
      expect([0, sent.ids.length], `events of request ${sent.ids[0]} stored`).toContain(count);
    }
  });
});
