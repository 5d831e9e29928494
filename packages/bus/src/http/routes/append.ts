import { TributaryError } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import { parseAppendBody } from "../../append/parse-append-body.js";
import type { RateLimiter } from "../../auth/rate-limiter.js";
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
export function appendRoutes(app: FastifyInstance, bus: Bus, limiter: RateLimiter): void {
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
      if (request.principal !== undefined) {
        const length = Number(request.headers["content-length"]);
        const bytes = Number.isFinite(length)
          ? length
          : Buffer.byteLength(JSON.stringify(request.body ?? null));
        const taken = limiter.take(request.principal.name, inputs.length, bytes);
        if (!taken.ok) {
          throw new TributaryError("rate-limited", {
            message: `over the append rate of this principal; retry in ${taken.retryAfterMs} ms`,
            details: { retryAfterMs: taken.retryAfterMs },
          });
        }
      }
      const result = await bus.append(request.params.topic, inputs, pointer);
      return reply.status(result.replayed ? 200 : 201).send({ events: result.events });
    },
  );
}
