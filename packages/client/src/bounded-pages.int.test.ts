import { type RunningServer, startServer } from "@tributary/bus";
import { createTestStoreUrl, storeKinds, type TestStoreUrl } from "@tributary/bus/testing";
import type { KeyPage, QueryPage, StoredEvent } from "@tributary/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "./client.js";

/** The batch budget of the bus under test: room for three events of `eventBytes`, not four. */
const batchBytes = 1024 * 1024;
/** Each entry's data: a string of 300 KiB. */
const eventBytes = 300 * 1024;
const entries = 40;

/** The bytes a read bounded by bytes counts of an event: its `data` and `metadata` as JSON. */
function payloadBytes(event: StoredEvent): number {
  return Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(event.metadata));
}

/** Fetches one page, checking that it holds no more than the budget and one event besides. */
async function fetchPage<T extends { events: StoredEvent[] }>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  const text = await response.text();
  expect(Buffer.byteLength(text)).toBeLessThan(batchBytes + eventBytes);
  const page = JSON.parse(text) as T;
  expect(page.events.length).toBeGreaterThan(0);
  expect(page.events.reduce((sum, event) => sum + payloadBytes(event), 0)).toBeLessThanOrEqual(batchBytes);
  return page;
}

describe.each(storeKinds)("entity streams and queries bounded by bytes on %s", (kind) => {
  let location: TestStoreUrl;
  let server: RunningServer;
  let ids: string[];

  beforeAll(async () => {
    location = await createTestStoreUrl(kind);
    server = await startServer({ store: location.url, port: 0, logger: false, batchBytes });
    // Given 40 entries of 300 KiB of account-1 in ledger, with a small event of audit after each
    // ten (another topic, of the same key, that the query by type skips)
    ids = [];
    for (let batch = 0; batch < entries / 10; batch += 1) {
      const appended = await server.bus.append(
        "ledger",
        Array.from({ length: 10 }, (_, index) => ({
          type: "EntryPosted",
          key: "account-1",
          data: `${batch * 10 + index}:`.padEnd(eventBytes, "x"),
        })),
      );
      ids.push(...appended.events.map((event) => event.id));
      await server.bus.append("audit", [{ type: "EntriesChecked", key: "account-1", data: { batch } }]);
    }
  });

  afterAll(async () => {
    await server?.close();
    await location?.cleanup();
  });

  it("pages through an entity stream, three entries a page, each once and in order", async () => {
    // When the stream is read page by page from each page's next version
    const pages: number[][] = [];
    let next: number | null = 1;
    while (next !== null) {
      const url = `${server.url}/v1/topics/ledger/keys/account-1/events?fromVersion=${next}&limit=1000`;
      const page: KeyPage = await fetchPage<KeyPage>(url);
      pages.push(page.events.map((event) => event.version ?? 0));
      next = page.next;
      expect(pages.length).toBeLessThanOrEqual(entries);
    }

    // Then the budget cut each page after three entries, and every version came once, in order
    expect(pages.slice(0, -1).every((page) => page.length === 3)).toBe(true);
    expect(pages.flat()).toEqual(Array.from({ length: entries }, (_, index) => index + 1));
  });

  it("pages through a query, each way, three entries a page, each once and in order", async () => {
    // When the entries are queried page by page, ascending and descending, from each page's cursor
    const read = async (order: "asc" | "desc") => {
      const pages: string[][] = [];
      let after: string | null | undefined;
      do {
        const cursor = after === undefined ? "" : `&after=${encodeURIComponent(after ?? "")}`;
        const url = `${server.url}/v1/events?type=EntryPosted&key=account-1&order=${order}&limit=1000${cursor}`;
        const page: QueryPage = await fetchPage<QueryPage>(url);
        pages.push(page.events.map((event) => event.id));
        after = page.next;
        expect(pages.length).toBeLessThanOrEqual(entries);
      } while (after !== null);
      return pages;
    };
    const ascending = await read("asc");
    const descending = await read("desc");

    // Then each page but the last held three entries, and the pages every entry once, in order
    expect(ascending.slice(0, -1).every((page) => page.length === 3)).toBe(true);
    expect(ascending.flat()).toEqual(ids);
    expect(descending.slice(0, -1).every((page) => page.length === 3)).toBe(true);
    expect(descending.flat()).toEqual([...ids].reverse());
  });

  it("gives every entry once, in order, through the SDK's queryAll and readKey's next", async () => {
    // A fetch that measures each answer the SDK gets
    const sizes: number[] = [];
    const measuringFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = await response.arrayBuffer();
      sizes.push(body.byteLength);
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const client = createClient({ url: server.url, fetch: measuringFetch });

    // When the SDK queries them all, and reads the stream on from each next version
    const queried: string[] = [];
    for await (const event of client.queryAll({ type: "EntryPosted", limit: 1000 })) queried.push(event.id);
    const streamed: string[] = [];
    let next: number | null = 1;
    while (next !== null) {
      const page: KeyPage = await client.readKey("ledger", "account-1", { fromVersion: next, limit: 1000 });
      streamed.push(...page.events.map((event) => event.id));
      next = page.next;
    }

    // Then both hold every entry once, in order, in answers of no more than the budget and an event
    expect(queried).toEqual(ids);
    expect(streamed).toEqual(ids);
    expect(sizes).toHaveLength(2 * Math.ceil(entries / 3));
    expect(Math.max(...sizes)).toBeLessThan(batchBytes + eventBytes);
  });
});
