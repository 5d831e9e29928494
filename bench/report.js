import { cpus, totalmem } from "node:os";

/** The targets the bus is held to; never lowered to make a run pass. */
export const targets = {
  batchedShareOfRaw: 0.4,
  singleTimesRaw: 3,
  sqliteReaderP99Ms: 10,
  peakRssBytes: 300 * 1024 * 1024,
  fanOutTimesOneGroup: 5,
  handlerP99Ms: 20,
  catchUpEventsPerSecond: 100_000,
  validatedShareOfUnvalidated: 0.8,
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

/** One table row per measured figure: the bus's, the baseline's, their ratio, the target, the verdict. */
function rowsOfStore(results) {
  const { kind, rawBatched, rawBatchedOneStream, busBatched, rawSingle, busSingle, appendToReader } = results;
  const rows = [];
  if (busBatched && rawBatched) {
    const share = busBatched.eventsPerSecond / rawBatched.eventsPerSecond;
    rows.push([
      kind,
      `batched append, 1000 events/request, ${busBatched.streams} streams (events/s)`,
      integer(busBatched.eventsPerSecond),
      `${integer(rawBatched.eventsPerSecond)} raw, 1000-row txns, ${rawBatched.streams} conn.` +
        (rawBatchedOneStream ? ` (1 conn.: ${integer(rawBatchedOneStream.eventsPerSecond)})` : ""),
      `${(share * 100).toFixed(0)}%`,
      `≥ ${targets.batchedShareOfRaw * 100}% of raw`,
      verdict(share >= targets.batchedShareOfRaw),
    ]);
  }
  if (busSingle && rawSingle) {
    const times = busSingle.eventsPerSecond / rawSingle.eventsPerSecond;
    rows.push([
      kind,
      `single-event append, ${busSingle.clients} clients (events/s)`,
      integer(busSingle.eventsPerSecond),
      `${integer(rawSingle.eventsPerSecond)} raw, 1 commit/event`,
      `${times.toFixed(2)}×`,
      `≥ ${targets.singleTimesRaw}× raw`,
      verdict(times >= targets.singleTimesRaw),
    ]);
    rows.push([
      kind,
      "  its latency p50 / p99 (ms)",
      `${milliseconds(busSingle.latencyMs.p50)} / ${milliseconds(busSingle.latencyMs.p99)}`,
      `${milliseconds(rawSingle.latencyMs.p50)} / ${milliseconds(rawSingle.latencyMs.p99)} raw commit`,
      `${(busSingle.latencyMs.p99 / rawSingle.latencyMs.p99).toFixed(1)}× (p99)`,
      "—",
      "info",
    ]);
  }
  if (appendToReader && rawSingle) {
    const { readerLatencyMs } = appendToReader;
    const isSqlite = kind === "sqlite";
    rows.push([
      kind,
      `append→reader latency p50 / p99, ${appendToReader.offeredEventsPerSecond}/s (ms)`,
      `${milliseconds(readerLatencyMs.p50)} / ${milliseconds(readerLatencyMs.p99)}`,
      `${milliseconds(rawSingle.latencyMs.p50)} / ${milliseconds(rawSingle.latencyMs.p99)} raw commit`,
      `${(readerLatencyMs.p99 / rawSingle.latencyMs.p99).toFixed(1)}× (p99)`,
      isSqlite ? `p99 < ${targets.sqliteReaderP99Ms} ms` : "report only",
      isSqlite ? verdict(readerLatencyMs.p99 < targets.sqliteReaderP99Ms) : "info",
    ]);
  }
  if (busBatched) {
    const { peakRssBytes, idleRssBytes } = busBatched;
    rows.push([
      kind,
      "bus peak RSS (VmHWM) after the batched run (MB)",
      megabytes(peakRssBytes),
      `${megabytes(idleRssBytes)} idle after start`,
      peakRssBytes && idleRssBytes ? `${(peakRssBytes / idleRssBytes).toFixed(1)}×` : "—",
      `< ${targets.peakRssBytes / 1024 ** 2} MB`,
      peakRssBytes === null ? "n/a" : verdict(peakRssBytes < targets.peakRssBytes),
    ]);
  }
  rows.push(...rowsOfSubscriptions(kind, results.subscriptions));
  rows.push(...rowsOfValidation(kind, results.validation));
  if (results.error) rows.push([kind, `FAILED: ${results.error}`, "—", "—", "—", "—", "MISS"]);
  return rows;
}

/** The rows of the subscription suite (issue 3's targets). */
function rowsOfSubscriptions(kind, results) {
  if (results === undefined) return [];
  const rows = [];
  const { fanOut, handlerLatency, push, catchUp } = results;
  if (fanOut) {
    const times = fanOut.manyGroupsEventsPerSecond / fanOut.oneGroupEventsPerSecond;
    rows.push([
      kind,
      `pull delivery, ${fanOut.groups} subscriptions on one topic, total (events/s)`,
      integer(fanOut.manyGroupsEventsPerSecond),
      `${integer(fanOut.oneGroupEventsPerSecond)} with 1 subscription`,
      `${times.toFixed(1)}×`,
      `≥ ${targets.fanOutTimesOneGroup}× 1 subscription`,
      verdict(times >= targets.fanOutTimesOneGroup),
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
      `p99 < ${targets.handlerP99Ms} ms`,
      verdict(latencyMs.p99 < targets.handlerP99Ms),
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
      "info",
    ]);
  }
  if (catchUp) {
    rows.push([
      kind,
      `catch-up of a new subscription through ${integer(catchUp.events)} events (events/s)`,
      integer(catchUp.eventsPerSecond),
      `${catchUp.seconds.toFixed(1)} s in all`,
      "—",
      `> ${integer(targets.catchUpEventsPerSecond)}/s`,
      verdict(catchUp.eventsPerSecond > targets.catchUpEventsPerSecond),
    ]);
  }
  return rows;
}

function rowsOfValidation(kind, validation) {
  if (validation === undefined) return [];
  const { share } = validation;
  return [
    [
      kind,
      "batched append with every event validated against a registered schema (events/s)",
      integer(validation.validatedEventsPerSecond),
      `${integer(validation.unvalidatedEventsPerSecond)} without schemas (medians of ${validation.rounds.plain.length} paired rounds)`,
      `${(share * 100).toFixed(0)}%`,
      `≥ ${targets.validatedShareOfUnvalidated * 100}% of unvalidated`,
      verdict(share >= targets.validatedShareOfUnvalidated),
    ],
  ];
}

const percent = (value) => (value === null || value === undefined ? "—" : `${value.toFixed(0)}%`);

/** Where the CPU went in each bus scenario: a saturated client or machine shows here. */
function cpuLines(results) {
  const scenarios = [
    ["batched", results.busBatched],
    ["single", results.busSingle],
    ["append→reader", results.appendToReader],
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
export function formatReport({ machine, startedAt, loadAverage, stores, httpCeiling }) {
  const header = [
    "store",
    "measure",
    "Tributary",
    "baseline (same run, same payloads)",
    "ratio",
    "target",
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
    httpCeiling === undefined
      ? "HTTP ceiling: not measured (append suite not run)"
      : `HTTP ceiling (an empty Fastify append route, the single-event clients and payloads): ${integer(httpCeiling.eventsPerSecond)} requests/s, p50 / p99 ${httpCeiling.latencyMs.p50.toFixed(2)} / ${httpCeiling.latencyMs.p99.toFixed(2)} ms`,
    "",
  ].join("\n");
}
