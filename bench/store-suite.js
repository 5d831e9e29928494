import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMachineCpuTicks, readProcessCpuMs, startBus } from "./bus-process.js";
import { combineRuns, createEmmettPeer, measureEmmettBatched } from "./emmett-peer.js";
import { measureHttpCeiling } from "./http-ceiling.js";
import { createHttpClient } from "./http-client.js";
import { batchBody, createEvents, createRows } from "./payloads.js";
import { createBenchDatabase, createRawPostgresWriter } from "./raw-postgres.js";
import { createRawSqliteWriter } from "./raw-sqlite.js";
import {
  combineRawSingle,
  measureAppendToReader,
  measureBusBatched,
  measureBusSingle,
  measureRawBatched,
  measureRawSingle,
} from "./scenarios.js";

/** The shape of the run; small enough that both stores finish in about 2.5 minutes on 2 cores. */
export const plan = {
  batched: { requests: 150, warmupRequests: 5, eventsPerRequest: 1000, streams: 2, partitions: 4 },
  single: { clients: 64, warmupMs: 1000, durationMs: 6000, partitions: 4, bodies: 20_000 },
  rawSingle: { durationMs: 5000, warmupRows: 50, rows: 60_000 },
  // `runs` repetitions, each on a fresh bus: a p99 from one run says little about the stalls.
  appendToReader: {
    eventsPerSecond: 1000,
    events: 5500,
    warmupEvents: 500,
    runs: Number(process.env.BENCH_LATENCY_RUNS ?? 3),
  },
};

/**
 * Where one store kind keeps the run's data: every scenario gets a fresh bus store and a fresh raw
 * table, so that none of them inherits another's table size. `dispose` removes it all.
 */
export async function createLocation(kind, { postgresAdminUrl }) {
  if (kind === "sqlite") {
    const folder = mkdtempSync(join(tmpdir(), "tributary-bench-"));
    return {
      details: { folder },
      busStoreUrl: (name) => `sqlite:${join(folder, `bus-${name}.db`)}`,
      createRawWriter: async (name) => createRawSqliteWriter({ path: join(folder, `raw-${name}.db`) }),
      // SQLite has one writer at a time; better-sqlite3 is synchronous, so a second in-process
      // stream could only take turns with the first. One stream is its fastest honest way.
      rawBatchedStreams: 1,
      dispose: async () => rmSync(folder, { recursive: true, force: true }),
    };
  }
  const database = await createBenchDatabase(postgresAdminUrl);
  return {
    details: { database: database.name, settings: database.settings },
    busStoreUrl: (name) => {
      const url = new URL(database.url);
      url.searchParams.set("schema", `bus_${name}`);
      return url.toString();
    },
    createRawWriter: (name, connections = 1) =>
      createRawPostgresWriter({ databaseUrl: database.url, schema: `raw_${name}`, connections }),
    // PostgreSQL takes concurrent transactions: the raw driver gets as many connections as the
    // bus gets request streams.
    rawBatchedStreams: plan.batched.streams,
    // The peer event store, on a database of its own on the same server.
    createPeer: () => createEmmettPeer(postgresAdminUrl),
    dispose: () => database.drop(),
  };
}

/**
 * Starts counting the CPU the bus and this process (the load generator) use, as a percentage of one
 * core, and how busy the whole machine was (percentage of all cores, the database included), to
 * tell a saturated bus from a saturated client or machine.
 */
function startCpuCount(pid) {
  const startedAt = performance.now();
  const busBefore = readProcessCpuMs(pid);
  const benchBefore = process.cpuUsage();
  const machineBefore = readMachineCpuTicks();
  return () => {
    const elapsedMs = performance.now() - startedAt;
    const busAfter = readProcessCpuMs(pid);
    const bench = process.cpuUsage(benchBefore);
    const machineAfter = readMachineCpuTicks();
    return {
      busPercentOfCore:
        busBefore === null || busAfter === null ? null : ((busAfter - busBefore) / elapsedMs) * 100,
      loadGeneratorPercentOfCore: ((bench.user + bench.system) / 1000 / elapsedMs) * 100,
      machineBusyPercent:
        machineBefore === null || machineAfter === null
          ? null
          : ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100,
    };
  };
}

async function withBus(storeUrl, options, use) {
  const bus = await startBus({ storeUrl, ...options });
  const client = createHttpClient(bus.url, { maxSockets: 64 });
  try {
    return await use(bus, client);
  } finally {
    client.close();
    await bus.stop();
  }
}

async function withRawWriter(location, name, connections, use) {
  const writer = await location.createRawWriter(name, connections);
  try {
    return await use(writer);
  } finally {
    await writer.close();
  }
}

function chunk(items, size) {
  const chunks = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** Fails the run unless the store holds `expected` rows: a figure for lost writes means nothing. */
function assertStored(what, stored, expected) {
  if (stored !== expected) throw new Error(`${what} stored ${stored} events, not ${expected}`);
}

async function putTopic(client, topic, partitions) {
  await client.sendExpecting([200, 201], "PUT", `/v1/topics/${topic}`, JSON.stringify({ partitions }));
}

/**
 * Runs every scenario on one store kind and returns the raw figures. `progress(text)` is told what
 * runs; `cpuProfileDir`, when set, makes each bus process write a CPU profile there.
 */
export async function runStoreSuite(kind, { postgresAdminUrl, progress, cpuProfileDir, onDispose }) {
  const location = await createLocation(kind, { postgresAdminUrl });
  // The caller's emergency clean-up (time limit, signal) must be able to remove it too.
  const unregister = onDispose(location.dispose);
  const busOptions = cpuProfileDir ? { cpuProfileDir } : {};
  try {
    const results = { kind, location: location.details };

    const batched = plan.batched;
    const batchEvents = createEvents(
      (batched.requests + batched.warmupRequests) * batched.eventsPerRequest,
      1,
    );
    const batchRows = chunk(createRows("orders", batched.partitions, batchEvents), batched.eventsPerRequest);
    progress(`${kind}: batched append, raw driver`);
    results.rawBatched = await withRawWriter(
      location,
      "batched",
      location.rawBatchedStreams,
      async (writer) => {
        const figures = await measureRawBatched(writer, batchRows, {
          streams: location.rawBatchedStreams,
          warmupBatches: batched.warmupRequests,
        });
        assertStored("the raw batched run", await writer.countRows(), batchEvents.length);
        return figures;
      },
    );
    results.rawBatched.streams = location.rawBatchedStreams;
    if (location.rawBatchedStreams > 1) {
      // For reference only: the same rows on a single connection, as one transaction at a time.
      progress(`${kind}: batched append, raw driver, 1 connection`);
      results.rawBatchedOneStream = await withRawWriter(location, "batched_one", 1, (writer) =>
        measureRawBatched(writer, batchRows, { streams: 1, warmupBatches: batched.warmupRequests }),
      );
    }

    const bodies = chunk(batchEvents, batched.eventsPerRequest).map(batchBody);
    // The peer appends the same batches, half just before the bus's run and half just after, so
    // that a drift of the machine's speed weighs on both alike.
    const peer = location.createPeer ? await location.createPeer() : undefined;
    const unregisterPeer = peer ? onDispose(peer.close) : () => undefined;
    try {
      const peerBatches = chunk(batchEvents, batched.eventsPerRequest);
      const half = batched.warmupRequests + Math.floor(batched.requests / 2);
      const peerRuns = [];
      if (peer) {
        progress(`${kind}: batched append, Emmett (first half)`);
        peerRuns.push(
          await measureEmmettBatched(peer, peerBatches.slice(0, half), {
            streams: batched.streams,
            warmupBatches: batched.warmupRequests,
          }),
        );
      }
      progress(`${kind}: batched append, bus`);
      results.busBatched = await withBus(location.busStoreUrl("batched"), busOptions, async (bus, client) => {
        const idleRssBytes = bus.rssBytes();
        await putTopic(client, "orders", batched.partitions);
        const stopCpuCount = startCpuCount(bus.pid);
        const figures = await measureBusBatched(client, "orders", bodies, {
          streams: batched.streams,
          warmupBatches: batched.warmupRequests,
          eventsPerBody: batched.eventsPerRequest,
        });
        // The peak since the process started, read right after the run, before shutdown.
        const peakRssBytes = bus.peakRssBytes();
        const topic = await client.sendExpecting([200], "GET", "/v1/topics/orders");
        assertStored("the bus's batched run", topic.events, batchEvents.length);
        return { ...figures, streams: batched.streams, idleRssBytes, peakRssBytes, cpu: stopCpuCount() };
      });
      if (peer) {
        progress(`${kind}: batched append, Emmett (second half)`);
        peerRuns.push(
          await measureEmmettBatched(peer, peerBatches.slice(half), {
            streams: batched.streams,
            warmupBatches: 0,
          }),
        );
        assertStored("Emmett's batched run", await peer.countStored(), batchEvents.length);
        results.peerBatched = {
          name: "Emmett 0.42 (in-process)",
          ...combineRuns(peerRuns),
          streams: batched.streams,
        };
      }
    } finally {
      unregisterPeer();
      await peer?.close();
    }

    // The disk's fsync time drifts over seconds on a shared machine, so the one-commit-per-event
    // baseline is measured right before and right after the bus's run, and the two combined.
    const raw = plan.rawSingle;
    const single = plan.single;
    const singleRows = createRows("orders", single.partitions, createEvents(raw.rows, 2));
    const singleBodies = createEvents(single.bodies, 2).map((event) => JSON.stringify(event));
    await withRawWriter(location, "single", 1, async (writer) => {
      progress(`${kind}: one commit per event, raw driver (before)`);
      const before = await measureRawSingle(writer, singleRows, {
        durationMs: raw.durationMs / 2,
        warmupRows: raw.warmupRows,
      });
      // The machine's HTTP ceiling, right before the bus's run: the single-event target is a share
      // of it, and it drifts with the machine's load.
      progress(`${kind}: HTTP ceiling, an empty Fastify append route, ${single.clients} clients`);
      results.httpCeiling = await measureHttpCeiling(single);
      progress(`${kind}: single-event appends, ${single.clients} clients, bus`);
      results.busSingle = await withBus(location.busStoreUrl("single"), busOptions, async (bus, client) => {
        await putTopic(client, "orders", single.partitions);
        const stopCpuCount = startCpuCount(bus.pid);
        const figures = await measureBusSingle(client, "orders", singleBodies, single);
        return { ...figures, clients: single.clients, cpu: stopCpuCount() };
      });
      progress(`${kind}: one commit per event, raw driver (after)`);
      const after = await measureRawSingle(writer, singleRows, {
        durationMs: raw.durationMs / 2,
        startIndex: before.nextIndex,
      });
      results.rawSingle = combineRawSingle([before, after]);
    });

    const paced = plan.appendToReader;
    const pacedEvents = createEvents(paced.events, 3);
    results.appendToReader = [];
    for (let run = 1; run <= paced.runs; run += 1) {
      progress(
        `${kind}: append-to-reader latency at ${paced.eventsPerSecond} events/s, bus, run ${run} of ${paced.runs}`,
      );
      const figures = await withBus(location.busStoreUrl(`latency_${run}`), busOptions, async (bus) => {
        // Producer and reader on separate agents, so the long-poll never waits behind appends.
        const producer = createHttpClient(bus.url, { maxSockets: 64 });
        const reader = createHttpClient(bus.url, { maxSockets: 1 });
        try {
          await putTopic(producer, "tail", 1);
          const stopCpuCount = startCpuCount(bus.pid);
          const measured = await measureAppendToReader(producer, reader, "tail", pacedEvents, paced);
          return { ...measured, cpu: stopCpuCount() };
        } finally {
          producer.close();
          reader.close();
        }
      });
      results.appendToReader.push(figures);
    }
    return results;
  } finally {
    unregister();
    await location.dispose();
  }
}
