import { isTributaryError, TributaryError } from "@tributary/protocol";
import postgres from "postgres";

/** Socket and driver error codes of a connection that is gone or never came up. */
const lostConnectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * SQLSTATEs after which the server closes the session: shutdown, crash, startup, idle session
 * timeout, too many connections (refused at startup).
 */
const sessionEndingSqlStates = new Set(["57P01", "57P02", "57P03", "57P05", "53300"]);

/**
 * SQLSTATEs of a server that is up but cannot serve now, the session staying open: read-only (a
 * standby after a failover), a statement timeout.
 */
const unavailableSqlStates = new Set(["25006", "57014"]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Whether `error` means the connection it happened on is lost or never came up (for an
 * `AggregateError` of several connection attempts: any part of it). Such a connection is never used
 * again, not even for a ROLLBACK.
 */
export function isConnectionLost(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined) {
    if (lostConnectionCodes.has(code)) return true;
    if (
      error instanceof postgres.PostgresError &&
      (code.startsWith("08") || sessionEndingSqlStates.has(code))
    ) {
      return true;
    }
  }
  return error instanceof AggregateError && error.errors.some(isConnectionLost);
}

function isUnavailable(error: unknown): boolean {
  if (isConnectionLost(error)) return true;
  const code = errorCode(error);
  return error instanceof postgres.PostgresError && code !== undefined && unavailableSqlStates.has(code);
}

/**
 * Turns a driver failure into the port's errors: a lost, refused or overloaded connection becomes
 * `store-unavailable` (retriable; the HTTP layer answers 503), any other database error becomes
 * `internal` with the original as `cause`, so that no SQL or server message reaches a client.
 * Tributary errors and programming errors pass through unchanged.
 */
export function toStoreError(error: unknown): unknown {
  if (isTributaryError(error)) return error;
  if (isUnavailable(error)) return new TributaryError("store-unavailable", { cause: error });
  if (error instanceof postgres.PostgresError) return new TributaryError("internal", { cause: error });
  return error;
}

/**
 * Whether a failed append transaction should simply run again: the same event id committed
 * meanwhile in another topic (whose partition lock this transaction did not hold), or a
 * serialization failure or deadlock. On the next attempt the id check sees the committed row and
 * answers replay or `id-conflict`.
 */
export function isRetriableAppendConflict(error: unknown): boolean {
  if (!(error instanceof postgres.PostgresError)) return false;
  if (error.code === "23505") return error.constraint_name === "events_id_key";
  return error.code === "40001" || error.code === "40P01";
}
