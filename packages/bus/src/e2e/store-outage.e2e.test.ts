import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { killSpawnedBuses, type SpawnedBus, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";
import { type AppendLoad, startAppendLoad } from "./append-load.js";
import { eventually, type HttpAnswer, request } from "./http.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";
import { expectIntactTopic, scanTopic } from "./topic-scan.js";

interface Problem {
  code?: string;
}

/**
 * How long a request may take while the database is away. Not a performance bound: only "the bus
 * answers instead of hanging" (a frozen connection must time out inside the store).
 */
const outageAnswerMs = 45_000;

/** A 503 store-unavailable problem with a Retry-After header: what a client can act on. */
function expectStoreUnavailable(answer: HttpAnswer<Problem>): void {
  expect({ status: answer.status, code: answer.body?.code }).toEqual({
    status: 503,
    code: "store-unavailable",
  });
  expect(answer.headers.get("content-type")).toContain("application/problem+json");
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
}

describe("a bus whose PostgreSQL goes away and comes back", () => {
  let location: TestStoreUrl;
  let proxy: TcpProxy | undefined;

  /** A bus in a child process that reaches PostgreSQL through a relay the test controls. */
  async function busBehindProxy(): Promise<{ bus: SpawnedBus; proxy: TcpProxy }> {
    const direct = new URL(location.url);
    proxy = await startTcpProxy(Number(direct.port || 5432));
    const relayed = new URL(location.url);
    relayed.hostname = "127.0.0.1";
    relayed.port = String(proxy.port);
    return { bus: await spawnBus({ store: relayed.toString() }), proxy };
  }

  /** The store-backed requests a client makes, each of which must answer 503 while the store is away. */
  const storeRequests = (url: string, id: string) => [
    request<Problem>(`${url}/readyz`, { timeoutMs: outageAnswerMs }),
    request<Problem>(`${url}/v1/topics/users/events`, {
      body: { id, type: "UserRenamed", key: "user-1" },
      timeoutMs: outageAnswerMs,
    }),
    request<Problem>(`${url}/v1/events/before`, { timeoutMs: outageAnswerMs }),
    request<Problem>(`${url}/v1/topics/users/keys/user-1/events`, { timeoutMs: outageAnswerMs }),
  ];

  /** After the outage: the same process is ready again, takes appends, and lost nothing acknowledged. */
  async function expectRecovered(
    bus: SpawnedBus,
    load: AppendLoad,
    ackedBeforeRestore: number,
  ): Promise<void> {
    await eventually("readyz answers 200", async () => (await request(`${bus.url}/readyz`)).status === 200, {
      attempts: 150,
      intervalMs: 200,
    });
    const after = await request(`${bus.url}/v1/topics/users/events`, {
      body: { type: "UserRenamed", key: "user-1", data: { after: true } },
    });
    expect(after.status).toBe(201);
    expect(bus.child.exitCode).toBeNull();
    await eventually("the writers append again", async () => load.acked.size > ackedBeforeRestore);
    load.stop();
    await load.done;
    // No request was answered with anything but success or 503, nor left without an answer
    const statuses = new Set(load.requests.map((sent) => sent.status ?? "no answer"));
    expect([...statuses].filter((status) => status !== 200 && status !== 201 && status !== 503)).toEqual([]);
    expect(statuses.has(503)).toBe(true);
    // and every acknowledged event is stored once, without gaps
    const stored = expectIntactTopic(await scanTopic(bus.url, "users"));
    for (const id of load.acked.keys()) expect(stored.has(id), id).toBe(true);
    // and the bus logged no internal error
    expect(bus.output().stdout).not.toMatch(/"code":"internal"/);
  }

  beforeAll(async () => {
    location = await createTestStoreUrl("postgres");
    // Given an event stored while all is well
    const bus = await spawnBus({ store: location.url });
    const before = await request(`${bus.url}/v1/topics/users/events`, {
      body: { id: "before", type: "UserRegistered", key: "user-1" },
    });
    expect(before.status).toBe(201);
    await bus.stop();
  });

  afterEach(async () => {
    await killSpawnedBuses();
    await proxy?.close();
    proxy = undefined;
  });

  afterAll(async () => {
    await location?.cleanup();
  });

  it("answers 503 with Retry-After while connections are refused, and recovers without a restart", async () => {
    const { bus, proxy } = await busBehindProxy();
    // Given writers appending
    const load = startAppendLoad({
      urls: [bus.url],
      topic: "users",
      writers: 3,
      maxRequests: 300,
      prefix: "refused",
      continueOnNetworkError: true,
      pauseAfterFailureMs: 50,
    });
    await eventually("some events acknowledged", async () => load.acked.size >= 20, {
      attempts: 1000,
      intervalMs: 10,
    });

    // When the database connections are cut and reconnecting is refused
    await proxy.cut();

    // Then readiness, appends and reads answer 503 store-unavailable with Retry-After
    await eventually("readyz answers 503", async () => (await request(`${bus.url}/readyz`)).status === 503);
    for (const answer of await Promise.all(storeRequests(bus.url, "during-refusal")))
      expectStoreUnavailable(answer);
    // while the process itself stays healthy
    expect((await request(`${bus.url}/healthz`)).status).toBe(200);

    // When the database is reachable again, the same process recovers
    const ackedBeforeRestore = load.acked.size;
    await proxy.restore();
    await expectRecovered(bus, load, ackedBeforeRestore);
  });

  it("answers 503 instead of hanging while the network to the database is partitioned", async () => {
    // (no append load here: appends queue behind a group commit that waits for the store, which
    // would only add the store's timeouts up)
    const { bus, proxy } = await busBehindProxy();
    expect((await request(`${bus.url}/readyz`)).status).toBe(200);

    // When every byte to and from the database is held (nothing refused, nothing answered)
    proxy.freeze();

    // Then readiness, appends and reads still get an answer: 503 store-unavailable with Retry-After
    const answers = storeRequests(bus.url, "during-partition");
    expect((await request(`${bus.url}/healthz`)).status).toBe(200);
    for (const answer of await Promise.all(answers)) expectStoreUnavailable(answer);

    // When the network heals, the same process is ready again and takes appends
    await proxy.restore();
    await eventually("readyz answers 200", async () => (await request(`${bus.url}/readyz`)).status === 200, {
      attempts: 150,
      intervalMs: 200,
    });
    const after = await request(`${bus.url}/v1/topics/users/events`, {
      body: { type: "UserRenamed", key: "user-1", data: { afterPartition: true } },
    });
    expect(after.status).toBe(201);
    expect(bus.child.exitCode).toBeNull();
    expect(expectIntactTopic(await scanTopic(bus.url, "users")).has("before")).toBe(true);
    expect(bus.output().stdout).not.toMatch(/"code":"internal"/);
  });
});
