import { type ErrorCode, TributaryError } from "@tributary/protocol";
import type { AppendCommand, AppendGroupOptions, AppendOutcome, CommitNotice } from "../event-store.js";
import type { WriteOperation } from "./write-operations.js";

/**
 * What the store's thread asks of the writer thread: every write of the store goes this way, so
 * the store's own connection only reads and never waits for a lock.
 */
export type WriterRequest =
  | { kind: "append"; id: number; commands: AppendCommand[]; options: AppendGroupOptions }
  | { kind: "operation"; id: number; operation: WriteOperation }
  | { kind: "close" };

/** One statement of a `statements` operation: the statements of an operation commit together. */
export interface WriteStatement {
  sql: string;
  params: (string | number | bigint | null)[];
}

/** An error as it crosses between threads (a structured clone keeps neither class nor code). */
export interface WireError {
  message: string;
  /** The driver's code (`SQLITE_BUSY`…), which decides whether it is `store-unavailable`. */
  code?: string;
  tributary?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export type WireOutcome =
  | Extract<AppendOutcome, { ok: true }>
  | { ok: false; error: NonNullable<WireError["tributary"]> };

/** What the writer thread answers. */
export type WriterResponse =
  | { kind: "appended"; id: number; outcomes: WireOutcome[]; notices: CommitNotice[] }
  /** An operation committed; `result` is what it returned. */
  | { kind: "done"; id: number; result: unknown }
  | { kind: "failed"; id: number; error: WireError }
  | { kind: "closed" };

export function toWireError(error: unknown): WireError {
  if (error instanceof TributaryError) {
    return {
      message: error.message,
      tributary: {
        code: error.code,
        message: error.message,
        ...(error.details === undefined ? {} : { details: error.details }),
      },
    };
  }
  const code = (error as { code?: unknown } | null)?.code;
  return {
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === "string" ? { code } : {}),
  };
}

export function fromWireError(wire: WireError): Error {
  if (wire.tributary !== undefined) {
    return new TributaryError(wire.tributary.code, {
      message: wire.tributary.message,
      ...(wire.tributary.details === undefined ? {} : { details: wire.tributary.details }),
    });
  }
  return Object.assign(new Error(wire.message), wire.code === undefined ? {} : { code: wire.code });
}

export function toWireOutcome(outcome: AppendOutcome): WireOutcome {
  if (outcome.ok) return outcome;
  const wire = toWireError(outcome.error).tributary;
  if (wire === undefined) throw new Error("a failed outcome carries a Tributary error");
  return { ok: false, error: wire };
}

export function fromWireOutcome(outcome: WireOutcome): AppendOutcome {
  if (outcome.ok) return outcome;
  const error = fromWireError({ message: outcome.error.message, tributary: outcome.error });
  return { ok: false, error: error as TributaryError };
}
