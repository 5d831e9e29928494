import { existsSync } from "node:fs";
import type { EventCoordinates, StoredEvent } from "@tributary/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { killSpawnedBuses, runTributary, spawnBus } from "../testing/spawn-bus.js";
import { createTestStoreUrl, type TestStoreUrl } from "../testing/test-stores.js";
import { startAppendLoad } from "./append-load.js";
import { eventually, freePort, request } from "./http.js";
import { expectIntactTopic, scanTopic } from "./topic-scan.js";

describe("tributary serve", () => {
  const locations: TestStoreUrl[] = [];
  const sqliteStore = async () => {
    const location = await createTestStoreUrl("sqlite");
    locations.push(location);
    return location;
  };

  afterEach(killSpawnedBuses);

  afterAll(async () => {
    await killSpawnedBuses();
    for (const location of locations) await location.cleanup();
  });

  it("prints its usage with --help and exits 0", async () => {
    const run = await runTributary(["serve", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: tributary serve [options]");
    for (const option of ["--store", "--port", "--host", "--no-auto-create", "TRIBUTARY_STORE"]) {
      expect(run.stdout).toContain(option);
    }
  });

  it.each([
    { args: ["--prot", "4700"], message: /Unknown option '--prot'/ },
    { args: ["--port", "http"], message: /--port must be a whole number from 0 to 65535, not "http"/ },
    { args: ["--default-partitions", "0"], message: /--default-partitions must be a whole number/ },
    { args: ["--store", "mysql://127.0.0.1/db"], message: /unknown store URL "mysql:\/\/127\.0\.0\.1\/db"/ },
  ])("refuses $args with a clear message and a non-zero exit", async ({ args, message }) => {
    const run = await runTributary(["serve", ...args]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).not.toContain("listening");
  });

  it("takes its port, host, store and log level from the environment", async () => {
    // Given settings in TRIBUTARY_* variables only
    const location = await sqliteStore();
    const port = await freePort();
    const bus = await spawnBus({
      bare: true,
      env: {
        TRIBUTARY_PORT: String(port),
        TRIBUTARY_HOST: "127.0.0.1",
        TRIBUTARY_STORE: location.url,
        TRIBUTARY_LOG_LEVEL: "warn",
      },
    });
    // Then it listens where they say, on the store they name
    expect(bus.url).toBe(`http://127.0.0.1:${port}`);
    expect(bus.output().stdout).toContain(`(store ${location.url}; OPEN: no API keys`);
    expect((await request(`${bus.url}/readyz`)).body).toEqual({ status: "ready", store: "sqlite" });
    const created = await request(`${bus.url}/v1/topics/users/events`, {
      body: { type: "UserRegistered", key: "u1" },
    });
    expect(created.status).toBe(201);
    expect(existsSync(location.url.slice("sqlite:".length))).toBe(true);
    // and at level warn it logs nothing about a normal start and stop
    expect((await bus.stop()).code).toBe(0);
    expect(bus.output().stderr).toBe("");
    expect(bus.output().stdout.trim().split("\n")).toHaveLength(1);
  });

  it("refuses a non-loopback address without API keys unless --insecure", async () => {
    const location = await sqliteStore();
    const refused = await runTributary([
      "serve",
      "--store",
      location.url,
      "--host",
      "0.0.0.0",
      "--port",
      "0",
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refusing to listen on 0\.0\.0\.0 with no API keys/);
    expect(refused.stdout).not.toContain("listening");
    const insecure = await spawnBus({ store: location.url, args: ["--host", "0.0.0.0", "--insecure"] });
    expect(insecure.output().stdout).toContain("OPEN: no API keys");
    const stopped = await insecure.stop();
    expect(stopped, insecure.output().stderr + insecure.output().stdout).toMatchObject({ code: 0 });
  });

  it("manages keys with tributary keys, and a bus with keys requires one", async () => {
    // Given a key made with the CLI, straight in the store
    const location = await sqliteStore();
    const created = await runTributary([
      "keys",
      "create",
      "--store",
      location.url,
      "--principal",
      "signup",
      "--produce",
      "users",
      "--consume",
      "subscription:signup-*",
    ]);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^trb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const id = key.slice(4, 16);
    // When a bus serves that store, on a non-loopback address (allowed: keys exist)
    const bus = await spawnBus({ store: location.url, args: ["--host", "0.0.0.0", "--log-level", "info"] });
    const url = bus.url.replace("0.0.0.0", "127.0.0.1");
    // Then requests need the key, and the key's rights decide
    expect(bus.output().stdout).not.toContain("OPEN");
    expect(
      (await request(`${url}/v1/topics/users/events`, { body: { type: "UserRegistered" } })).status,
    ).toBe(401);
    const headers = { authorization: `Bearer ${key}` };
    expect(
      (await request(`${url}/v1/topics/users/events`, { body: { type: "UserRegistered" }, headers })).status,
    ).toBe(201);
    expect((await request(`${url}/v1/topics/users/partitions/0/events`, { headers })).status).toBe(403);
    // And list shows the key without its secret; revoke closes it
    const listed = await runTributary(["keys", "list", "--store", location.url]);
    expect(listed.stdout).toContain(`${id}\tsignup\t`);
    expect(listed.stdout).toContain("produce:users consume:subscription:signup-*");
    expect(listed.stdout).not.toContain(key.slice(17));
    expect((await runTributary(["keys", "revoke", id, "--store", location.url])).code).toBe(0);
    await eventually(
      "the revoked key refused",
      async () =>
        (await request(`${url}/v1/topics/users/events`, { body: { type: "UserRegistered" }, headers }))
          .status === 401,
    );
    // And the key never reached the logs
    expect((await bus.stop()).code).toBe(0);
    expect(bus.output().stdout + bus.output().stderr).not.toContain(key.slice(17));
    expect(bus.output().stdout + bus.output().stderr).not.toContain("signup");
  });

  it("answers 404 topic-not-found to an append to an unknown topic with --no-auto-create", async () => {
    const location = await sqliteStore();
    const bus = await spawnBus({ store: location.url, args: ["--no-auto-create"] });
    const refused = await request<{ code: string }>(`${bus.url}/v1/topics/users/events`, {
      body: { type: "UserRegistered", key: "u1" },
    });
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe("topic-not-found");
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    // An explicitly created topic takes appends
    expect(
      (await request(`${bus.url}/v1/topics/users`, { method: "PUT", body: { partitions: 2 } })).status,
    ).toBe(201);
    const created = await request(`${bus.url}/v1/topics/users/events`, {
      body: { type: "UserRegistered", key: "u1" },
    });
    expect(created.status).toBe(201);
  });

  it("on SIGTERM finishes the requests in flight, loses no acknowledged event and exits 0", async () => {
    // Given a bus under append load
    const location = await sqliteStore();
    const bus = await spawnBus({ store: location.url });
    const load = startAppendLoad({
      urls: [bus.url],
      topic: "users",
      writers: 6,
      maxRequests: 2000,
      prefix: "sigterm",
    });
    await eventually("some events acknowledged", async () => load.acked.size >= 100, {
      attempts: 3000,
      intervalMs: 10,
    });
    // and a reader long-polling an empty topic (in flight for up to a minute)
    await request(`${bus.url}/v1/topics/organizations`, { method: "PUT", body: { partitions: 1 } });
    const longPoll = request<{ events: StoredEvent[]; next: number }>(
      `${bus.url}/v1/topics/organizations/partitions/0/events?from=0&wait=60000`,
      { timeoutMs: 30_000 },
    );
    // (a round trip on another connection, so that the server has read the long-poll)
    expect((await request(`${bus.url}/healthz`)).status).toBe(200);

    // When it gets SIGTERM
    const exit = bus.stop("SIGTERM");
    // Then the long-poll is answered with what there is
    const polled = await longPoll;
    expect(polled.status).toBe(200);
    expect(polled.body).toEqual({ events: [], next: 0 });
    // and the process exits 0
    expect(await exit).toEqual({ code: 0, signal: null });
    load.stop();
    await load.done;
    // and every request that got an answer got a success or a 503 (shutting down), never another error
    const answered = load.requests.filter((sent) => sent.status !== undefined);
    expect(answered.filter((sent) => ![200, 201, 503].includes(sent.status as number))).toEqual([]);
    for (const sent of answered.filter((each) => each.status === 503))
      expect(sent.code).toBe("store-unavailable");
    // (pino logs to stdout: no error or fatal line)
    expect(bus.output().stdout).not.toMatch(/"level":(50|60)/);

    // and a new bus on the same store has every acknowledged event
    const restarted = await spawnBus({ store: location.url });
    const stored = expectIntactTopic(await scanTopic(restarted.url, "users"));
    for (const [id, coordinates] of load.acked) {
      expect(stored.get(id), `acknowledged event ${id}`).toMatchObject(coordinates as EventCoordinates);
    }
    expect((await restarted.stop("SIGINT")).code).toBe(0);
  });
});
