import { cloudEventsBatchContentType, cloudEventsContentType } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import { createJsonParser } from "./hardening.js";

/**
 * JSON, CloudEvents structured and batch bodies parse alike: prototype poisoning and nesting
 * deeper than `limits.maxBodyJsonDepth` are refused. Any other content type arrives as a raw
 * Buffer: the append route accepts it as binary-mode CloudEvent data and every other route
 * refuses it with 415.
 */
export function installContentTypes(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser(
    ["application/json", cloudEventsContentType, cloudEventsBatchContentType],
    { parseAs: "string" },
    createJsonParser(app),
  );
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
}
