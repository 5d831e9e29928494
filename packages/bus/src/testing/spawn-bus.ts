import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The `tributary` command (it runs the compiled code: `tsc -b` first). */
export const tributaryBin = fileURLToPath(new URL("../../bin/tributary.js", import.meta.url));

/** The most output kept per stream, so that a chatty child cannot fill the test's memory. */
const maxOutputChars = 1024 * 1024;

export interface SpawnBusOptions {
  /** Passed as `--store URL`. */
  store?: string;
  /** More `serve` arguments, after `--port 0 --log-level warn` (unless `bare`). */
  args?: string[];
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** Pass only `store` and `args`: no `--port 0 --log-level warn` (to test settings from the environment). */
  bare?: boolean;
  /** How long the bus may take to print its URL (default 20,000 ms). */
  startTimeoutMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A bus running in a child process. */
export interface SpawnedBus {
  /** Its base URL, as it printed it. */
  url: string;
  pid: number;
  child: ChildProcess;
  /** What the process wrote so far. */
  output(): { stdout: string; stderr: string };
  /** Settles when the process has exited. */
  exited: Promise<ProcessExit>;
  /** `kill -9`: resolves once the process is gone. */
  kill(): Promise<ProcessExit>;
  /**
   * Sends `signal` (default SIGTERM) and waits up to `timeoutMs` (default 20,000) for the exit; past
   * that it kills the process and rejects, so a shutdown that hangs fails the test instead of hanging it.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
}

const running = new Set<ChildProcess>();

// A test runner that dies still takes its buses with it.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

function watchExit(child: ChildProcess): Promise<ProcessExit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

function collect(child: ChildProcess): () => { stdout: string; stderr: string } {
  const output = { stdout: "", stderr: "" };
  for (const name of ["stdout", "stderr"] as const) {
    child[name]?.setEncoding("utf8");
    child[name]?.on("data", (chunk: string) => {
      if (output[name].length < maxOutputChars) output[name] += chunk;
    });
  }
  return () => ({ ...output });
}

function track(child: ChildProcess): Promise<ProcessExit> {
  running.add(child);
  const exited = watchExit(child);
  void exited.then(() => running.delete(child));
  return exited;
}

/**
 * Starts `tributary serve` in a child process and resolves once it printed the URL it listens on.
 * Rejects (after killing the child) when it exits or stays silent past `startTimeoutMs`.
 *
 * @example
 * const bus = await spawnBus({ store: "sqlite:/tmp/x/tributary.db" });
 * await fetch(`${bus.url}/healthz`);
 * await bus.stop();
 */
export async function spawnBus(options: SpawnBusOptions = {}): Promise<SpawnedBus> {
  const args = ["serve"];
  if (options.store !== undefined) args.push("--store", options.store);
  if (!options.bare) args.push("--port", "0", "--log-level", "warn");
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, [tributaryBin, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = track(child);
  const output = collect(child);
  const timeoutMs = options.startTimeoutMs ?? 20_000;

  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /Tributary listening on (http:\/\/\S+)/.exec(output().stdout);
      if (match?.[1] !== undefined) finish(() => resolve(match[1] as string));
    };
    const timer = setTimeout(() => {
      finish(() => {
        child.kill("SIGKILL");
        reject(new Error(`the bus printed no URL within ${timeoutMs} ms\n${output().stderr}`));
      });
    }, timeoutMs);
    const onEarlyExit = (exit: ProcessExit) =>
      finish(() =>
        reject(
          new Error(`the bus exited (${exit.code ?? exit.signal}) before listening\n${output().stderr}`),
        ),
      );
    let isDone = false;
    const finish = (then: () => void) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      then();
    };
    child.stdout?.on("data", onData);
    void exited.then(onEarlyExit);
  });

  const kill = async () => {
    child.kill("SIGKILL");
    return exited;
  };
  return {
    url,
    pid: child.pid as number,
    child,
    output,
    exited,
    kill,
    async stop(signal = "SIGTERM", stopTimeoutMs = 20_000) {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), stopTimeoutMs);
      });
      const result = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (result === "timeout") {
        await kill();
        throw new Error(`the bus did not exit within ${stopTimeoutMs} ms of ${signal}\n${output().stderr}`);
      }
      return result;
    },
  };
}

export interface TributaryRun extends ProcessExit {
  stdout: string;
  stderr: string;
}

/**
 * Runs the `tributary` command to its end (e.g. `--help`, a bad option) and resolves with its exit
 * and output. A run longer than `timeoutMs` (default 20,000) is killed and rejects.
 */
export async function runTributary(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<TributaryRun> {
  const child = spawn(process.execPath, [tributaryBin, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = track(child);
  const output = collect(child);
  const timeoutMs = options.timeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const result = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (result === "timeout") {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`tributary ${args.join(" ")} did not exit within ${timeoutMs} ms`);
  }
  // Let the pipes drain: "exit" may come before the last output chunk.
  await new Promise<void>((resolve) =>
    child.stdout?.readableEnded ? resolve() : child.stdout?.once("end", resolve),
  );
  return { ...result, ...output() };
}

/** Kills every child process that `spawnBus` or `runTributary` started and that still runs. For `afterEach`. */
export async function killSpawnedBuses(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map((child) => {
      const exited = watchExit(child);
      child.kill("SIGKILL");
      return exited;
    }),
  );
}
