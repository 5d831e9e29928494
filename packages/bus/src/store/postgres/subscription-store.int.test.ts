import { isStoreUnavailable } from "@tributary/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "../../e2e/tcp-proxy.js";
import { expectRejection, range } from "../../testing/conformance/fixtures.js";
import {
  freshPartitions,
  readState,
  sleep,
  usersSubscription,
} from "../../testing/conformance/subscription-fixtures.js";
import { createTestSchema, type TestSchema, testPostgresUrl } from "../../testing/postgres-test-schema.js";
import type { EventStore } from "../event-store.js";
import { createPostgresStore } from "./postgres-store.js";

const schemas: TestSchema[] = [];
const stores: EventStore[] = [];
const proxies: TcpProxy[] = [];

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await Promise.all(schemas.map((schema) => schema.drop()));
});

/** `count` store instances on one fresh schema, each with a pool of its own like a bus process. */
async function busProcesses(count: number, maxConnections = 4, url?: string): Promise<EventStore[]> {
  const schema = await createTestSchema();
  schemas.push(schema);
  const instances = range(count).map(() => {
    const store = createPostgresStore({ url: url ?? schema.url, schema: schema.schema, maxConnections });
    stores.push(store);
    return store;
  });
  await instances[0]!.migrate();
  return instances;
}

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe("PostgreSQL subscription store", () => {
  it("serializes transactions of one subscription across two bus processes", async () => {
    // Given two bus processes sharing user-mailer
    const [first, second] = await busProcesses(2);
    await first!.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));

    // When each runs 20 increments of the checkpoint at once, each waiting inside its change
    const turns = await Promise.all(
      range(40).map((index) =>
        (index % 2 === 0 ? first! : second!).subscriptions.transact("user-mailer", async (state) => {
          const partition = state.partitions[0]!;
          await sleep(2);
          const checkpoint = partition.checkpoint + 1;
          return {
            result: { seen: partition.checkpoint, now: state.now },
            partitions: [{ ...partition, checkpoint, cursor: checkpoint }],
          };
        }),
      ),
    );

    // Then every increment counted, and each turn's clock is no earlier than the turn before it
    const ordered = [...turns].sort((a, b) => a.seen - b.seen);
    expect(ordered.map((turn) => turn.seen)).toEqual(range(40));
    for (const [index, turn] of ordered.entries()) {
      if (index > 0) expect(turn.now).toBeGreaterThanOrEqual(ordered[index - 1]!.now);
    }
    expect((await readState(second!, "user-mailer")).partitions[0]?.checkpoint).toBe(40);
  });

  it("reads the clock once the lock is granted, not when the transaction began", async () => {
    // Given user-mailer held by one process for 300 ms
    const [first, second] = await busProcesses(2);
    await first!.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));
    const held = signal();
    const holding = first!.subscriptions.transact("user-mailer", async (state) => {
      held.resolve();
      await sleep(300);
      return { result: state.now };
    });
    await held.promise;

    // When the other process transacts meanwhile
    const waited = await second!.subscriptions.transact("user-mailer", (state) => ({ result: state.now }));

    // Then its now is after the holder let go
    expect(waited - (await holding)).toBeGreaterThanOrEqual(300);
  });

  it("lets transactions of other subscriptions through while one is held", async () => {
    // Given user-mailer and audit, and user-mailer held by one process until audit is done
    const [first, second] = await busProcesses(2);
    await first!.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));
    await first!.subscriptions.create(usersSubscription("audit"), freshPartitions(1));
    const held = signal();
    const auditDone = signal();
    const holding = first!.subscriptions.transact("user-mailer", async () => {
      held.resolve();
      await auditDone.promise;
      return { result: "held" };
    });
    await held.promise;

    // When both processes transact on audit
    const audits = await Promise.all(
      [first!, second!].map((store) => store.subscriptions.transact("audit", () => ({ result: "audit" }))),
    );
    auditDone.resolve();

    // Then they complete while user-mailer is still held
    expect(audits).toEqual(["audit", "audit"]);
    expect(await holding).toBe("held");
  });

  it("lets a delete wait for the holder, and a transaction after it find nothing", async () => {
    // Given user-mailer held by one process
    const [first, second] = await busProcesses(2);
    await first!.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));
    const held = signal();
    const release = signal();
    const holding = first!.subscriptions.transact("user-mailer", async (state) => {
      held.resolve();
      await release.promise;
      return { result: undefined, upsertConsumers: [{ id: "mailer-1", expiresAt: state.now + 10_000 }] };
    });
    await held.promise;

    // When the other process deletes it while held, and then transacts on it
    const deleting = second!.subscriptions.delete("user-mailer");
    await sleep(50);
    release.resolve();
    await holding;

    // Then the delete completes after the holder committed, and the transaction finds nothing
    expect(await deleting).toBe(true);
    await expectRejection(readState(second!, "user-mailer"), "subscription-not-found");
  });

  it("does not starve a pool of 2 connections with transactions that read events", async () => {
    // Given a process with 2 connections, the users topic and 8 subscriptions
    const [store] = await busProcesses(1, 2);
    await store!.putTopic("users", { partitions: 1 });
    const names = range(8).map((index) => `reader-${index}`);
    for (const name of names) await store!.subscriptions.create(usersSubscription(name), freshPartitions(1));

    // When 3 transactions of each run at once, each reading the topic inside its change
    const results = await Promise.all(
      names.flatMap((name) =>
        range(3).map(() =>
          store!.subscriptions.transact(name, async () => ({
            result: (await store!.readPartition("users", 0, 0, 10)).length,
          })),
        ),
      ),
    );

    // Then all of them complete
    expect(results).toHaveLength(24);
  });

  it("fails a transaction store-unavailable when its connection is lost, and works again after", async () => {
    // Given a process reaching the database through a relay, and user-mailer
    const relayed = new URL(testPostgresUrl());
    const proxy = await startTcpProxy(Number(relayed.port || 5432));
    proxies.push(proxy);
    relayed.hostname = "127.0.0.1";
    relayed.port = String(proxy.port);
    const [store] = await busProcesses(1, 2, relayed.toString());
    await store!.subscriptions.create(usersSubscription("user-mailer"), freshPartitions(1));

    // When the connection is cut while a change runs
    const failed = await store!.subscriptions
      .transact("user-mailer", async (state) => {
        await proxy.cut();
        return { result: undefined, partitions: [{ ...state.partitions[0]!, checkpoint: 99 }] };
      })
      .catch((error: unknown) => error);

    // Then the transaction is store-unavailable and wrote nothing; once back, the store works again
    expect(isStoreUnavailable(failed)).toBe(true);
    await proxy.restore();
    await expect
      .poll(
        async () =>
          (await readState(store!, "user-mailer").catch(() => undefined))?.partitions[0]?.checkpoint,
        {
          timeout: 15_000,
          interval: 200,
        },
      )
      .toBe(0);
  });
});
