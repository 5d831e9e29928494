import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";
import { requireJsonBody } from "../require-json-body.js";
import { deadLetterQuery, redriveBody, subscriptionParams } from "./subscription-schemas.js";

const letterParams = {
  type: "object",
  required: ["name", "id"],
  properties: {
    name: subscriptionParams.properties.name,
    id: { type: "string", minLength: 1, maxLength: 256 },
  },
} as const;

/** A subscription's dead letters: list, inspect, redrive, discard. */
export function deadLetterRoutes(app: FastifyInstance, bus: Bus): void {
  const subscriptions = bus.subscriptions;
  app.get<{ Params: { name: string }; Querystring: { limit: number; after?: string } }>(
    "/v1/subscriptions/:name/dead-letters",
    { schema: { params: subscriptionParams, querystring: deadLetterQuery } },
    (request) =>
      subscriptions.listDeadLetters(request.params.name, {
        limit: request.query.limit,
        ...(request.query.after === undefined ? {} : { after: request.query.after }),
      }),
  );
  app.get<{ Params: { name: string; id: string } }>(
    "/v1/subscriptions/:name/dead-letters/:id",
    { schema: { params: letterParams } },
    (request) => subscriptions.getDeadLetter(request.params.name, request.params.id),
  );
  app.post<{ Params: { name: string }; Body: { ids?: string[] } | undefined }>(
    "/v1/subscriptions/:name/dead-letters/redrive",
    { schema: { params: subscriptionParams, body: redriveBody }, preValidation: requireJsonBody },
    (request) => subscriptions.redrive(request.params.name, request.body?.ids),
  );
  app.delete<{ Params: { name: string; id: string } }>(
    "/v1/subscriptions/:name/dead-letters/:id",
    { schema: { params: letterParams } },
    async (request, reply) => {
      await subscriptions.discardDeadLetter(request.params.name, request.params.id);
      return reply.status(204).send();
    },
  );
}
