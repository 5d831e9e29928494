import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { PollResponse } from "@tributary/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { killSpawnedBuses, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type StoreKind, type TestStoreUrl } from "../testing/test-stores.js";
import { request } from "./http.js";

const mebibyte = 1024 * 1024;
const eventCount = 300;
/** Each event's data: a string of 512 KiB, some 150 MiB in all. */
const dataLength = 512 * 1024;
const eventsPerAppend = 8;
const batchBytes = 4 * mebibyte;

/** A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`: the peak since the last reset). */
function memoryOf(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  if (match?.[1] === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resets the process's peak RSS to its current RSS (Linux: `5` into `clear_refs`). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

const stores: StoreKind[] = ["sqlite", "postgres"];
/** The RSS figures come from Linux's `/proc`; elsewhere there is nothing to measure with. */
const hasProc = existsSync("/proc/self/clear_refs");

/**
 * The memory of a bus that delivers large events is bounded by its byte budgets, not by the size
 * of what it delivers: 300 events of 512 KiB (150 MiB) drained through a pull subscription.
 *
 * The bound is on the growth of the peak RSS while draining, over the RSS the bus had once the
 * appends were done (their request bodies are bounded on their own): 160 MiB. What the bus may
 * come to hold meanwhile: the event cache (64 MiB by default); on SQLite the page cache of the
 * connection that reads (`cache_size`, 64 MiB), which only the drain warms; one poll's batch
 * (4 MiB) in the copies a response takes (the store's rows, the concatenated body, the socket's
 * buffer); and what the garbage collector has not given back yet: 32 MiB for the last two. With
 * the budgets it grew by about 10 MiB (PostgreSQL) to 55 MiB (SQLite). Before them, one poll of up
 * to 1000 events answered all 150 MiB at once and the cache kept every event: it grew by some
 * 225 MiB (SQLite) to 360 MiB (PostgreSQL). As a ceiling, the peak of the whole run stays under
 * 448 MiB (about 320 MiB with the budgets, 505 MiB before).
 */
describe.skipIf(!hasProc).each(stores)("memory while draining large events (%s)", (kind) => {
  let location: TestStoreUrl | undefined;

  afterEach(async () => {
    await killSpawnedBuses();
    await location?.cleanup();
    location = undefined;
  });

  it("keeps the bus's peak RSS within its byte budgets", { timeout: 120_000 }, async () => {
    // Given a bus with no append rate limit, a topic of 4 partitions and a subscription from its start
    location = await createTestStoreUrl(kind);
    const bus = await spawnBus({ store: location.url, args: ["--rate-events", "0", "--rate-bytes", "0"] });
    await request(`${bus.url}/v1/topics/blobs`, { method: "PUT", body: { partitions: 4 } });
    await request(`${bus.url}/v1/subscriptions/blobs`, {
      method: "PUT",
      body: { topic: "blobs", start: "earliest", ackTimeoutMs: 60_000 },
    });

    // And 300 events of 512 KiB appended, 8 to a request
    for (let first = 0; first < eventCount; first += eventsPerAppend) {
      const events = Array.from({ length: Math.min(eventsPerAppend, eventCount - first) }, (_, index) => ({
        type: "BlobStored",
        key: `blob-${first + index}`,
        data: String(first + index).padEnd(dataLength, "x"),
      }));
      const appended = await request(`${bus.url}/v1/topics/blobs/events`, {
        body: { events },
        timeoutMs: 30_000,
      });
      expect(appended.status).toBe(201);
    }
    const afterAppends = memoryOf(bus.pid, "VmRSS");
    const appendPeak = memoryOf(bus.pid, "VmHWM");
    resetPeak(bus.pid);

    // When one consumer drains them, polling for up to 1000 events at a time and acknowledging each batch
    const seen = new Set<string>();
    let largestBody = 0;
    let polls = 0;
    while (seen.size < eventCount) {
      polls++;
      expect(polls).toBeLessThan(eventCount * 2);
      const response = await fetch(`${bus.url}/v1/subscriptions/blobs/poll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ consumer: "drain", max: 1000, wait: 1000 }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      largestBody = Math.max(largestBody, Buffer.byteLength(text));
      const polled = JSON.parse(text) as PollResponse;
      for (const event of polled.events) seen.add(event.id);
      if (polled.events.length > 0) {
        const acked = await request(`${bus.url}/v1/subscriptions/blobs/ack`, {
          body: { consumer: "drain", events: polled.events.map((event) => event.id) },
        });
        expect(acked.status).toBe(200);
      }
    }
    const peak = memoryOf(bus.pid, "VmHWM");

    // Then every event came, no response passed the batch budget by more than its envelope, and
    // the peak RSS grew by less than the budgets allow
    expect(seen.size).toBe(eventCount);
    expect(largestBody).toBeLessThanOrEqual(batchBytes + 64 * 1024);
    const growth = peak - afterAppends;
    expect(
      growth,
      `peak RSS ${Math.round(peak / mebibyte)} MiB, ${Math.round(growth / mebibyte)} MiB over the ${Math.round(afterAppends / mebibyte)} MiB after the appends`,
    ).toBeLessThan(160 * mebibyte);
    expect(Math.max(appendPeak, peak)).toBeLessThan(448 * mebibyte);
  });
});
