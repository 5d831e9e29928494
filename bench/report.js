import { cpus, totalmem } from "node:os";

/**
 * The targets the bus is held to, and the goals beyond them; never lowered to make a run pass.
 * Per store where they differ.
 */
export const targets = {
  sqliteBatchedShareOfRaw: { target: 0.4 },
  postgresBatchedTimesPeer: { target: 1, goal: 2 },
  postgresBatchedShareOfRaw: { target: 0.6, goal: 0.8 },
  singleShareOfHttpCeiling: { target: 0.8, goal: 0.95 },
  readerP99Ms: { sqlite: { target: 10, goal: 5 }, postgres: { target: 20, goal: 10 } },
  peakRssBytes: { target: 300 * 1024 * 1024 },
  fanOutTimesOneGroup: { target: 5, goal: 20 },
  handlerP99Ms: { target: 20 },
  catchUpEventsPerSecond: {
    sqlite: { target: 100_000, goal: 300_000 },
    postgres: { target: 60_000, goal: 300_000 },
  },
  validatedShareOfUnvalidated: { target: 0.8 },
};

/** What the figures were measured on. */
export function describeMachine() {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model ?? "unknown",
    cores: processors.length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

const integer = (value) => Math.round(value).toLocaleString("en-US");
const milliseconds = (value) => (value === null ? "—" : value.toFixed(2));
const megabytes = (bytes) => (bytes === null ? "—" : (bytes / 1024 ** 2).toFixed(1));
const verdict = (isPass) => (isPass ? "PASS" : "MISS");
/** PASS or MISS against the target, and whether the goal is met too (when there is one). */
const judge = (value, { target, goal }, isBetter = (a, b) => a >= b) =>
  !isBetter(value, target) ? "MISS" : goal !== undefined && isBetter(value, goal) ? "PASS, goal met" : "PASS";
const isBelow = (a, b) => a < b;
const goalText = (goal, format) => (goal === undefined ? "—" : format(goal));
const share = (value) => `${(value * 100).toFixed(0)}%`;

/** One table row per measured figure: the bus's, the baseline's, their ratio, target, goal, verdict. */
function rowsOfStore(results) {
  const {
    kind,
    rawBatched,
    rawBatchedOneStream,
    peerBatched,
    busBatched,
    rawSingle,
    busSingle,
    httpCeiling,
  } = results;
  const rows = [];
  if (busBatched && peerBatched) {
    const times = busBatched.eventsPerSecond / peerBatched.eventsPerSecond;
    const { target, goal } = targets.postgresBatchedTimesPeer;
    rows.push([
      kind,
      `batched append, 1000 events/request, ${busBatched.streams} streams, over HTTP (events/s)`,
      integer(busBatched.eventsPerSecond),
      `${integer(peerBatched.eventsPerSecond)} ${peerBatched.name}, appendToStream of 1000, ${peerBatched.streams} callers`,
      `${times.toFixed(2)}×`,
      `≥ ${target}× Emmett`,
      `${goal}×`,
      judge(times, targets.postgresBatchedTimesPeer),
    ]);
  }
  if (busBatched && rawBatched) {
    const ratio = busBatched.eventsPerSecond / rawBatched.eventsPerSecond;
    const shareTarget =
      kind === "postgres" ? targets.postgresBatchedShareOfRaw : targets.sqliteBatchedShareOfRaw;
    rows.push([
      kind,
      `batched append, 1000 events/request, ${busBatched.streams} streams (events/s)`,
      integer(busBatched.eventsPerSecond),
      `${integer(rawBatched.eventsPerSecond)} raw, 1000-row txns, ${rawBatched.streams} conn.` +
        (rawBatchedOneStream ? ` (1 conn.: ${integer(rawBatchedOneStream.eventsPerSecond)})` : ""),
      share(ratio),
      `≥ ${share(shareTarget.target)} of raw`,
      goalText(shareTarget.goal, share),
      judge(ratio, shareTarget),
    ]);
  }
  if (busSingle && httpCeiling) {
    const ratio = busSingle.eventsPerSecond / httpCeiling.eventsPerSecond;
    const { target, goal } = targets.singleShareOfHttpCeiling;
    rows.push([
      kind,
      `single-event append, ${busSingle.clients} clients (events/s)`,
      integer(busSingle.eventsPerSecond),
      `${integer(httpCeiling.eventsPerSecond)} HTTP ceiling (empty route, measured just before)`,
      share(ratio),
      `≥ ${share(target)} of ceiling`,
      share(goal),
      judge(ratio, targets.singleShareOfHttpCeiling),
    ]);
  }
  if (busSingle && rawSingle) {
    rows.push([
      kind,
      "  its latency p50 / p99 (ms)",
      `${milliseconds(busSingle.latencyMs.p50)} / ${milliseconds(busSingle.latencyMs.p99)}`,
      `${milliseconds(rawSingle.latencyMs.p50)} / ${milliseconds(rawSingle.latencyMs.p99)} raw commit; ` +
        `${integer(rawSingle.eventsPerSecond)}/s raw, 1 commit/event`,
      `${(busSingle.latencyMs.p99 / rawSingle.latencyMs.p99).toFixed(1)}× (p99)`,
      "—",
      "—",
      "info",
    ]);
  }
  rows.push(...rowsOfAppendToReader(results));
  if (busBatched) {
    const { peakRssBytes, idleRssBytes } = busBatched;
    rows.push([
      kind,
      "bus peak RSS (VmHWM) after the batched run (MB)",
      megabytes(peakRssBytes),
      `${megabytes(idleRssBytes)} idle after start`,
      peakRssBytes && idleRssBytes ? `${(peakRssBytes / idleRssBytes).toFixed(1)}×` : "—",
      `< ${targets.peakRssBytes.target / 1024 ** 2} MB`,
      "—",
      peakRssBytes === null ? "n/a" : verdict(peakRssBytes < targets.peakRssBytes.target),
    ]);
  }
  rows.push(...rowsOfSubscriptions(kind, results.subscriptions));
  rows.push(...rowsOfValidation(kind, results.validation));
  if (results.error) rows.push([kind, `FAILED: ${results.error}`, "—", "—", "—", "—", "—", "MISS"]);
  return rows;
}

/** The append→reader runs: the p99 of each, judged on the worst; PASS only if every run passes. */
function rowsOfAppendToReader({ kind, appendToReader, rawSingle }) {
  if (!appendToReader || appendToReader.length === 0) return [];
  const limits = targets.readerP99Ms[kind];
  const p99s = appendToReader.map((run) => run.readerLatencyMs.p99);
  const p50s = appendToReader.map((run) => run.readerLatencyMs.p50);
  const worst = Math.max(...p99s);
  const passes = p99s.filter((p99) => p99 < limits.target).length;
  const result = judge(worst, limits, isBelow);
  return [
    [
      kind,
      `append→reader latency at ${appendToReader[0].offeredEventsPerSecond}/s, p99 of each of ${p99s.length} runs (ms)`,
      `${p99s.map(milliseconds).join(" / ")} (p50 ${p50s.map(milliseconds).join(" / ")})`,
      rawSingle ? `${milliseconds(rawSingle.latencyMs.p99)} raw commit p99` : "—",
      rawSingle ? `${(worst / rawSingle.latencyMs.p99).toFixed(1)}× (worst p99)` : "—",
      `p99 < ${limits.target} ms`,
      `< ${limits.goal} ms`,
      passes === p99s.length ? result : `MISS (${passes} of ${p99s.length} under)`,
    ],
  ];
}

/** The rows of the subscription suite. */
function rowsOfSubscriptions(kind, results) {
  if (results === undefined) return [];
  const rows = [];
  const { fanOut, handlerLatency, push, catchUp } = results;
  if (fanOut) {
    const times = fanOut.manyGroupsEventsPerSecond / fanOut.oneGroupEventsPerSecond;
    const { target, goal } = targets.fanOutTimesOneGroup;
    rows.push([
      kind,
      `pull delivery, ${fanOut.groups} subscriptions on one topic, total (events/s)`,
      integer(fanOut.manyGroupsEventsPerSecond),
      `${integer(fanOut.oneGroupEventsPerSecond)} with 1 subscription`,
      `${times.toFixed(1)}×`,
      `≥ ${target}× 1 subscription`,
      `${goal}×`,
      judge(times, targets.fanOutTimesOneGroup),
    ]);
  }
  if (handlerLatency) {
    const { latencyMs } = handlerLatency;
    rows.push([
      kind,
      `append→SDK handler latency p50 / p99, ${handlerLatency.offeredEventsPerSecond}/s (ms)`,
      `${milliseconds(latencyMs.p50)} / ${milliseconds(latencyMs.p99)}`,
      handlerLatency.fromCommitMs
        ? `${milliseconds(handlerLatency.fromCommitMs.p50)} / ${milliseconds(handlerLatency.fromCommitMs.p99)} from commit to handler (ms resolution)`
        : "—",
      "—",
      `p99 < ${targets.handlerP99Ms.target} ms`,
      "—",
      verdict(latencyMs.p99 < targets.handlerP99Ms.target),
    ]);
  }
  if (push) {
    rows.push([
      kind,
      `push delivery to a local receiver, batches of ${push.batchSize} (events/s)`,
      integer(push.eventsPerSecond),
      `first batch after ${push.firstBatchAfterMs.toFixed(0)} ms`,
      "—",
      "report only",
      "—",
      "info",
    ]);
  }
  if (catchUp) {
    const limits = targets.catchUpEventsPerSecond[kind];
    rows.push([
      kind,
      `catch-up of a new subscription through ${integer(catchUp.events)} events, SDK (events/s)`,
      integer(catchUp.eventsPerSecond),
      `${catchUp.seconds.toFixed(1)} s in all`,
      "—",
      `≥ ${integer(limits.target)}/s`,
      `${integer(limits.goal)}/s`,
      judge(catchUp.eventsPerSecond, limits),
    ]);
  }
  return rows;
}

function rowsOfValidation(kind, validation) {
  if (validation === undefined) return [];
  const { target } = targets.validatedShareOfUnvalidated;
  return [
    [
      kind,
      "batched append with every event validated against a registered schema (events/s)",
      integer(validation.validatedEventsPerSecond),
      `${integer(validation.unvalidatedEventsPerSecond)} without schemas (medians of ${validation.rounds.plain.length} paired rounds)`,
      share(validation.share),
      `≥ ${share(target)} of unvalidated`,
      "—",
      verdict(validation.share >= target),
    ],
  ];
}

const percent = (value) => (value === null || value === undefined ? "—" : `${value.toFixed(0)}%`);

/** Where the CPU went in each bus scenario: a saturated client or machine shows here. */
function cpuLines(results) {
  const scenarios = [
    ["batched", results.busBatched],
    ["single", results.busSingle],
    ...(results.appendToReader ?? []).map((run, index) => [`append→reader run ${index + 1}`, run]),
  ];
  return scenarios
    .filter(([, figures]) => figures?.cpu)
    .map(
      ([name, { cpu }]) =>
        `  ${results.kind} ${name}: bus ${percent(cpu.busPercentOfCore)} of a core, load generator ` +
        `${percent(cpu.loadGeneratorPercentOfCore)}, machine ${percent(cpu.machineBusyPercent)} of all cores busy`,
    );
}

/** The report as a Markdown table, readable in a terminal and pasteable into RESULTS.md. */
export function formatReport({ machine, startedAt, loadAverage, stores }) {
  const header = [
    "store",
    "measure",
    "Tributary",
    "baseline (same run, same payloads)",
    "ratio",
    "target",
    "goal",
    "result",
  ];
  const rows = stores.flatMap(rowsOfStore);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => String(row[column]).length)),
  );
  const line = (cells) =>
    `| ${cells.map((cell, column) => String(cell).padEnd(widths[column])).join(" | ")} |`;
  const separator = `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`;
  return [
    `Tributary benchmark, ${startedAt}`,
    `${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`,
    `load average (1 min) at start ${loadAverage.atStart.toFixed(2)}, at end ${loadAverage.atEnd.toFixed(2)}`,
    "",
    line(header),
    separator,
    ...rows.map(line),
    "",
    "CPU during the bus runs:",
    ...stores.flatMap(cpuLines),
    "",
    ...stores
      .filter((results) => results.httpCeiling)
      .map(
        ({ kind, httpCeiling }) =>
          `HTTP ceiling before the ${kind} single-event run (an empty Fastify append route, the same clients and payloads): ` +
          `${integer(httpCeiling.eventsPerSecond)} requests/s, p50 / p99 ${httpCeiling.latencyMs.p50.toFixed(2)} / ${httpCeiling.latencyMs.p99.toFixed(2)} ms`,
      ),
    "",
  ].join("\n");
}
