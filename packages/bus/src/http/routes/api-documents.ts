import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";
import { createAsyncApiDocument } from "../asyncapi-document.js";
import { createOpenApiDocument, type DocumentedRoute } from "../openapi-document.js";

/** The bus package's version (the same path from `src/` and from `dist/`). */
const busVersion = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** A Host header that names a host and port and nothing else; anything else is not echoed. */
const hostPattern = /^[A-Za-z0-9.:[\]-]{1,255}$/;

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of the HTTP API, generated from the route schemas
 * once, on the first request. `GET /asyncapi.json`: the AsyncAPI 3.0 document of the topics and
 * their registered schemas, made anew on each request. Both need a key once keys exist.
 *
 * Install it before every other route: it records the routes declared after it for the OpenAPI
 * document (these two included).
 */
export function apiDocumentRoutes(app: FastifyInstance, bus: Bus): void {
  const routes: DocumentedRoute[] = [];
  app.addHook("onRoute", (route) => {
    routes.push({ method: route.method, url: route.url, ...(route.schema ? { schema: route.schema } : {}) });
  });

  // Routes cannot be added once the app serves, so the first document stays right.
  let openApi: Promise<Record<string, unknown>> | undefined;
  app.get("/openapi.json", () => {
    openApi ??= createOpenApiDocument(routes, {
      title: "Tributary",
      version: busVersion,
      description:
        "The HTTP API of the Tributary event bus (v1). Errors are RFC 9457 problem documents with a " +
        "stable `code`. The Confluent-compatible registry under /schema-registry is not described here: " +
        "it follows Confluent's API, errors included.",
    }).catch((error: unknown) => {
      openApi = undefined;
      throw error;
    });
    return openApi;
  });

  app.get("/asyncapi.json", (request) =>
    createAsyncApiDocument(bus, {
      version: busVersion,
      server: {
        host: hostPattern.test(request.host) ? request.host : "localhost",
        protocol: request.protocol,
      },
    }),
  );
}
