import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";

/**
 * `/healthz`: the process is up and serving. `/readyz`: the store answers, so requests can succeed;
 * a 503 `store-unavailable` problem (with `Retry-After`) otherwise.
 */
export function healthRoutes(app: FastifyInstance, bus: Bus): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async () => {
    await bus.store.ping();
    return { status: "ready", store: bus.store.kind };
  });
}
