import { TributaryError } from "@tributary/protocol";

/**
 * Query cursors are opaque to clients: the order and the last position seen, so that a cursor from
 * an oldest-first query cannot be replayed against a newest-first one.
 */
export function encodeCursor(order: "asc" | "desc", position: number): string {
  return Buffer.from(`${order}:${position}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string, order: "asc" | "desc"): number {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^(asc|desc):(\d{1,16})$/.exec(text);
  if (match === null || match[1] !== order) {
    throw new TributaryError("invalid-request", {
      message: "the cursor is not one this query returned",
      details: { errors: [{ pointer: "/after", message: "unknown cursor" }] },
    });
  }
  return Number(match[2]);
}
