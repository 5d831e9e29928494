import { connect, createServer, type Server, type Socket } from "node:net";
import { isStoreUnavailable } from "@tributary/protocol";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareEvent } from "../../append/prepare-event.js";
import { createTestSchema, type TestSchema } from "../../testing/postgres-test-schema.js";
import type { AppendCommand, CommitNotice } from "../event-store.js";
import { createPostgresStore } from "./postgres-store.js";

/** A TCP relay to the test database that the test can take down and bring back, like a server restart. */
interface DatabaseRelay {
  /** The database URL through the relay. */
  url: string;
  /** Drops every connection and refuses new ones. */
  stop(): Promise<void>;
  /** Accepts connections again on the same port. */
  start(): Promise<void>;
}

async function createDatabaseRelay(databaseUrl: string): Promise<DatabaseRelay> {
  const target = new URL(databaseUrl);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const start = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        track(client);
        track(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      server.listen(port, "127.0.0.1", () => {
        const address = server?.address();
        if (typeof address === "object" && address !== null) port = address.port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (server === undefined) resolve();
      else server.close(() => resolve());
      server = undefined;
    });
  await start();
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return { url: url.toString(), start, stop };
}

function command(topic: string, type: string): AppendCommand {
  return { topic, events: [prepareEvent(topic, { type })] };
}

const groupOptions = { autoCreate: true, defaultPartitions: 1 };

describe("PostgreSQL store across a database outage", () => {
  let schema: TestSchema;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    const store = createPostgresStore({ url: schema.url, schema: schema.schema, maxConnections: 1 });
    await store.migrate();
    await store.close();
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await schema.drop();
  });

  it("answers store-unavailable while the database is away and works again when it is back", async () => {
    // Given a store reached through a relay, another reached directly, and a commit listener
    const relay = await createDatabaseRelay(schema.url);
    cleanups.push(() => relay.stop());
    const direct = createPostgresStore({ url: schema.url, schema: schema.schema, maxConnections: 2 });
    const relayed = createPostgresStore({ url: relay.url, schema: schema.schema, maxConnections: 2 });
    cleanups.push(
      () => direct.close(),
      () => relayed.close(),
    );
    const heard: CommitNotice[] = [];
    relayed.onCommit((notice) => heard.push(notice));
    await expect
      .poll(
        async () => {
          await direct.appendGroup([command("audit", "Probed")], groupOptions);
          return heard.length;
        },
        { timeout: 5_000, interval: 100 },
      )
      .toBeGreaterThan(0);

    // When the database goes away for the relayed store
    await relay.stop();
    // Then its operations fail store-unavailable
    const ping = await relayed.ping().catch((error: unknown) => error);
    expect(isStoreUnavailable(ping)).toBe(true);
    const append = await relayed
      .appendGroup([command("audit", "Lost")], groupOptions)
      .catch((error: unknown) => error);
    expect(isStoreUnavailable(append)).toBe(true);
    // While another process keeps committing
    await direct.appendGroup([command("audit", "CommittedMeanwhile")], groupOptions);
    const head = (await direct.getTopic("audit"))?.headOffsets[0] ?? 0;

    // When the database is back
    await relay.start();
    // Then listening resumes and announces the head reached while it was away
    await expect
      .poll(() => heard.some((notice) => notice.nextOffset === head), { timeout: 30_000, interval: 100 })
      .toBe(true);
    // And the store works again without a restart
    await expect
      .poll(
        () =>
          relayed.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    const outcomes = await relayed.appendGroup([command("audit", "Recovered")], groupOptions);
    expect(outcomes[0]).toMatchObject({ ok: true, events: [{ offset: head }] });
    // And other processes' commits are heard again
    await direct.appendGroup([command("audit", "AfterRecovery")], groupOptions);
    await expect
      .poll(() => heard.some((notice) => notice.nextOffset === head + 2), { timeout: 10_000 })
      .toBe(true);
  });

  it("survives its connection being killed inside a transaction", async () => {
    // Given a store whose append waits for a partition lock that another session holds
    const store = createPostgresStore({ url: schema.url, schema: schema.schema, maxConnections: 1 });
    cleanups.push(() => store.close());
    await store.putTopic("ledger", { partitions: 1 });
    const admin = postgres(schema.url, { max: 2, onnotice: () => {} });
    cleanups.push(() => admin.end());
    for (let round = 0; round < 2; round++) {
      const holder = await admin.reserve();
      await holder`BEGIN`;
      await holder`SELECT * FROM ${holder(schema.schema)}.partitions FOR UPDATE`;
      const append = store
        .appendGroup([command("ledger", "Posted")], groupOptions)
        .catch((error: unknown) => error);
      await expect
        .poll(async () => {
          const waiting = await admin`
            SELECT pid FROM pg_stat_activity
            WHERE application_name = 'tributary' AND wait_event_type = 'Lock' AND datname = current_database()`;
          return waiting.length;
        })
        .toBe(1);
      // When the server ends that session (a restart, a failover, pg_terminate_backend)
      await admin`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE application_name = 'tributary' AND wait_event_type = 'Lock' AND datname = current_database()`;
      // Then the append fails store-unavailable, nothing crashes, and the next append works at once
      expect(isStoreUnavailable(await append)).toBe(true);
      await holder`ROLLBACK`;
      holder.release();
      const started = Date.now();
      const outcomes = await store.appendGroup([command("ledger", "Posted")], groupOptions);
      expect(outcomes[0]?.ok).toBe(true);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    expect((await store.getTopic("ledger"))?.events).toBe(2);
  });

  it("closes promptly while the database is away", async () => {
    // Given a listening store whose database went away
    const relay = await createDatabaseRelay(schema.url);
    const store = createPostgresStore({ url: relay.url, schema: schema.schema, maxConnections: 2 });
    const unsubscribe = store.onCommit(() => {});
    await store.ping();
    await relay.stop();
    await store.ping().catch(() => undefined);
    // When it is closed
    const started = Date.now();
    unsubscribe();
    await store.close();
    // Then it does not wait for the database
    expect(Date.now() - started).toBeLessThan(6_000);
  });
});
