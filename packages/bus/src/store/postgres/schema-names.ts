import { createHash } from "node:crypto";

/** PostgreSQL truncates identifiers (and refuses channel names) longer than this many bytes. */
const maxIdentifierBytes = 63;

/**
 * Checks that `schema` can name a PostgreSQL schema: not empty, at most 63 bytes, no NUL. Any other
 * character is allowed because every use quotes it. Throws a plain `Error` (a configuration
 * mistake, not a request error).
 */
export function assertSchemaName(schema: string): void {
  if (schema === "" || Buffer.byteLength(schema) > maxIdentifierBytes || schema.includes("\u0000")) {
    throw new Error(`invalid PostgreSQL schema name ${JSON.stringify(schema)}: 1 to 63 bytes, no NUL`);
  }
}

/** `name` as a quoted SQL identifier: case and every character are kept as written. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The LISTEN/NOTIFY channel of a schema's commits. Channels are database-wide, so the schema is part
 * of the name: stores on different schemas of one database do not hear each other. A schema whose
 * readable channel name would pass 63 bytes gets a digest instead.
 */
export function commitChannel(schema: string): string {
  const readable = `tributary.commits.${schema}`;
  if (Buffer.byteLength(readable) <= maxIdentifierBytes) return readable;
  return `tributary.commits.${createHash("sha256").update(schema).digest("hex").slice(0, 32)}`;
}

/** The text whose hash keys the advisory lock that serializes migrations of one schema. */
export function migrationLockName(schema: string): string {
  return `tributary.migrate.${schema}`;
}
