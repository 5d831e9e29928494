import type { StoredEvent } from "@tributary/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killSpawnedBuses, type SpawnedBus, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type StoreKind, type TestStoreUrl } from "../testing/test-stores.js";
import { startAppendLoad } from "./append-load.js";
import { request } from "./http.js";

/**
 * Tails partition 0 with long-polls from offset 0 until it has seen `target()` events (known once the
 * writers are done). Small pages and many reads, so that it looks at the partition while commits are
 * in flight. Bounded by `maxReads`.
 */
async function tailPartition(
  url: string,
  topic: string,
  target: () => number | undefined,
  maxReads = 5000,
): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  let from = 0;
  for (let reads = 0; reads < maxReads; reads += 1) {
    const goal = target();
    if (goal !== undefined && seen.length >= goal) return seen;
    const answer = await request<{ events: StoredEvent[]; next: number }>(
      `${url}/v1/topics/${topic}/partitions/0/events?from=${from}&limit=20&wait=2000`,
    );
    expect(answer.status).toBe(200);
    seen.push(...answer.body.events);
    from = answer.body.next;
  }
  throw new Error(`the reader saw ${seen.length} events in ${maxReads} reads, not ${target()}`);
}

const setups: { name: string; kind: StoreKind; processes: number }[] = [
  { name: "one bus on sqlite", kind: "sqlite", processes: 1 },
  { name: "one bus on postgres", kind: "postgres", processes: 1 },
  { name: "two buses sharing one postgres schema", kind: "postgres", processes: 2 },
];

describe.each(setups)("a tailing reader, $name", ({ kind, processes }) => {
  let location: TestStoreUrl;
  const buses: SpawnedBus[] = [];

  beforeAll(async () => {
    location = await createTestStoreUrl(kind);
    // One at a time, so that a migration failure is reported as such.
    for (let index = 0; index < processes; index += 1) buses.push(await spawnBus({ store: location.url }));
  });

  afterEach(async () => {
    for (const bus of buses) expect(bus.child.exitCode, bus.output().stderr).toBeNull();
  });

  afterAll(async () => {
    await killSpawnedBuses();
    await location?.cleanup();
  });

  it("sees every offset once, in order, while concurrent writers append to one partition", async () => {
    const urls = buses.map((bus) => bus.url);
    // Given a topic of one partition
    expect(
      (await request(`${urls[0]}/v1/topics/users`, { method: "PUT", body: { partitions: 1 } })).status,
    ).toBe(201);
    // and a reader on each bus tailing it from offset 0 before anything is written
    let total: number | undefined;
    const readers = urls.map((url) => tailPartition(url, "users", () => total));

    // When 6 writers append single events and batches, spread over the buses
    const load = startAppendLoad({
      urls,
      topic: "users",
      writers: 6,
      maxRequests: 50,
      prefix: `order-${kind}`,
    });
    await load.done;
    expect(load.requests.every((sent) => sent.status === 201)).toBe(true);
    total = load.acked.size;

    // Then each reader saw offsets 0..n-1 exactly once and in order, n being the acknowledged count
    const acknowledgedIds = [...load.acked.keys()].sort();
    for (const seen of await Promise.all(readers)) {
      expect(seen.map((event) => event.offset)).toEqual(seen.map((_, index) => index));
      expect(seen.length).toBe(total);
      expect(seen.map((event) => event.id).sort()).toEqual(acknowledgedIds);
      for (const event of seen) expect(event.offset).toBe(load.acked.get(event.id)?.offset);
    }
    // and the partition holds nothing beyond them
    const after = await request<{ events: StoredEvent[] }>(
      `${urls[0]}/v1/topics/users/partitions/0/events?from=${total}`,
    );
    expect(after.body.events).toEqual([]);
  });
});
