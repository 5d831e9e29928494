import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** One HTTP exchange as the client needs it. */
export interface TransportRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  /** The whole exchange, answer read included, is abandoned after this many milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  header(name: string): string | undefined;
  text: string;
}

export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/**
 * Requests over `node:http` / `node:https` with keep-alive connections. It costs a fraction of the
 * CPU of the global `fetch` per request (and of `AbortSignal.timeout`, which is the costlier half
 * on Node 20), which is what lets one client append and consume thousands of events a second.
 * Network errors reject with the socket error as `cause` (its `code`, e.g. `ECONNREFUSED`), as
 * `fetch` does. Idle connections do not keep the process alive.
 */
export function createNodeTransport(): Transport {
  const agents = {
    "http:": new HttpAgent({ keepAlive: true }),
    "https:": new HttpsAgent({ keepAlive: true }),
  };
  return ({ method, url, headers, body, timeoutMs, signal }) =>
    new Promise<TransportResponse>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const isHttps = url.protocol === "https:";
      const send = isHttps ? httpsRequest : httpRequest;
      const outgoing =
        body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
      let settled = false;
      const finish = (error: unknown, response?: TransportResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (response === undefined) reject(error);
        else resolve(response);
      };
      const req = send(
        url,
        { method, headers: outgoing, agent: isHttps ? agents["https:"] : agents["http:"] },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error) => finish(new TypeError("the answer could not be read", { cause: error })));
          res.on("end", () =>
            finish(undefined, {
              status: res.statusCode ?? 0,
              header: (name) => {
                const value = res.headers[name.toLowerCase()];
                return Array.isArray(value) ? value.join(", ") : value;
              },
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      const timer = setTimeout(() => {
        const error = new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError");
        req.destroy(error);
        finish(error);
      }, timeoutMs);
      const onAbort = () => {
        req.destroy();
        finish(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error) => finish(new TypeError("the request failed", { cause: error })));
      req.end(body);
    });
}

/** Requests through a `fetch` implementation (a custom one, for proxies or tests). */
export function createFetchTransport(doFetch: typeof fetch): Transport {
  return async ({ method, url, headers, body, timeoutMs, signal }) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await doFetch(url, {
      method,
      headers,
      body: body ?? null,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text();
    return { status: response.status, header: (name) => response.headers.get(name) ?? undefined, text };
  };
}
