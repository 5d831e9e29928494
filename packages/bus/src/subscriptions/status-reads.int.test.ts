import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bus, createBus } from "../bus.js";
import { createMetrics } from "../metrics/bus-metrics.js";
import { createTestStore, storeKinds, type TestStore } from "../testing/test-stores.js";

/** The schema and the database URL without it, from a test store's PostgreSQL URL. */
function schemaOf(storeUrl: string): { url: string; schema: string } {
  const url = new URL(storeUrl);
  const schema = url.searchParams.get("schema") ?? "public";
  url.searchParams.delete("schema");
  return { url: url.toString(), schema };
}

async function givenSubscriptionWithLag(bus: Bus): Promise<void> {
  await bus.subscriptions.put("audit", { topic: "users", start: "earliest" });
  await bus.append("users", [
    { type: "UserCreated", key: "a", data: {} },
    { type: "UserCreated", key: "a", data: {} },
  ]);
}

describe.each(storeKinds)("subscription status and metrics read without locks on %s", (kind) => {
  let testStore: TestStore;
  let bus: Bus;
  const metrics = createMetrics({ processMetrics: false });

  beforeAll(async () => {
    testStore = await createTestStore(kind);
    bus = createBus({ store: testStore.store });
    metrics.watch(bus);
    await givenSubscriptionWithLag(bus);
  });

  afterAll(async () => {
    await bus.close();
    await testStore.cleanup();
  });

  it("answer while a transaction of the subscription is in progress in this process", async () => {
    // Given a transaction of audit that holds it until released
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const transaction = testStore.store.subscriptions.transact("audit", async () => {
      await released;
      return { result: undefined };
    });
    try {
      // When its status and the metrics are read meanwhile
      const status = await bus.subscriptions.status("audit");
      const text = await metrics.registry.metrics();
      // Then both answer, with the lag
      expect(status.lag).toBe(2);
      expect(text).toMatch(
        /tributary_subscription_lag\{subscription="audit",topic="users",partition="\d+"\} 2/,
      );
    } finally {
      release();
      await transaction;
    }
  });
});

describe("subscription status and metrics on PostgreSQL, against other sessions", () => {
  let testStore: TestStore;
  let bus: Bus;
  let admin: postgres.Sql;
  let schema: string;
  const metrics = createMetrics({ processMetrics: false });

  beforeAll(async () => {
    testStore = await createTestStore("postgres");
    const location = schemaOf(testStore.url);
    schema = location.schema;
    admin = postgres(location.url, { max: 3, onnotice: () => {} });
    bus = createBus({ store: testStore.store });
    metrics.watch(bus);
    await givenSubscriptionWithLag(bus);
  });

  afterAll(async () => {
    await bus.close();
    await admin.end();
    await testStore.cleanup();
  });

  /** Resolves with "answered" when `read` does, or "waited" once a session waits for `holderPid`'s locks. */
  async function answersOrWaits(read: Promise<unknown>, holderPid: number): Promise<"answered" | "waited"> {
    let isSettled = false;
    const waited = (async () => {
      while (!isSettled) {
        const blocked = await admin`
          SELECT pid FROM pg_stat_activity WHERE ${holderPid}::integer = ANY(pg_blocking_pids(pid))`;
        if (blocked.length > 0) return "waited" as const;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return "answered" as const;
    })();
    const outcome = await Promise.race([read.then(() => "answered" as const), waited]);
    isSettled = true;
    await waited;
    return outcome;
  }

  it("answer while another session holds the subscription's rows and the topic's partitions locked", async () => {
    // Given another session (another bus process mid-poll, appends mid-commit) holding the row locks
    const holder = await admin.reserve();
    try {
      await holder`BEGIN`;
      await holder`SELECT 1 FROM ${holder(schema)}.subscriptions WHERE name = 'audit' FOR UPDATE`;
      await holder`SELECT 1 FROM ${holder(schema)}.subscription_partitions WHERE subscription = 'audit' FOR UPDATE`;
      await holder`SELECT 1 FROM ${holder(schema)}.partitions WHERE topic = 'users' FOR UPDATE`;
      const [{ pid }] = (await holder`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];

      // When the status and the metrics are read
      const status = bus.subscriptions.status("audit");
      const scrape = metrics.registry.metrics();

      // Then neither waits for those locks
      expect(await answersOrWaits(status, pid)).toBe("answered");
      expect(await answersOrWaits(scrape, pid)).toBe("answered");
      expect((await status).lag).toBe(2);
    } finally {
      await holder`ROLLBACK`;
      holder.release();
    }
  });

  it("lock and write nothing: the subscription's row keeps its xmax across reads and scrapes", async () => {
    // Given the row's xmax (a row lock, like an update, stamps it with the locking transaction)
    const xmax = async () =>
      (await admin`SELECT xmax::text AS xmax FROM ${admin(schema)}.subscriptions WHERE name = 'audit'`)[0]
        ?.xmax;
    const before = await xmax();

    // When the status is read and the metrics are scraped a few times
    for (let round = 0; round < 3; round++) {
      await bus.subscriptions.status("audit");
      await metrics.registry.metrics();
    }

    // Then no transaction locked the row
    expect(await xmax()).toBe(before);
  });
});
