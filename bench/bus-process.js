import { spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// BENCH_BUS_ENTRY runs another build of the bus (an A/B comparison in one run of the same machine).
const busEntry =
  process.env.BENCH_BUS_ENTRY ?? fileURLToPath(new URL("../packages/bus/bin/tributary.js", import.meta.url));
const listeningLine = /Tributary listening on (http:\/\/\S+)/;

// For diagnosis: extra Node flags for every bus (e.g. `--trace-gc`), and a folder that receives
// each bus's whole output (`bus-<pid>.log`), which otherwise is only kept for error messages.
const extraNodeFlags = (process.env.BENCH_BUS_NODE_FLAGS ?? "").split(" ").filter(Boolean);
const busLogDir = process.env.BENCH_BUS_LOG_DIR;

/** Children still running, so that an exit of the bench for any reason can kill them. */
const runningChildren = new Set();

/** Kills every bus this process started and that still runs (emergency stop, no grace). */
export function killRunningBuses() {
  for (const child of runningChildren) child.kill("SIGKILL");
}

process.on("exit", killRunningBuses);

/**
 * Reads a `/proc/PID/status` memory field (`VmHWM` = peak resident set, `VmRSS` = current) in bytes.
 * Linux only; returns null elsewhere or once the process is gone.
 */
export function readProcessMemory(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Linux's USER_HZ: the unit of the CPU times in `/proc/PID/stat`, 100 on every common build. */
const clockTicksPerSecond = 100;

/** CPU time (user + system) a process has used so far, in milliseconds; null once it is gone. */
export function readProcessCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return null;
  }
}

/** Busy and total CPU time of the whole machine so far (all cores, `/proc/stat`), in ticks. */
export function readMachineCpuTicks() {
  try {
    const [, ...fields] = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/);
    const ticks = fields.map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    // idle and iowait are the 4th and 5th fields.
    return { busy: total - ticks[3] - ticks[4], total };
  } catch {
    return null;
  }
}

/**
 * Starts `tributary serve` as a separate process on a free loopback port and resolves once it
 * prints the URL it listens on. With `cpuProfileDir`, the child runs under `--cpu-prof` and writes
 * its profile there when it exits.
 */
export async function startBus({ storeUrl, startTimeoutMs = 30_000, cpuProfileDir }) {
  const nodeFlags = [
    ...extraNodeFlags,
    ...(cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfileDir] : []),
  ];
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      busEntry,
      "serve",
      "--store",
      storeUrl,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log-level",
      "warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  runningChildren.add(child);
  if (busLogDir) {
    const log = createWriteStream(join(busLogDir, `bus-${child.pid}.log`));
    child.stdout.pipe(log);
    child.stderr.pipe(log);
  }
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      runningChildren.delete(child);
      resolve({ code, signal });
    });
  });
  // Keep the tail of the child's output for error messages; never let a full pipe block it.
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stderr.on("data", keep);

  const url = await new Promise((resolve, reject) => {
    let isSettled = false;
    const timer = setTimeout(
      () => fail(new Error(`the bus did not start within ${startTimeoutMs} ms`)),
      startTimeoutMs,
    );
    const onData = (chunk) => {
      keep(chunk);
      const match = listeningLine.exec(output);
      if (match && !isSettled) {
        isSettled = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    const fail = (error) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${error.message}\n--- bus output ---\n${output}`));
    };
    child.stdout.on("data", onData);
    child.once("error", fail);
    exited.then(({ code, signal }) =>
      fail(new Error(`the bus exited early (code ${code}, signal ${signal})`)),
    );
  });

  let stopping;
  return {
    url,
    pid: child.pid,
    /** Peak resident set size of the bus so far, in bytes. */
    peakRssBytes: () => readProcessMemory(child.pid, "VmHWM"),
    rssBytes: () => readProcessMemory(child.pid, "VmRSS"),
    /** The last few KB the bus wrote (warnings and errors), for diagnosis. */
    output: () => output,
    /** SIGTERM (graceful shutdown), then SIGKILL if it has not exited in time. Idempotent. */
    stop(timeoutMs = 10_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return exited;
        child.kill("SIGTERM");
        let timer;
        const timedOut = new Promise((resolve) => {
          timer = setTimeout(() => resolve("timeout"), timeoutMs);
        });
        const result = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        if (result === "timeout") {
          child.kill("SIGKILL");
          await exited;
          throw new Error(`the bus did not stop within ${timeoutMs} ms after SIGTERM and was killed`);
        }
        return result;
      })();
      return stopping;
    },
  };
}
