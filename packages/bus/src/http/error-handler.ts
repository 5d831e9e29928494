import { problemContentType, TributaryError, toProblem } from "@tributary/protocol";
import type { FastifyError, FastifyInstance } from "fastify";
import type { StoreOutageLog } from "./store-outage-log.js";

/** Seconds a client should wait before retrying after a 503. */
const retryAfterSeconds = 1;

/** Routes that answer without the store: their success says nothing of it. */
const storeFreeRoutes = new Set(["/healthz", "/metrics", "/openapi.json", "/asyncapi.json"]);

/** Fastify's own errors (body parsing, limits, schema validation) in the catalogue's terms. */
function fromFastifyError(error: FastifyError): TributaryError {
  if (error.validation) {
    const context = error.validationContext ?? "request";
    const errors = error.validation.map((issue) => {
      const missing = (issue.params as { missingProperty?: string }).missingProperty;
      const path = `${issue.instancePath}${missing === undefined ? "" : `/${missing}`}`;
      return { pointer: `/${context}${path}`, message: issue.message ?? "is invalid" };
    });
    const first = errors[0];
    return new TributaryError("invalid-request", {
      message: first ? `${first.pointer} ${first.message}` : "the request is invalid",
      details: { errors },
    });
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new TributaryError("payload-too-large", { message: "the request body is over 10 MiB" });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new TributaryError("unsupported-media-type", { message: "this content type is not accepted" });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new TributaryError("malformed-request", { message: "the JSON body is empty" });
  }
  if (error instanceof SyntaxError || error.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return new TributaryError("malformed-request", { message: "the body is not valid JSON" });
  }
  if (error.statusCode === 413) return new TributaryError("payload-too-large");
  if (error.statusCode === 415) return new TributaryError("unsupported-media-type");
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new TributaryError("malformed-request", { message: "the request could not be read" });
  }
  return new TributaryError("internal", { cause: error });
}

/**
 * Every error leaves as `application/problem+json`. Unknown errors become a 500 whose body says
 * nothing of the internals; the log has the cause. 503s carry `Retry-After`. A `store-unavailable`
 * refusal goes to `outage` rather than a line of its own (an outage refuses every request), and a
 * request that a store-backed route answered with success tells `outage` the store is back.
 */
export function installErrorHandler(app: FastifyInstance, outage: StoreOutageLog): void {
  app.setErrorHandler((raw: FastifyError | TributaryError, request, reply) => {
    const error = raw instanceof TributaryError ? raw : fromFastifyError(raw);
    if (error.code === "store-unavailable") {
      outage.refused(error.cause ?? error);
    } else if (error.status >= 500) {
      request.log.error({ err: error.cause ?? raw, code: error.code }, "request failed");
    }
    if (error.status === 503) reply.header("retry-after", String(retryAfterSeconds));
    if (error.status === 429) {
      const afterMs = Number(error.details?.retryAfterMs ?? 1000);
      reply.header("retry-after", String(Math.max(1, Math.ceil(afterMs / 1000))));
    }
    return reply.status(error.status).type(problemContentType).send(toProblem(error));
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url;
    if (reply.statusCode < 400 && route !== undefined && !storeFreeRoutes.has(route)) outage.served();
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new TributaryError("route-not-found", {
      message: `no route for ${request.method} ${request.url.split("?")[0]?.slice(0, 200)}`,
    });
    return reply.status(404).type(problemContentType).send(toProblem(error));
  });
}
