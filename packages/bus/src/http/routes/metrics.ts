import type { FastifyInstance } from "fastify";
import type { BusMetrics } from "../../metrics/bus-metrics.js";

/** `GET /metrics`: the Prometheus text exposition of the bus process. */
export function metricsRoutes(app: FastifyInstance, metrics: BusMetrics): void {
  app.get("/metrics", async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
