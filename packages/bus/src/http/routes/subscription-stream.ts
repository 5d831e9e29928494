import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { limits, type SubscriptionInfo } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";
import { formatResumeToken, parseResumeToken, type ResumeToken } from "../../subscriptions/resume-token.js";
import { consumerId, subscriptionParams } from "./subscription-schemas.js";

/** A comment line this often keeps proxies from closing an idle stream. */
const keepAliveMs = 15_000;

interface StreamQuery {
  consumer?: string;
  max: number;
}

/** Writes one chunk, waiting for the socket to drain when its buffer is full. */
async function write(response: ServerResponse, chunk: string): Promise<void> {
  if (response.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.on("drain", done);
    response.on("close", done);
  });
}

/** An SSE frame of one event, given as its JSON text. */
function frame(token: ResumeToken, eventJson: string): string {
  return `id: ${formatResumeToken(token)}\ndata: ${eventJson}\n\n`;
}

/**
 * Sends again what a reconnecting client may have lost: per partition named in its token, the
 * events from the token's offset up to the subscription's checkpoint (they were acknowledged when
 * written to the old connection). Later events are still the group's to deliver.
 */
async function replaySince(
  bus: Bus,
  subscription: SubscriptionInfo,
  token: ResumeToken,
  response: ServerResponse,
  isOpen: () => boolean,
): Promise<void> {
  const status = await bus.subscriptions.status(subscription.name);
  const types = subscription.types === null ? undefined : new Set(subscription.types);
  for (const [partition, from] of [...token.entries()].sort(([a], [b]) => a - b)) {
    const checkpoint = status.partitions[partition]?.checkpoint ?? from;
    let offset = from;
    while (offset < checkpoint && isOpen()) {
      const limit = Math.min(limits.maxReadLimit, checkpoint - offset);
      // Delivery rows: the stored JSON goes to the client as is, never parsed here.
      const rows = await bus.store.readPartitionForDelivery(
        subscription.topic,
        partition,
        offset,
        limit,
        bus.batchBytes,
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        offset = row.offset + 1;
        token.set(partition, offset);
        if (types === undefined || types.has(row.type))
          await write(response, frame(token, `${row.openJson.toString()}}`));
      }
    }
  }
}

/**
 * `GET /v1/subscriptions/{name}/stream`: the subscription as Server-Sent Events. The connection is
 * a consumer instance; each event is acknowledged once written to it. See docs/subscriptions.md.
 */
export function subscriptionStreamRoutes(app: FastifyInstance, bus: Bus): void {
  const open = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const end of [...open]) end();
  });

  app.get<{ Params: { name: string }; Querystring: StreamQuery }>(
    "/v1/subscriptions/:name/stream",
    {
      schema: {
        params: subscriptionParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            consumer: consumerId,
            max: {
              type: "integer",
              minimum: 1,
              maximum: limits.maxReadLimit,
              default: limits.defaultReadLimit,
            },
          },
        },
      },
    },
    async (request, reply) => {
      // Before hijacking, so that an unknown subscription is still a problem response.
      const subscription = await bus.subscriptions.get(request.params.name);
      const consumer = request.query.consumer ?? `sse-${randomUUID()}`;
      const lastEventId = request.headers["last-event-id"];
      const token = parseResumeToken(typeof lastEventId === "string" ? lastEventId : undefined) ?? new Map();
      const response = reply.raw;
      const aborter = new AbortController();
      const end = () => aborter.abort();
      open.add(end);
      response.on("close", end);
      reply.hijack();
      response.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      response.flushHeaders();
      const isOpen = () => !aborter.signal.aborted && !response.destroyed;
      try {
        await write(response, ": connected\n\n");
        await replaySince(bus, subscription, token, response, isOpen);
        while (isOpen()) {
          const polled = await bus.subscriptions.poll(subscription.name, {
            consumer,
            max: request.query.max,
            waitMs: keepAliveMs,
            signal: aborter.signal,
          });
          if (polled.events.length === 0) {
            if (isOpen()) await write(response, ": keep-alive\n\n");
            continue;
          }
          if (!isOpen()) break;
          for (const event of polled.events) {
            token.set(event.partition, event.offset + 1);
            const { attempt: _attempt, ...stored } = event;
            await write(response, frame(token, JSON.stringify(stored)));
          }
          if (!isOpen()) break;
          await bus.subscriptions.ack(
            subscription.name,
            consumer,
            polled.events.map((event) => event.id),
          );
        }
      } catch (error) {
        request.log.warn({ err: error, subscription: subscription.name }, "event stream ended by an error");
      } finally {
        open.delete(end);
        response.off("close", end);
        // Partitions go to the other instances at once; what was not written is delivered again.
        await bus.subscriptions.leave(subscription.name, consumer).catch(() => undefined);
        if (!response.destroyed) response.end();
      }
    },
  );
}
