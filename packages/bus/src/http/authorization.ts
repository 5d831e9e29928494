import { isNotFound, isTributaryError, type StoredEvent, TributaryError } from "@tributary/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Authenticator, Principal } from "../auth/authenticator.js";
import { describePermission, isAllowed, type Permission } from "../auth/grants.js";
import type { Bus } from "../bus.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The request's principal; undefined while the bus runs open (no keys in the store). */
    principal: Principal | undefined;
    /** `GET /v1/events/{id}`: the event looked up to authorize the request, which the route answers. */
    eventLookup: Promise<StoredEvent> | undefined;
  }
}

/** Routes anyone may call, keys or not: orchestrators probe them without credentials. */
const openRoutes = new Set(["GET /healthz", "GET /readyz"]);

type Params = Record<string, string | undefined>;

/** What each route needs, by method and route pattern; a route not listed needs `admin`. */
const routePermissions: Record<
  string,
  (request: FastifyRequest, params: Params, bus: Bus) => Permission | Promise<Permission>
> = {
  "GET /metrics": () => ({ kind: "authenticated" }),
  "GET /openapi.json": () => ({ kind: "authenticated" }),
  "GET /asyncapi.json": () => ({ kind: "authenticated" }),

  "GET /v1/topics": () => ({ kind: "authenticated" }),
  "GET /v1/topics/:topic": () => ({ kind: "authenticated" }),
  "PUT /v1/topics/:topic": () => ({ kind: "admin" }),
  "POST /v1/topics/:topic/events": (_, params) => ({ kind: "produce", topic: params.topic ?? "" }),
  "GET /v1/topics/:topic/partitions/:partition/events": (_, params) => ({
    kind: "consume",
    topic: params.topic ?? "",
  }),
  "GET /v1/topics/:topic/keys/:key/events": (_, params) => ({ kind: "consume", topic: params.topic ?? "" }),
  // Across topics: only for a principal that may read every topic, unless filtered to one.
  "GET /v1/events": (request) => ({
    kind: "consume",
    topic: (request.query as { topic?: string } | undefined)?.topic ?? "*",
  }),
  "GET /v1/events/:id": async (request, params, bus) => {
    // Read once: the route answers with this same lookup.
    const lookup = bus.getEvent(params.id ?? "");
    request.eventLookup = lookup;
    const topic = await lookup.then(
      (event) => event.topic,
      (error: unknown) => {
        // An unknown event needs a right on every topic, so that its 404 tells a principal confined
        // to some topics nothing it could not learn from a 403. A failed lookup is no answer at all:
        // it goes out as what it is (a 503 when the store is unavailable), never as a refusal.
        if (isNotFound(error)) return "*";
        throw error;
      },
    );
    return { kind: "consume", topic };
  },

  "GET /v1/schemas": () => ({ kind: "authenticated" }),
  "GET /v1/schemas/config": () => ({ kind: "authenticated" }),
  "PUT /v1/schemas/config": () => ({ kind: "admin" }),
  // Producers own the schemas of the events they write.
  "PUT /v1/schemas/:topic/:type": (_, params) => ({ kind: "produce", topic: params.topic ?? "" }),
  "GET /v1/schemas/:topic/:type": () => ({ kind: "authenticated" }),
  "DELETE /v1/schemas/:topic/:type": () => ({ kind: "admin" }),
  "GET /v1/schemas/:topic/:type/versions/:version": () => ({ kind: "authenticated" }),
  "DELETE /v1/schemas/:topic/:type/versions/:version": () => ({ kind: "admin" }),
  "POST /v1/schemas/:topic/:type/compatibility": () => ({ kind: "authenticated" }),
  "GET /v1/schemas/:topic/:type/config": () => ({ kind: "authenticated" }),
  "PUT /v1/schemas/:topic/:type/config": () => ({ kind: "admin" }),

  "GET /v1/subscriptions": () => ({ kind: "authenticated" }),
};

/** Subscription routes: a consume right on the subscription's name or on its topic. */
const subscriptionRoute = /^(GET|PUT|POST|DELETE) \/v1\/subscriptions\/:name(\/.*)?$/;

/** The Confluent-compatible registry: reads for any key, changes for admins. */
const confluentRoute = /^(GET|PUT|POST|DELETE) \/schema-registry(\/.*)?$/;

async function permissionFor(request: FastifyRequest, bus: Bus): Promise<Permission> {
  const route = `${request.method} ${request.routeOptions.url ?? ""}`;
  const params = (request.params ?? {}) as Params;
  const listed = routePermissions[route];
  if (listed !== undefined) return listed(request, params, bus);
  if (subscriptionRoute.test(route)) {
    const name = params.name ?? "";
    // Creating (or changing) a subscription reads its topic: a right on the topic itself. A
    // `subscription:` pattern covers the subscriptions that exist, whatever their topic.
    if (request.method === "PUT") {
      return { kind: "consume", topic: (request.body as { topic?: string } | undefined)?.topic ?? "" };
    }
    const topic = await bus.subscriptions.get(name).then(
      (subscription) => subscription.topic,
      (error: unknown) => {
        // No such subscription, or a name that cannot be one: only a `subscription:` grant covers
        // it, and the route then answers 404 or 400. A store failure is a 503, not a 403.
        if (isTributaryError(error) && error.status < 500) return undefined;
        throw error;
      },
    );
    return { kind: "consume-subscription", subscription: name, topic };
  }
  const confluent = confluentRoute.exec(route);
  if (confluent !== null) {
    // POST of a lookup or a compatibility check changes nothing.
    const isRead =
      confluent[1] === "GET" ||
      (confluent[1] === "POST" &&
        /^\/schema-registry\/(compatibility\/|subjects\/[^/]+$)/.test(request.routeOptions.url ?? ""));
    return isRead ? { kind: "authenticated" } : { kind: "admin" };
  }
  // No route matched (a 404 to come) needs only a valid key; anything else unlisted is admin's.
  return request.routeOptions.url === undefined ? { kind: "authenticated" } : { kind: "admin" };
}

/**
 * API keys and grants (docs/security.md). Once any key exists in the store, every route but the
 * health probes needs one: `onRequest` authenticates (401 before any body is read), and
 * `preHandler`, once the body is parsed and validated, checks the route's permission (403).
 */
export function installAuthorization(app: FastifyInstance, bus: Bus, authenticator: Authenticator): void {
  app.decorateRequest("principal", undefined);
  app.decorateRequest("eventLookup", undefined);

  app.addHook("onRequest", async (request, reply) => {
    if (openRoutes.has(`${request.method} ${request.routeOptions.url ?? ""}`)) return;
    if (!(await authenticator.isRequired())) return;
    const principal = await authenticator.authenticate(request.headers.authorization, request.ip);
    if (principal === undefined) {
      reply.header("www-authenticate", 'Bearer realm="tributary"');
      throw new TributaryError("unauthorized", {
        message:
          request.headers.authorization === undefined
            ? "this bus requires an API key: send Authorization: Bearer <key>"
            : "the API key is unknown or revoked",
      });
    }
    request.principal = principal;
  });

  app.addHook("preHandler", async (request) => {
    const principal = request.principal;
    if (principal === undefined) return;
    const permission = await permissionFor(request, bus);
    if (!isAllowed(principal.grants, permission)) {
      throw new TributaryError("forbidden", {
        message: `this key's principal lacks ${describePermission(permission)}`,
        details: { needs: permission.kind === "authenticated" ? "key" : describePermission(permission) },
      });
    }
  });
}
