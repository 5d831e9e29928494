import { describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import type { EventPage, EventStore, QueryFilter } from "../../store/event-store.js";
import { appendCommand, type ConformanceContext, expectCommitted, range } from "./fixtures.js";

/**
 * Appends `count` events of the entity user-1 to users, each with a string of `length` letters as
 * its data and no metadata (a payload of `length + 4` bytes), each followed by a small event of
 * organizations, so that a query of users skips a position between any two of its events.
 */
async function appendSizedStream(store: EventStore, count: number, length: number): Promise<void> {
  for (const index of range(count)) {
    const event = prepareEvent("users", { type: "UserNoted", key: "user-1", data: "x".repeat(length) });
    expectCommitted(await appendCommand(store, "users", [event]));
    const other = prepareEvent("organizations", { type: "OrganizationNoted", key: `org-${index}`, data: {} });
    expectCommitted(await appendCommand(store, "organizations", [other]));
  }
}

/** A page as the versions of its events and whether it was cut by bytes. */
function versions(page: EventPage): { versions: (number | null)[]; isCutByBytes: boolean } {
  return { versions: page.events.map((event) => event.version), isCutByBytes: page.isCutByBytes };
}

/** Reads the entity stream of user-1 page by page, going on after each full or cut page. */
async function pageThroughStream(store: EventStore, maxBytes: number, limit: number): Promise<number[][]> {
  const pages: number[][] = [];
  let fromVersion: number | undefined = 1;
  while (fromVersion !== undefined) {
    const page: EventPage = await store.readKey("users", "user-1", { fromVersion, limit, maxBytes });
    const read = page.events.map((event) => event.version ?? 0);
    pages.push(read);
    const last = read[read.length - 1];
    fromVersion = (page.isCutByBytes || read.length === limit) && last !== undefined ? last + 1 : undefined;
  }
  return pages;
}

/** Queries page by page, each after the last position of the page before while it is full or cut. */
async function pageThroughQuery(store: EventStore, filter: QueryFilter): Promise<number[][]> {
  const pages: number[][] = [];
  let afterPosition: number | undefined;
  do {
    const page: EventPage = await store.query({
      ...filter,
      ...(afterPosition === undefined ? {} : { afterPosition }),
    });
    const read = page.events.map((event) => event.position);
    pages.push(read);
    const isMore = page.isCutByBytes || read.length === filter.limit;
    afterPosition = isMore ? read[read.length - 1] : undefined;
  } while (afterPosition !== undefined);
  return pages;
}

/** Entity streams and queries bounded by bytes (`maxBytes`), and the cut their pages tell. */
export function describeBoundedPageConformance(context: ConformanceContext): void {
  describe("entity streams and queries bounded by bytes", () => {
    it("an entity stream stops before the budget, returns its first event, and tells a cut", async () => {
      // Given 10 events of user-1 of some 10 kB each
      const store = context.store();
      await appendSizedStream(store, 10, 10_000);
      const read = async (fromVersion: number, limit: number, maxBytes: number) =>
        versions(await store.readKey("users", "user-1", { fromVersion, limit, maxBytes }));

      // When it is read within 25 kB, within 1 byte, up to its end, past it and within plenty
      // Then two fit and the page is cut; one comes whatever its size; the end is no cut
      expect(await read(1, 100, 25_000)).toEqual({ versions: [1, 2], isCutByBytes: true });
      expect(await read(3, 100, 1)).toEqual({ versions: [3], isCutByBytes: true });
      expect(await read(10, 100, 1)).toEqual({ versions: [10], isCutByBytes: false });
      expect(await read(9, 100, 25_000)).toEqual({ versions: [9, 10], isCutByBytes: false });
      expect(await read(11, 100, 25_000)).toEqual({ versions: [], isCutByBytes: false });
      expect(await read(1, 4, 1_000_000_000)).toEqual({ versions: [1, 2, 3, 4], isCutByBytes: false });
      expect(await read(1, 2, 25_000)).toEqual({ versions: [1, 2], isCutByBytes: false });
    });

    it("an entity stream read page by page from each cut gives every event once, in order", async () => {
      // Given 10 events of user-1 of some 10 kB each
      const store = context.store();
      await appendSizedStream(store, 10, 10_000);

      // When it is read page by page within 25 kB, and within 35 kB but 3 events a page
      const byBytes = await pageThroughStream(store, 25_000, 100);
      const byCount = await pageThroughStream(store, 35_000, 3);

      // Then the budget cuts each page at two events, the count at three, and none is lost
      expect(byBytes).toEqual([
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
        [9, 10],
      ]);
      expect(byCount).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]);
    });

    it("a query stops before the budget in either order, returns its first event, and tells a cut", async () => {
      // Given 10 events of users of some 10 kB each, with an event of organizations after each
      const store = context.store();
      await appendSizedStream(store, 10, 10_000);
      const positions = (await store.query({ topic: "users", order: "asc", limit: 100 })).events.map(
        (event) => event.position,
      );
      const read = async (filter: Omit<QueryFilter, "topic">) => {
        const page = await store.query({ topic: "users", ...filter });
        return { positions: page.events.map((event) => event.position), isCutByBytes: page.isCutByBytes };
      };

      // When they are queried within 25 kB, within 1 byte and up to the end, each way
      // Then two fit and the page is cut; one comes whatever its size; the end is no cut
      expect(await read({ order: "asc", limit: 100, maxBytes: 25_000 })).toEqual({
        positions: positions.slice(0, 2),
        isCutByBytes: true,
      });
      expect(await read({ order: "desc", limit: 100, maxBytes: 25_000 })).toEqual({
        positions: positions.slice(-2).reverse(),
        isCutByBytes: true,
      });
      expect(await read({ order: "asc", afterPosition: positions[4], limit: 100, maxBytes: 1 })).toEqual({
        positions: [positions[5]],
        isCutByBytes: true,
      });
      expect(await read({ order: "asc", afterPosition: positions[8], limit: 100, maxBytes: 1 })).toEqual({
        positions: [positions[9]],
        isCutByBytes: false,
      });
      expect(
        await read({ order: "desc", afterPosition: positions[2], limit: 100, maxBytes: 25_000 }),
      ).toEqual({
        positions: [positions[1], positions[0]],
        isCutByBytes: false,
      });
    });

    it("a query paged from each cut gives every event once, in order, either way", async () => {
      // Given 10 events of users of some 10 kB each, with an event of organizations after each
      const store = context.store();
      await appendSizedStream(store, 10, 10_000);
      const all = (await store.query({ topic: "users", order: "asc", limit: 100 })).events.map(
        (event) => event.position,
      );

      // When they are queried page by page within 25 kB, ascending and descending
      const ascending = await pageThroughQuery(store, {
        topic: "users",
        order: "asc",
        limit: 100,
        maxBytes: 25_000,
      });
      const descending = await pageThroughQuery(store, {
        topic: "users",
        order: "desc",
        limit: 100,
        maxBytes: 25_000,
      });

      // Then each page holds two events, and the pages hold each event once, in order
      expect(ascending.map((page) => page.length)).toEqual([2, 2, 2, 2, 2]);
      expect(ascending.flat()).toEqual(all);
      expect(descending.map((page) => page.length)).toEqual([2, 2, 2, 2, 2]);
      expect(descending.flat()).toEqual([...all].reverse());
    });

    it("count every event of a long read, past the first few, and tell the cut after them", async () => {
      // Given 40 events of user-1 of 1,004 bytes of payload each
      const store = context.store();
      await appendSizedStream(store, 40, 1000);

      // When the stream and the query are read within 30,500 bytes
      const stream = await store.readKey("users", "user-1", {
        fromVersion: 1,
        limit: 1000,
        maxBytes: 30_500,
      });
      const query = await store.query({ topic: "users", order: "asc", limit: 1000, maxBytes: 30_500 });

      // Then 30 events fit (30,120 bytes), the 31st does not, and both say so
      expect(versions(stream)).toEqual({ versions: range(30).map((index) => index + 1), isCutByBytes: true });
      expect(query.events).toHaveLength(30);
      expect(query.isCutByBytes).toBe(true);
    });
  });
}
