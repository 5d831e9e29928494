import { connect } from "node:net";
import type { FuzzRequest } from "./requests.js";

const confluentPath = /^\/schema-registry(?:[/?]|$)/;

export { routesOf } from "../app-routes.js";

/** What came back: the status, the content type and the body as text. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Why an answer breaks the contract, or undefined when it keeps it: never a 5xx, never a success
 * unless `mayPass`, and every 4xx a problem document (Confluent's error body under
 * `/schema-registry`) without a stack trace.
 */
export function breach(
  request: FuzzRequest,
  answer: Answer | undefined,
  mayPass: boolean,
): string | undefined {
  if (answer === undefined) return "no answer in time";
  const { status, contentType, body } = answer;
  if (status >= 500) return `a ${status}`;
  if (status < 400) return mayPass ? undefined : `accepted with ${status}`;
  const isConfluent = confluentPath.test(request.url);
  const wanted = isConfluent ? "application/vnd.schemaregistry.v1+json" : "application/problem+json";
  if (!contentType.startsWith(wanted)) return `a ${status} as ${contentType || "no content type"}`;
  if (request.method === "HEAD") return undefined;
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return `a ${status} whose body is not JSON`;
  }
  if (/\bat .+\.[jt]s:\d+/.test(body)) return "a stack trace in the body";
  if (isConfluent) {
    // Confluent's codes are the status (its 404 for an unknown path) or the status and two digits.
    const code = document.error_code;
    const isConfluentError =
      typeof code === "number" &&
      (code === status || Math.floor(code / 100) === status) &&
      typeof document.message === "string";
    return isConfluentError ? undefined : `a ${status} that is not Confluent's { error_code, message }`;
  }
  const isProblem =
    typeof document.code === "string" &&
    document.type === `urn:tributary:problem:${document.code}` &&
    typeof document.title === "string" &&
    document.status === status;
  return isProblem ? undefined : `a ${status} that is not a problem document`;
}

/** A request as a failure report shows it (long parts cut). */
export function describeRequest(request: FuzzRequest): string {
  const payload = request.payload === undefined ? "" : String(request.payload).slice(0, 300);
  return `${request.method} ${request.url.slice(0, 300)} (${request.route}, ${request.refusal ?? "valid"})\n  headers ${JSON.stringify(request.headers).slice(0, 300)}\n  payload ${JSON.stringify(payload)}`;
}

/** The promise's value, or undefined when it takes longer than `ms`. */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends raw bytes on a fresh connection and reads the answer until the server closes it. */
export function sendRaw(
  port: number,
  bytes: string | Buffer,
  endAfterSend = false,
  answerWithinMs = 10_000,
): Promise<Answer | undefined> {
  return within(
    new Promise<Answer>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(bytes);
        if (endAfterSend) socket.end();
      });
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", () => undefined);
      socket.on("close", () => {
        const text = Buffer.concat(chunks).toString("latin1");
        const [head = "", ...rest] = text.split("\r\n\r\n");
        resolve({
          status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
          contentType: /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] ?? "",
          body: Buffer.from(rest.join("\r\n\r\n"), "latin1").toString("utf8"),
        });
      });
    }),
    answerWithinMs,
  );
}

/** A request as HTTP/1.1 bytes, with `Host`, `Connection: close` and its `Content-Length`. */
export function toRawHttp(request: FuzzRequest): Buffer {
  const payload = Buffer.from(request.payload ?? "");
  const headers = Object.entries({ ...request.headers, host: "127.0.0.1", connection: "close" })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const length =
    payload.length > 0 || request.method !== "GET" ? `content-length: ${payload.length}\r\n` : "";
  return Buffer.concat([
    Buffer.from(`${request.method} ${request.url} HTTP/1.1\r\n${headers}${length}\r\n`),
    payload,
  ]);
}
