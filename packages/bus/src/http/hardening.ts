import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { limits, problemContentType, TributaryError, toProblem } from "@tributary/protocol";
import type {
  FastifyBodyParser,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from "fastify";
import { assertTopicName } from "../bus.js";

/** How long the HTTP server waits for a client, in milliseconds (see `limits` for each). */
export interface HttpTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connectionTimeoutMs: number;
}

export const defaultHttpTimeouts: HttpTimeouts = {
  headersTimeoutMs: limits.headersTimeoutMs,
  requestTimeoutMs: limits.requestTimeoutMs,
  keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
  connectionTimeoutMs: limits.connectionTimeoutMs,
};

/**
 * The Confluent-compatible API answers in its own error format, refusals before routing too
 * (its content type is spelt out here: the routes' module imports this one).
 */
const confluentPath = /^\/schema-registry(?:[/?]|$)/;
const confluentContentType = "application/vnd.schemaregistry.v1+json";

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth`. Scans the text without
 * parsing it, skipping over strings, and stops at the first level too deep, so that a body of
 * ten million `[` costs microseconds rather than seconds of `JSON.parse`. Text that is not JSON
 * may give either answer: the parser refuses it anyway.
 */
export function exceedsJsonDepth(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (char === 0x22) {
      // A string: jump to its closing quote, one not escaped by an odd run of backslashes.
      let end = index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return false;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      index = end;
    } else if (char === 0x5b || char === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (char === 0x5d || char === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * Fastify's JSON parser (with its prototype-poisoning refusal) behind a nesting check: a body
 * nested deeper than `limits.maxBodyJsonDepth` is a 400 `invalid-request` before it is parsed.
 */
export function createJsonParser(app: FastifyInstance): FastifyBodyParser<string> {
  const parseJson = app.getDefaultJsonParser("error", "error");
  return (request, body, done) => {
    if (exceedsJsonDepth(body, limits.maxBodyJsonDepth)) {
      done(
        new TributaryError("invalid-request", {
          message: `the JSON body nests deeper than ${limits.maxBodyJsonDepth} levels`,
        }),
        undefined,
      );
      return;
    }
    parseJson(request, body, done);
  };
}

/** A refusal written straight to the socket, for requests Node's HTTP parser gave up on. */
function refusalOf(code: string | undefined): TributaryError {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return new TributaryError("request-timeout", { message: "the request did not arrive in time" });
  }
  if (code === "HPE_HEADER_OVERFLOW") {
    return new TributaryError("headers-too-large", {
      message: `the request line and headers are over ${limits.maxHeaderBytes} bytes`,
    });
  }
  return new TributaryError("malformed-request", { message: "the request is not valid HTTP/1.1" });
}

/**
 * Answers what Node's HTTP parser refused (a timeout, headers over the limit, bytes that are not
 * HTTP) with a problem document, then closes the connection. Nothing is written in the middle of
 * an answer already under way, as Node's own handler does.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && answering?.headersSent !== true) {
    const refusal = refusalOf(error.code);
    const body = JSON.stringify(toProblem(refusal));
    socket.write(
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n` +
        `Content-Type: ${problemContentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** A path Fastify's router cannot take (bad percent-encoding, a segment over `maxParamLength`). */
function answerUnroutableUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const refusal =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? new TributaryError("invalid-request", { message: "a segment of the path is too long" })
      : new TributaryError("malformed-request", { message: "the path is not valid percent-encoding" });
  if (confluentPath.test(request.url)) {
    reply.status(400).type(confluentContentType).send({ error_code: 40000, message: refusal.message });
    return;
  }
  reply.status(refusal.status).type(problemContentType).send(toProblem(refusal));
}

/**
 * Fastify options that bound what one client can make the server hold: the size of a request's
 * head, the time to send it and its body, idle keep-alive and silent connections. Requests
 * refused before they reach a route get problem documents like every other error.
 */
export function hardenedServerOptions(timeouts: Partial<HttpTimeouts> = {}) {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, connectionTimeoutMs } = {
    ...defaultHttpTimeouts,
    ...timeouts,
  };
  return {
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Node looks for late requests this often (30 s by default, too coarse for a 10 s limit).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 5))),
    },
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    connectionTimeout: connectionTimeoutMs,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerUnroutableUrl,
  } satisfies FastifyServerOptions & { http: object };
}

/** Whether path or query parameters (strings, or arrays of them when repeated) hold a NUL. */
function holdsNul(parameters: unknown): boolean {
  if (typeof parameters !== "object" || parameters === null) return false;
  return Object.values(parameters).some((value) =>
    Array.isArray(value)
      ? value.some((item) => String(item).includes("\u0000"))
      : String(value).includes("\u0000"),
  );
}

/** Whether a parsed value holds a number that is not finite, at any depth (walked without recursion). */
function holdsInfinity(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === "number" && !Number.isFinite(item)) return true;
    if (typeof item === "object" && item !== null)
      for (const child of Object.values(item)) pending.push(child);
  }
  return false;
}

/**
 * Checks of every request that no route schema makes: at most `limits.maxQueryParameters` query
 * parameters and no NUL in a parameter (a 400 before anything reads them), and no infinite number
 * where validation coerced text into numbers: Ajv turns `"Infinity"` or `"1e400"` into `Infinity`
 * and then skips its `minimum` and `maximum` checks, so `?limit=Infinity` would reach the store.
 */
export function installHardening(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    const start = request.url.indexOf("?");
    if (start === -1) return;
    let count = 0;
    for (let index = start; index !== -1; index = request.url.indexOf("&", index + 1)) count++;
    if (count > limits.maxQueryParameters) {
      throw new TributaryError("invalid-request", {
        message: `the query string holds more than ${limits.maxQueryParameters} parameters`,
      });
    }
  });
  // No name, id, key or subject holds NUL, and PostgreSQL text cannot: refused before any lookup.
  app.addHook("onRequest", async (request) => {
    if (holdsNul(request.params) || holdsNul(request.query)) {
      // A topic with NUL is first of all no topic name: the refusal every other bad name gets.
      const topic = (request.params as { topic?: unknown } | undefined)?.topic;
      if (typeof topic === "string" && topic.includes("\u0000")) assertTopicName(topic);
      throw new TributaryError("invalid-request", { message: "path and query parameters cannot hold NUL" });
    }
  });
  app.addHook("preHandler", async (request) => {
    const hasBodySchema = request.routeOptions.schema?.body !== undefined;
    if (
      holdsInfinity(request.query) ||
      holdsInfinity(request.params) ||
      (hasBodySchema && holdsInfinity(request.body))
    ) {
      throw new TributaryError("invalid-request", { message: "numbers must be finite" });
    }
  });
}
