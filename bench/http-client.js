import { Agent, request as httpRequest } from "node:http";

/**
 * A minimal JSON client over node:http with a keep-alive agent, so that the benchmark measures the
 * bus and not connection set-up. `maxSockets` bounds the requests in flight on the wire; more wait
 * in the agent's queue.
 */
export function createHttpClient(baseUrl, { maxSockets = 64, timeoutMs = 30_000 } = {}) {
  const url = new URL(baseUrl);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
    throw new Error(`the benchmark only talks to loopback, not ${url.hostname}`);
  }
  const agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });

  /**
   * Sends one request and resolves `{ status, body }` with the body as text once it has been read
   * completely. `body` may be a string or Buffer of JSON. Rejects on a network error or timeout,
   * never on an HTTP status.
   */
  function send(method, path, body) {
    return new Promise((resolve, reject) => {
      const headers = { accept: "application/json" };
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = Buffer.byteLength(body);
      }
      const req = httpRequest(
        { agent, host: url.hostname, port: url.port, method, path, headers },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () =>
            resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString("utf8") }),
          );
          response.on("error", reject);
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  /** Like `send`, but rejects unless the status is one of `expected`; resolves the parsed body. */
  async function sendExpecting(expected, method, path, body) {
    const response = await send(method, path, body);
    if (!expected.includes(response.status)) {
      throw new Error(`${method} ${path} answered ${response.status}: ${response.body.slice(0, 500)}`);
    }
    return response.body === "" ? undefined : JSON.parse(response.body);
  }

  return {
    send,
    sendExpecting,
    /** Closes the pooled sockets. */
    close: () => agent.destroy(),
  };
}
