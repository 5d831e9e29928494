import { Worker } from "node:worker_threads";
import { TributaryError } from "@tributary/protocol";
import type { AppendCommand, AppendGroupOptions, AppendOutcome, CommitNotice } from "../event-store.js";
import { toStoreError } from "./sqlite-errors.js";
import type { WriteOperation, WriteOperationName, WriteOperations } from "./write-operations.js";
import {
  fromWireError,
  fromWireOutcome,
  type WriterRequest,
  type WriterResponse,
} from "./writer-protocol.js";

interface PendingAppend {
  resolve(result: { outcomes: AppendOutcome[]; notices: CommitNotice[] }): void;
  reject(error: unknown): void;
}

interface PendingOperation {
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

/**
 * The worker module beside this one, of the same kind: the compiled `writer-worker.js` in `dist/`,
 * or, run from the TypeScript sources (the tests), `writer-worker.ts`, which the thread can load
 * only with the repository's TypeScript loader (the test processes have it, and threads inherit
 * it); without it the thread fails at once and appends fail `store-unavailable` naming the cause.
 */
export function writerWorkerUrl(): URL {
  const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./writer-worker${extension}`, import.meta.url);
}

/**
 * The store's side of its writer thread: sends each group, and each other write, to it and
 * resolves once it committed there. The thread starts with the first write (after migration) and
 * is started again should it die; writes in flight then fail `store-unavailable`, whether or not
 * their transaction had committed (as with a lost database connection).
 */
export class SqliteWriter {
  readonly #path: string;
  #worker: Worker | undefined;
  #exited: Promise<void> | undefined;
  readonly #pending = new Map<number, PendingAppend>();
  readonly #pendingOperations = new Map<number, PendingOperation>();
  #nextId = 0;

  constructor(path: string) {
    this.#path = path;
  }

  append(
    commands: AppendCommand[],
    options: AppendGroupOptions,
  ): Promise<{ outcomes: AppendOutcome[]; notices: CommitNotice[] }> {
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const request: WriterRequest = { kind: "append", id, commands, options };
      worker.postMessage(request);
    });
  }

  /** Runs a write operation on the writer's connection, in turn with the appends. */
  run<Name extends WriteOperationName>(
    name: Name,
    ...args: Parameters<WriteOperations[Name]>
  ): Promise<ReturnType<WriteOperations[Name]>> {
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pendingOperations.set(id, {
        resolve: (result) => resolve(result as ReturnType<WriteOperations[Name]>),
        reject,
      });
      const operation = { name, args } as WriteOperation;
      const request: WriterRequest = { kind: "operation", id, operation };
      worker.postMessage(request);
    });
  }

  /** Lets the thread finish what it was sent, then closes its connection and waits for its exit. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker === undefined) return;
    const request: WriterRequest = { kind: "close" };
    worker.postMessage(request);
    await this.#exited;
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(writerWorkerUrl(), { workerData: { path: this.#path } });
    this.#worker = worker;
    worker.on("message", (response: WriterResponse) => this.#settle(response));
    let failure: unknown;
    worker.on("error", (error) => {
      failure = error;
    });
    this.#exited = new Promise((resolve) => {
      worker.on("exit", () => {
        if (this.#worker === worker) this.#worker = undefined;
        // Whatever stopped the thread (a file it cannot open, a crash), writes cannot be served
        // until a new one starts: retriable, with the reason kept as the cause.
        const error = new TributaryError("store-unavailable", {
          message: "The SQLite writer thread stopped",
          cause: failure,
        });
        for (const pending of this.#pending.values()) pending.reject(error);
        this.#pending.clear();
        for (const pending of this.#pendingOperations.values()) pending.reject(error);
        this.#pendingOperations.clear();
        resolve();
      });
    });
    return worker;
  }

  #settle(response: WriterResponse): void {
    if (response.kind === "closed") return;
    const operation = this.#pendingOperations.get(response.id);
    if (operation !== undefined) {
      this.#pendingOperations.delete(response.id);
      if (response.kind === "failed") operation.reject(toStoreError(fromWireError(response.error)));
      else if (response.kind === "done") operation.resolve(response.result);
      return;
    }
    if (response.kind === "done") return;
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    if (response.kind === "appended") {
      pending.resolve({ outcomes: response.outcomes.map(fromWireOutcome), notices: response.notices });
    } else {
      pending.reject(toStoreError(fromWireError(response.error)));
    }
  }
}
