import type { FastifyInstance } from "fastify";
import { parseAppendBody } from "../../append/parse-append-body.js";
import type { Bus } from "../../bus.js";

const coordinatesSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    topic: { type: "string" },
    partition: { type: "integer" },
    offset: { type: "integer" },
    position: { type: "integer" },
    version: { type: ["integer", "null"] },
    time: { type: "string" },
  },
} as const;

const appendResponse = {
  type: "object",
  properties: { events: { type: "array", items: coordinatesSchema } },
} as const;

/**
 * `POST /v1/topics/{topic}/events`: one event, `{ events: [...] }`, or CloudEvents (structured,
 * batch, binary). Answers 201 after commit, or 200 when every event was already stored.
 */
export function appendRoutes(app: FastifyInstance, bus: Bus): void {
  app.post<{ Params: { topic: string } }>(
    "/v1/topics/:topic/events",
    {
      schema: {
        params: { type: "object", properties: { topic: { type: "string" } } },
        response: { 200: appendResponse, 201: appendResponse },
      },
    },
    async (request, reply) => {
      const { inputs, pointer } = parseAppendBody(request.headers, request.body);
      const result = await bus.append(request.params.topic, inputs, pointer);
      return reply.status(result.replayed ? 200 : 201).send({ events: result.events });
    },
  );
}
