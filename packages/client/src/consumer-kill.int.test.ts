import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RunningServer, startServer } from "@tributary/bus";
import { createTestSchema, createTestStoreUrl, type TestStoreUrl } from "@tributary/bus/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, type TributaryClient } from "./client.js";
import type { Consumer } from "./consumer.js";
import type { ConsumerChildConfig } from "./consumer-child.test.fixture.js";
import { type Effect, type EffectsLocation, openEffects } from "./consumer-effects.test.fixture.js";

const childScript = fileURLToPath(new URL("./consumer-child.test.fixture.ts", import.meta.url));

const keys = Array.from({ length: 12 }, (_, index) => `user-${index + 1}`);
const versionsPerRound = 5;

/** Polls `check` every 25 ms until it holds; fails after `timeoutMs` naming `what`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  for (let waited = 0; waited < timeoutMs; waited += 25) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Child {
  process: ChildProcess;
  lines: string[];
  exited: Promise<NodeJS.Signals | number | null>;
}

const children = new Set<ChildProcess>();

/** Starts a consumer in a child process, running its TypeScript source through tsx. */
function startChild(config: ConsumerChildConfig): Child {
  const child = spawn(process.execPath, ["--import", "tsx", childScript, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const lines: string[] = [];
  let partial = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stderr?.resume();
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve(signal ?? code);
    }),
  );
  return { process: child, lines, exited };
}

/** Appends one round of versions for every key, in one batch (each key's versions in order). */
async function appendRound(client: TributaryClient, round: number): Promise<void> {
  const events = [];
  for (let step = 0; step < versionsPerRound; step += 1) {
    for (const key of keys) {
      events.push({
        type: "UserRenamed",
        key,
        data: { name: `${key} v${round * versionsPerRound + step + 1}` },
      });
    }
  }
  await client.append("users", events);
}

/** Versions in order of first appearance: a redelivery repeats a version, it must never go back. */
function firstSeenVersions(log: Effect[], key: string): number[] {
  const seen = new Set<number>();
  for (const entry of log) if (entry.key === key) seen.add(entry.version);
  return [...seen];
}

function isIncreasing(values: number[]): boolean {
  return values.every((value, index) => index === 0 || value > (values[index - 1] as number));
}

describe.each([
  ["SQLite", "sqlite"],
  ["PostgreSQL", "postgres"],
] as const)("a subscription shared by instances, one killed mid-batch, effects in %s", (_, effectsKind) => {
  let bus: TestStoreUrl;
  let server: RunningServer;
  let client: TributaryClient;
  let location: EffectsLocation;
  let cleanupEffects: () => Promise<void>;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    bus = await createTestStoreUrl("sqlite");
    server = await startServer({ store: bus.url, port: 0, logger: false });
    client = createClient({ url: server.url });
    if (effectsKind === "sqlite") {
      const folder = mkdtempSync(join(tmpdir(), "tributary-effects-"));
      location = { kind: "sqlite", file: join(folder, "service.db") };
      cleanupEffects = async () => rmSync(folder, { recursive: true, force: true });
    } else {
      const schema = await createTestSchema();
      location = { kind: "postgres", url: schema.url, schema: schema.schema };
      cleanupEffects = () => schema.drop();
    }
  });

  afterEach(async () => {
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
  });

  afterAll(async () => {
    await server?.close();
    await bus?.cleanup();
    await cleanupEffects?.();
  });

  it("processes every event once, in per-key order, after an instance dies holding a batch", async () => {
    // Given a 4-partition topic with a round of user events, a subscription with short leases,
    // and one consumer instance in a child process that owns every partition
    await client.putTopic("users", { partitions: 4 });
    await client.putSubscription("profiles", {
      topic: "users",
      start: "earliest",
      leaseMs: 1_000,
      ackTimeoutMs: 2_000,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    await appendRound(client, 0);
    const effects = await openEffects(location, true);
    const child = startChild({
      url: server.url,
      subscription: "profiles",
      consumer: "c-child",
      effects: location,
      hangAfter: 10,
      handlerDelayMs: 10,
      max: 20,
    });
    await eventually(
      "the child to handle events",
      () => child.lines.filter((line) => line.startsWith("handled")).length >= 3,
    );

    // When two more instances join in this process, and the child is killed with a handler running
    const logs = new Map<string, Effect[]>();
    for (const id of ["a-survivor", "b-survivor"]) {
      const log: Effect[] = [];
      logs.set(id, log);
      const apply = effects.handler(id);
      consumers.push(
        await client.subscribe(
          "profiles",
          { ensure: false, consumer: id, max: 10, wait: 500, onError: () => {} },
          async (event, context) => {
            log.push({
              eventId: event.id,
              key: event.key as string,
              version: event.version as number,
              consumer: id,
            });
            await apply(event, context);
          },
        ),
      );
    }
    await eventually("the child to hang in a handler", () => child.lines.includes("stuck"));
    child.process.kill("SIGKILL");
    expect(await child.exited).toBe("SIGKILL");
    const killedAt = new Map([...logs].map(([id, log]) => [id, log.length]));
    await appendRound(client, 1);

    // Then the survivors take over: every event is done
    const total = keys.length * versionsPerRound * 2;
    await eventually("the subscription to catch up", async () => {
      const status = await client.getSubscription("profiles");
      return status.lag === 0 && status.partitions.every((partition) => partition.inFlight === 0);
    });
    await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));

    // and every event had its effect exactly once, in version order per key
    const applied = await effects.list();
    await effects.close();
    expect(applied).toHaveLength(total);
    expect(new Set(applied.map((effect) => effect.eventId)).size).toBe(total);
    for (const key of keys) {
      expect(applied.filter((effect) => effect.key === key).map((effect) => effect.version)).toEqual(
        Array.from({ length: versionsPerRound * 2 }, (_, index) => index + 1),
      );
    }
    // and the child's unacknowledged batches went to the survivors, who skipped what it had applied
    // (its partitions were all mid-batch when it hung: they run in parallel, and it hung on its 11th)
    const appliedByChild = new Set(
      applied.filter((effect) => effect.consumer === "c-child").map((effect) => effect.eventId),
    );
    expect(appliedByChild.size).toBeGreaterThanOrEqual(10);
    expect([...logs.values()].flat().some((entry) => appliedByChild.has(entry.eventId))).toBe(true);
    // and each survivor handled every key in increasing versions after the kill
    for (const [id, log] of logs) {
      const afterKill = log.slice(killedAt.get(id));
      for (const key of keys) expect(isIncreasing(firstSeenVersions(afterKill, key))).toBe(true);
    }
    // and the stopped instances left: no consumer holds a lease
    const status = await client.getSubscription("profiles");
    expect(status.consumers).toEqual([]);
    expect(status.partitions.every((partition) => partition.owner === null)).toBe(true);
  });
});
