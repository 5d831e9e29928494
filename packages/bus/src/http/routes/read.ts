import { limits } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";

const limit = { type: "integer", minimum: 1, maximum: limits.maxReadLimit, default: limits.defaultReadLimit };
const time = { type: "string", format: "date-time" };
/** Printable text: no control characters (they are refused in ids, types and keys on append too). */
const text = {
  type: "string",
  minLength: 1,
  maxLength: 1024,
  pattern: "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
};

interface PartitionQuery {
  from: number;
  limit: number;
  wait: number;
}

interface KeyQuery {
  fromVersion: number;
  asOf?: string;
  limit: number;
}

interface EventsQuery {
  topic?: string;
  type?: string;
  key?: string;
  correlationId?: string;
  from?: string;
  to?: string;
  after?: string;
  order: "asc" | "desc";
  limit: number;
}

function optionalDate(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}

/** Partition reads with long-poll, entity streams, the cross-topic query and get-by-id. */
export function readRoutes(app: FastifyInstance, bus: Bus): void {
  app.get<{ Params: { topic: string; partition: number }; Querystring: PartitionQuery }>(
    "/v1/topics/:topic/partitions/:partition/events",
    {
      schema: {
        params: {
          type: "object",
          properties: {
            topic: { type: "string" },
            partition: { type: "integer", minimum: 0, maximum: limits.maxPartitions },
          },
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            from: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
            limit,
            wait: { type: "integer", minimum: 0, maximum: limits.maxWaitMs, default: 0 },
          },
        },
      },
    },
    (request) => {
      const { from, limit, wait } = request.query;
      return bus.readPartition(request.params.topic, request.params.partition, { from, limit, waitMs: wait });
    },
  );

  app.get<{ Params: { topic: string; key: string }; Querystring: KeyQuery }>(
    "/v1/topics/:topic/keys/:key/events",
    {
      schema: {
        params: {
          type: "object",
          properties: { topic: { type: "string" }, key: { ...text, maxLength: limits.maxKeyLength } },
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            fromVersion: { type: "integer", minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1 },
            asOf: time,
            limit,
          },
        },
      },
    },
    (request) => {
      const { fromVersion, asOf, limit } = request.query;
      const at = optionalDate(asOf);
      return bus.readKey(request.params.topic, request.params.key, {
        fromVersion,
        limit,
        ...(at === undefined ? {} : { asOf: at }),
      });
    },
  );

  app.get<{ Querystring: EventsQuery }>(
    "/v1/events",
    {
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            topic: { type: "string" },
            type: text,
            key: { ...text, maxLength: limits.maxKeyLength },
            correlationId: text,
            from: time,
            to: time,
            after: { type: "string", maxLength: 64 },
            order: { enum: ["asc", "desc"], default: "asc" },
            limit,
          },
        },
      },
    },
    (request) => {
      const { from, to, ...rest } = request.query;
      const fromDate = optionalDate(from);
      const toDate = optionalDate(to);
      return bus.query({
        ...rest,
        ...(fromDate === undefined ? {} : { from: fromDate }),
        ...(toDate === undefined ? {} : { to: toDate }),
      });
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/events/:id",
    {
      schema: {
        params: { type: "object", properties: { id: { type: "string", maxLength: limits.maxIdLength } } },
      },
    },
    // Authorizing the request may have read the event already (see installAuthorization).
    (request) => request.eventLookup ?? bus.getEvent(request.params.id),
  );
}
