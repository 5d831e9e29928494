import { cloudEventsBatchContentType, cloudEventsContentType } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";

/**
 * CloudEvents structured and batch bodies are JSON and parse like it (with the same
 * prototype-poisoning protection). Any other content type arrives as a raw Buffer: the append route
 * accepts it as binary-mode CloudEvent data and every other route refuses it with 415.
 */
export function installContentTypes(app: FastifyInstance): void {
  app.addContentTypeParser(
    [cloudEventsContentType, cloudEventsBatchContentType],
    { parseAs: "string" },
    app.getDefaultJsonParser("error", "error"),
  );
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
}
