import type { StoredEvent } from "@tributary/protocol";
import { describe, expect, it } from "vitest";
import type { EventStore, QueryFilter } from "../../store/event-store.js";
import {
  appendCommand,
  appendGroup,
  type ConformanceContext,
  expectCommitted,
  organizationEvent,
  range,
  userCreated,
  userRenamed,
  waitForClockTick,
} from "./fixtures.js";

/** The example history the query tests run on, with each batch's commit time. */
interface History {
  /** Every event in commit (position) order. */
  all: StoredEvent[];
  /** Commit time of each of the three batches. */
  times: [string, string, string];
}

/**
 * Three commits, each a millisecond or more after the previous one: users created (sign-up
 * correlation), an organization created with its members' renames (onboarding correlation), more.
 */
async function seedHistory(store: EventStore): Promise<History> {
  const signup = { metadata: { correlationId: "signup" } };
  const onboarding = { metadata: { correlationId: "onboarding" } };
  const first = expectCommitted(
    await appendCommand(store, "users", [userCreated("user-1", signup), userCreated("user-2", signup)]),
  );
  await waitForClockTick();
  // One group: its two commands commit together, at one time.
  const [organization, renames] = await appendGroup(store, [
    { topic: "organizations", events: [organizationEvent("OrganizationCreated", "org-1", onboarding)] },
    {
      topic: "users",
      events: [userRenamed("user-1", "Ada", onboarding), userRenamed("user-2", "Grace", onboarding)],
    },
  ]);
  const second = [...expectCommitted(organization), ...expectCommitted(renames)];
  await waitForClockTick();
  const third = expectCommitted(
    await appendCommand(store, "users", [userRenamed("user-1", "Ada L."), userCreated("user-3")]),
  );
  const all = (await store.query({ order: "asc", limit: 1_000 })).events;
  expect(all.map((event) => event.id)).toEqual([...first, ...second, ...third].map((event) => event.id));
  const times: History["times"] = [first[0]!.time, second[0]!.time, third[0]!.time];
  expect(Date.parse(times[1])).toBeGreaterThan(Date.parse(times[0]));
  expect(Date.parse(times[2])).toBeGreaterThan(Date.parse(times[1]));
  return { all, times };
}

function ids(events: StoredEvent[]): string[] {
  return events.map((event) => event.id);
}

/** All events matching `filter`, read page by page of `pageSize` with the keyset cursor. */
async function readAllPages(
  store: EventStore,
  filter: QueryFilter,
  pageSize: number,
): Promise<StoredEvent[][]> {
  const pages: StoredEvent[][] = [];
  let afterPosition: number | undefined;
  for (;;) {
    const page = (
      await store.query({
        ...filter,
        limit: pageSize,
        ...(afterPosition === undefined ? {} : { afterPosition }),
      })
    ).events;
    if (page.length === 0) return pages;
    pages.push(page);
    afterPosition = page[page.length - 1]!.position;
  }
}

/** query: filters, order, time range and keyset paging. */
export function describeQueryConformance(context: ConformanceContext): void {
  describe("query", () => {
    it("filters by topic, oldest or newest first", async () => {
      // Given the example history
      const store = context.store();
      const history = await seedHistory(store);

      // When users events are queried in both orders
      const ascending = (await store.query({ topic: "users", order: "asc", limit: 100 })).events;
      const descending = (await store.query({ topic: "users", order: "desc", limit: 100 })).events;

      // Then both hold exactly the users events, in position order and its reverse
      const users = history.all.filter((event) => event.topic === "users");
      expect(ids(ascending)).toEqual(ids(users));
      expect(ids(descending)).toEqual(ids(users).reverse());
    });

    it("filters by type and by key across topics", async () => {
      // Given the example history
      const store = context.store();
      const history = await seedHistory(store);

      // When events are queried by type, and by key
      const renames = (await store.query({ type: "UserRenamed", order: "asc", limit: 100 })).events;
      const user1 = (await store.query({ key: "user-1", order: "asc", limit: 100 })).events;
      const org1 = (await store.query({ key: "org-1", order: "asc", limit: 100 })).events;

      // Then each holds the matching events only
      expect(ids(renames)).toEqual(ids(history.all.filter((event) => event.type === "UserRenamed")));
      expect(ids(user1)).toEqual(ids(history.all.filter((event) => event.key === "user-1")));
      expect(org1.map((event) => [event.topic, event.type])).toEqual([
        ["organizations", "OrganizationCreated"],
      ]);
    });

    it("filters by the correlationId of the metadata", async () => {
      // Given the example history
      const store = context.store();
      const history = await seedHistory(store);

      // When events are queried by the onboarding correlation, newest first
      const onboarding = (await store.query({ correlationId: "onboarding", order: "desc", limit: 100 }))
        .events;

      // Then the organization and the two renames it caused come back, across topics
      const expected = history.all.filter((event) => event.metadata.correlationId === "onboarding");
      expect(expected).toHaveLength(3);
      expect(ids(onboarding)).toEqual(ids(expected).reverse());
      expect((await store.query({ correlationId: "unknown", order: "asc", limit: 100 })).events).toEqual([]);
    });

    it("filters by commit time, from inclusive and to exclusive", async () => {
      // Given the example history, committed in three batches at increasing times
      const store = context.store();
      const history = await seedHistory(store);
      const [, second, third] = history.times.map((time) => new Date(time));
      const at = (time: Date) => history.all.filter((event) => event.time === time.toISOString());

      // When events are queried from the second batch, before it, and between the two last
      const fromSecond = (await store.query({ from: second, order: "asc", limit: 100 })).events;
      const beforeSecond = (await store.query({ to: second, order: "asc", limit: 100 })).events;
      const secondOnly = (await store.query({ from: second, to: third, order: "asc", limit: 100 })).events;

      // Then the boundaries hold: from includes its time, to excludes its time
      expect(ids(fromSecond)).toEqual(ids([...at(second!), ...at(third!)]));
      expect(ids(beforeSecond)).toEqual(
        ids(history.all.filter((event) => event.time < second!.toISOString())),
      );
      expect(ids(secondOnly)).toEqual(ids(at(second!)));
      expect(secondOnly).toHaveLength(3);
    });

    it("combines filters and stops at the limit", async () => {
      // Given the example history
      const store = context.store();
      const history = await seedHistory(store);

      // When user-1's renames in users are queried, newest first, one at most
      const latest = (
        await store.query({
          topic: "users",
          type: "UserRenamed",
          key: "user-1",
          order: "desc",
          limit: 1,
        })
      ).events;

      // Then the last rename of user-1 comes back alone
      const renames = history.all.filter((event) => event.type === "UserRenamed" && event.key === "user-1");
      expect(ids(latest)).toEqual([renames[renames.length - 1]!.id]);
      expect(latest[0]?.data).toEqual({ userId: "user-1", name: "Ada L." });
    });

    it("pages by position without duplicates or gaps, in both orders", async () => {
      // Given 23 users events between organizations events
      const store = context.store();
      for (const index of range(23)) {
        expectCommitted(await appendCommand(store, "users", [userCreated(`user-${index}`)]));
        if (index % 5 === 0) {
          expectCommitted(
            await appendCommand(store, "organizations", [
              organizationEvent("OrganizationCreated", `org-${index}`),
            ]),
          );
        }
      }
      const users = (await store.query({ topic: "users", order: "asc", limit: 1_000 })).events;
      expect(users).toHaveLength(23);

      // When users events are read in pages of 5, after the last position of each page, both ways
      const ascending = await readAllPages(store, { topic: "users", order: "asc", limit: 5 }, 5);
      const descending = await readAllPages(store, { topic: "users", order: "desc", limit: 5 }, 5);

      // Then the pages hold every event once, in order: 5, 5, 5, 5, 3
      expect(ascending.map((page) => page.length)).toEqual([5, 5, 5, 5, 3]);
      expect(ids(ascending.flat())).toEqual(ids(users));
      expect(ids(descending.flat())).toEqual(ids(users).reverse());
      const afterLast = (
        await store.query({
          topic: "users",
          order: "asc",
          limit: 5,
          afterPosition: users[users.length - 1]!.position,
        })
      ).events;
      expect(afterLast).toEqual([]);
    });
  });
}
