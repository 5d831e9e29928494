import { limits, type TopicSettings } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";
import { requireJsonBody } from "../require-json-body.js";

const topicParams = {
  type: "object",
  required: ["topic"],
  properties: { topic: { type: "string" } },
} as const;

const topicSettingsBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    partitions: { type: "integer", minimum: 1, maximum: limits.maxPartitions },
    retention: {
      type: "object",
      additionalProperties: false,
      properties: { maxAgeMs: { anyOf: [{ type: "integer", minimum: 1 }, { type: "null" }] } },
    },
    validation: { type: "string", enum: ["none", "if-registered", "required"] },
  },
} as const;

/** `PUT /v1/topics/{topic}`, `GET /v1/topics`, `GET /v1/topics/{topic}`. */
export function topicRoutes(app: FastifyInstance, bus: Bus): void {
  app.put<{
    Params: { topic: string };
    Body: TopicSettings;
  }>(
    "/v1/topics/:topic",
    { schema: { params: topicParams, body: topicSettingsBody }, preValidation: requireJsonBody },
    async (request, reply) => {
      const { topic, created } = await bus.putTopic(request.params.topic, request.body ?? {});
      return reply.status(created ? 201 : 200).send(topic);
    },
  );
  app.get("/v1/topics", async () => ({ topics: await bus.listTopics() }));
  app.get<{ Params: { topic: string } }>(
    "/v1/topics/:topic",
    { schema: { params: topicParams } },
    (request) => bus.getTopic(request.params.topic),
  );
}
