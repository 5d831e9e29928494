// `npm run bench`: measures the bus, run as a separate process and driven over loopback HTTP,
// against the raw database drivers on the same payloads, for SQLite and PostgreSQL. Prints a table
// and writes the raw figures to bench/out/. Settings (environment):
//   BENCH_STORES           sqlite,postgres (default both)
//   BENCH_POSTGRES_URL     admin URL on loopback (default postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_CPU_PROFILE_DIR  run each bus under --cpu-prof, profiles written there
//   BENCH_SUITES           append,subscriptions,validation (default all)
//   BENCH_SUBSCRIPTIONS    fanout,latency,push,catchup (default all)
//   BENCH_BUS_ENTRY        another build's bin/tributary.js to run as the bus (A/B)
//   BENCH_BUS_NODE_FLAGS   extra Node flags for every bus, e.g. --trace-gc
//   BENCH_BUS_LOG_DIR      write each bus's whole output to a file there
//   BENCH_LATENCY_RUNS     repetitions of the append→reader latency run (default 3)
//   BENCH_TIME_LIMIT_S     hard limit of the whole run (default 1200)
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { killRunningBuses } from "./bus-process.js";
import { describeMachine, formatReport, targets } from "./report.js";
import { createLocation, plan, runStoreSuite } from "./store-suite.js";
import { runSubscriptionSuite, subscriptionPlan } from "./subscription-suite.js";
import { runValidationSuite, validationPlan } from "./validation-suite.js";

const outFolder = fileURLToPath(new URL("./out/", import.meta.url));
const stores = (process.env.BENCH_STORES ?? "sqlite,postgres").split(",").map((name) => name.trim());
const postgresAdminUrl = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const timeLimitSeconds = Number(process.env.BENCH_TIME_LIMIT_S ?? 1200);
const suites = (process.env.BENCH_SUITES ?? "append,subscriptions,validation")
  .split(",")
  .map((name) => name.trim());
const subscriptionScenarios = process.env.BENCH_SUBSCRIPTIONS?.split(",").map((name) => name.trim());
const cpuProfileDir = process.env.BENCH_CPU_PROFILE_DIR;

const progress = (text) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

// Clean-ups still owed (temp folders, the benchmark database), for an emergency stop.
const pendingDisposals = new Set();
const onDispose = (dispose) => {
  pendingDisposals.add(dispose);
  return () => pendingDisposals.delete(dispose);
};

let isStoppingNow = false;
/** Stops everything at once (time limit or signal): kills the buses, removes the data, exits. */
async function stopNow(reason, exitCode) {
  if (isStoppingNow) return;
  isStoppingNow = true;
  process.stderr.write(`bench: ${reason}: stopping and cleaning up\n`);
  killRunningBuses();
  const cleanup = Promise.allSettled([...pendingDisposals].map((dispose) => dispose()));
  await Promise.race([cleanup, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  process.exit(exitCode);
}

async function main() {
  for (const kind of stores) {
    if (kind !== "sqlite" && kind !== "postgres") throw new Error(`BENCH_STORES: unknown store "${kind}"`);
  }
  const adminHost = new URL(postgresAdminUrl).hostname;
  if (stores.includes("postgres") && adminHost !== "127.0.0.1" && adminHost !== "localhost") {
    throw new Error(`BENCH_POSTGRES_URL must point at loopback, not ${adminHost}`);
  }
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  // Other work on the machine skews every figure; the load average says how much there was.
  const loadAverageAtStart = loadavg()[0];
  const results = [];
  for (const kind of stores) {
    if (isStoppingNow) break;
    try {
      const result = suites.includes("append")
        ? await runStoreSuite(kind, { postgresAdminUrl, progress, cpuProfileDir, onDispose })
        : { kind };
      if (suites.includes("validation")) {
        const location = await createLocation(kind, { postgresAdminUrl });
        const unregister = onDispose(location.dispose);
        try {
          result.validation = await runValidationSuite(kind, location, { progress });
        } finally {
          unregister();
          await location.dispose();
        }
      }
      if (suites.includes("subscriptions")) {
        const location = await createLocation(kind, { postgresAdminUrl });
        const unregister = onDispose(location.dispose);
        try {
          result.subscriptions = await runSubscriptionSuite(kind, location, {
            progress,
            only: subscriptionScenarios,
            cpuProfileDir,
          });
        } finally {
          unregister();
          await location.dispose();
        }
      }
      results.push(result);
    } catch (error) {
      // An emergency stop kills the bus under the run: that failure is not worth reporting.
      if (isStoppingNow) break;
      // One store's failure still lets the other be measured; the run exits non-zero.
      process.stderr.write(`bench: ${kind} failed: ${error.stack ?? error}\n`);
      results.push({ kind, error: error.message.split("\n")[0] });
    }
  }

  // An emergency stop exits on its own once it has cleaned up; write no partial report.
  if (isStoppingNow) return new Promise(() => {});
  const report = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    loadAverage: { atStart: loadAverageAtStart, atEnd: loadavg()[0] },
    plan,
    subscriptionPlan,
    validationPlan,
    targets,
    stores: results,
  };
  mkdirSync(outFolder, { recursive: true });
  const outFile = `${outFolder}results-${startedAt.replaceAll(":", "-")}.json`;
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatReport(report)}\nraw figures: ${outFile}\n`);
  return results.some((result) => result.error) ? 1 : 0;
}

const deadline = setTimeout(
  () => stopNow(`time limit of ${timeLimitSeconds} s reached`, 1),
  timeLimitSeconds * 1000,
);
deadline.unref();
process.once("SIGINT", () => stopNow("interrupted", 130));
process.once("SIGTERM", () => stopNow("terminated", 143));

main().then(
  (exitCode) => {
    clearTimeout(deadline);
    process.exitCode = exitCode;
  },
  (error) => {
    clearTimeout(deadline);
    process.stderr.write(`bench: ${error.stack ?? error}\n`);
    process.exitCode = 1;
  },
);
