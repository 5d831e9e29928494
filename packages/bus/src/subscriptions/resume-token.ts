/**
 * The `id` of a Server-Sent Event: per partition, the offset after the last event sent on the
 * stream, as `partition:offset` pairs (`0:12,3:40`). A client that reconnects sends the last one it
 * saw as `Last-Event-ID`.
 */
export type ResumeToken = Map<number, number>;

const maxPartitions = 1024;

export function formatResumeToken(token: ResumeToken): string {
  return [...token.entries()]
    .sort(([a], [b]) => a - b)
    .map(([partition, offset]) => `${partition}:${offset}`)
    .join(",");
}

/** Parses a token; anything malformed yields `undefined` (the stream then starts live). */
export function parseResumeToken(text: string | undefined): ResumeToken | undefined {
  if (text === undefined || text.length === 0 || text.length > 32 * maxPartitions) return undefined;
  const token: ResumeToken = new Map();
  for (const pair of text.split(",")) {
    const match = /^(\d{1,4}):(\d{1,16})$/.exec(pair);
    if (match === null) return undefined;
    const partition = Number(match[1]);
    const offset = Number(match[2]);
    if (partition >= maxPartitions || !Number.isSafeInteger(offset)) return undefined;
    token.set(partition, offset);
  }
  return token;
}
