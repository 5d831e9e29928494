import { createServer } from "node:net";

/** What a test needs of an HTTP answer. */
export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** No request of an e2e test may hang: past this it fails. */
export const requestTimeoutMs = 15_000;

/**
 * One HTTP request with a bounded time; a JSON answer is parsed. Network failures reject (the
 * fetch error, its `cause` holding the socket error).
 */
export async function request<T = unknown>(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpAnswer<T>> {
  // A string or binary body goes as it is (with the caller's content type); anything else as JSON.
  const isRaw = typeof init.body === "string" || init.body instanceof Uint8Array;
  const headers = {
    ...(isRaw || init.body === undefined ? {} : { "content-type": "application/json" }),
    ...init.headers,
  };
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    body:
      init.body === undefined ? null : isRaw ? (init.body as string | Uint8Array) : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? requestTimeoutMs),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `check` until it returns true, at most `attempts` times with `intervalMs` between: a bounded
 * wait for a condition, never a fixed delay. Throws with `what` when it never held.
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  { attempts = 100, intervalMs = 100 } = {},
): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (await check().catch(() => false)) return;
    await sleep(intervalMs);
  }
  throw new Error(`${what}: still not true after ${attempts} attempts`);
}

/** A port that was free a moment ago (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}
