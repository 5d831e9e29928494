import { TributaryError } from "@tributary/protocol";

/**
 * SQLite result codes that mean the database cannot serve now (locked by another process, disk
 * full or failing, file gone), not that the request is wrong: a later retry may succeed.
 */
const unavailablePrefixes = [
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_IOERR",
  "SQLITE_FULL",
  "SQLITE_CANTOPEN",
  "SQLITE_READONLY",
  "SQLITE_PROTOCOL",
];

/** Whether an error thrown by better-sqlite3 means the store is unavailable (`store-unavailable`). */
export function isUnavailableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && unavailablePrefixes.some((prefix) => code.startsWith(prefix));
}

/**
 * The error to surface for a failure of the database: `store-unavailable` (with the driver's error
 * as `cause`) when retrying may help, the error itself otherwise.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof TributaryError || !isUnavailableError(error)) return error;
  return new TributaryError("store-unavailable", { cause: error });
}

/** The error of any call on a store after `close()`. */
export function closedStoreError(): TributaryError {
  return new TributaryError("store-unavailable", { message: "The SQLite store is closed" });
}
