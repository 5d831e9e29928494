import {
  type CloudEventIssue,
  cloudEventsBatchContentType,
  cloudEventsContentType,
  fromBinaryCloudEvent,
  fromCloudEvent,
  limits,
  TributaryError,
} from "@tributary/protocol";

/** What an append request carried, before validation: raw inputs and how to point at each. */
export interface ParsedAppendBody {
  inputs: unknown[];
  pointer(index: number): string;
}

export type RequestHeaders = Record<string, string | string[] | undefined>;

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === "application/json" || mediaType.endsWith("+json");
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new TributaryError("malformed-request", { message: "the body is not valid JSON" });
  }
}

function rejectIssues(issues: CloudEventIssue[]): never {
  const first = issues[0]!;
  throw new TributaryError("invalid-request", {
    message: `${first.pointer || "/"} ${first.message}`,
    details: { errors: issues.slice(0, 100) },
  });
}

function checkCount(count: number): void {
  if (count === 0) throw new TributaryError("invalid-request", { message: "the request holds no event" });
  if (count > limits.maxEventsPerRequest) {
    throw new TributaryError("payload-too-large", {
      message: `a request holds at most ${limits.maxEventsPerRequest} events, this one ${count}`,
      details: { limit: limits.maxEventsPerRequest, count },
    });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads an append body in any of the accepted forms: a plain event or `{ events: [...] }`
 * (`application/json`), a structured CloudEvent (`application/cloudevents+json`), a CloudEvents
 * batch (`application/cloudevents-batch+json`), or a binary-mode CloudEvent (`ce-specversion`
 * header, the body is the data). JSON bodies arrive parsed; other bodies arrive as a Buffer.
 */
export function parseAppendBody(headers: RequestHeaders, body: unknown): ParsedAppendBody {
  const mediaType = mediaTypeOf(headers["content-type"] as string | undefined);
  if (headers["ce-specversion"] !== undefined) {
    let data: unknown = body;
    if (Buffer.isBuffer(body)) {
      data = isJsonMediaType(mediaType)
        ? parseJson(body)
        : mediaType.startsWith("text/")
          ? body.toString("utf8")
          : body.toString("base64");
    }
    const contentType = headers["content-type"] as string | undefined;
    const result = fromBinaryCloudEvent(headers, data, contentType);
    if (result.issues.length > 0) rejectIssues(result.issues);
    const isEncoded = Buffer.isBuffer(body) && !isJsonMediaType(mediaType) && !mediaType.startsWith("text/");
    if (isEncoded && result.input) {
      result.input.metadata = { ...result.input.metadata, dataEncoding: "base64" };
    }
    return { inputs: [result.input], pointer: () => "" };
  }
  if (mediaType === cloudEventsContentType) {
    const result = fromCloudEvent(body);
    if (result.issues.length > 0) rejectIssues(result.issues);
    return { inputs: [result.input], pointer: () => "" };
  }
  if (mediaType === cloudEventsBatchContentType) {
    if (!Array.isArray(body)) {
      throw new TributaryError("invalid-request", { message: "a CloudEvents batch is a JSON array" });
    }
    checkCount(body.length);
    const inputs = body.map((item, index) => {
      const result = fromCloudEvent(item, `/${index}`);
      if (result.issues.length > 0) rejectIssues(result.issues);
      return result.input;
    });
    return { inputs, pointer: (index) => `/${index}` };
  }
  if (mediaType === "application/json") {
    if (!isObject(body)) {
      throw new TributaryError("invalid-request", {
        message: "the body is an event object or { events: [...] }",
      });
    }
    if (Object.hasOwn(body, "events")) {
      const events = body.events;
      const extra = Object.keys(body).filter((name) => name !== "events");
      if (!Array.isArray(events) || extra.length > 0) {
        throw new TributaryError("invalid-request", {
          message: "a batch is { events: [...] } with no other field",
          details: { errors: [{ pointer: "/events", message: "must be an array of events" }] },
        });
      }
      checkCount(events.length);
      return { inputs: events, pointer: (index) => `/events/${index}` };
    }
    return { inputs: [body], pointer: () => "" };
  }
  throw new TributaryError("unsupported-media-type", {
    message: `content type "${mediaType || "(none)"}" is not accepted here`,
    details: {
      accepted: [
        "application/json",
        cloudEventsContentType,
        cloudEventsBatchContentType,
        "binary mode (ce-*)",
      ],
    },
  });
}
