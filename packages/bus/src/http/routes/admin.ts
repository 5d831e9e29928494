import { TributaryError } from "@tributary/protocol";
import type { FastifyInstance } from "fastify";
import type { Bus } from "../../bus.js";
import { requireJsonBody } from "../require-json-body.js";

const patterns = {
  type: "array",
  maxItems: 100,
  items: { type: "string", minLength: 1, maxLength: 213 },
} as const;

const grantsProperties = {
  produce: patterns,
  consume: patterns,
  admin: { type: "boolean" },
} as const;

const keyBody = {
  type: "object",
  required: ["principal"],
  additionalProperties: false,
  properties: { principal: { type: "string", minLength: 1, maxLength: 128 }, ...grantsProperties },
} as const;

const grantsBody = { type: "object", additionalProperties: false, properties: grantsProperties } as const;

interface GrantsBody {
  produce?: string[];
  consume?: string[];
  admin?: boolean;
}

const toGrants = (body: GrantsBody) => ({
  produce: body.produce ?? [],
  consume: body.consume ?? [],
  admin: body.admin ?? false,
});

/**
 * The admin API (docs/security.md): API keys and principals' grants. Needs `admin` once any key
 * exists; before that the bus is open, and creating the first key closes it.
 */
export function adminRoutes(app: FastifyInstance, bus: Bus): void {
  const json = { preValidation: requireJsonBody };

  app.get("/v1/admin/keys", async () => ({ keys: await bus.auth.listKeys() }));

  app.post<{ Body: GrantsBody & { principal: string } }>(
    "/v1/admin/keys",
    { schema: { body: keyBody }, ...json },
    async (request, reply) => {
      const { key, info } = await bus.auth.createKey(request.body.principal, toGrants(request.body));
      return reply.status(201).send({ ...info, key });
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/admin/keys/:id",
    { schema: { params: { type: "object", properties: { id: { type: "string", maxLength: 64 } } } } },
    async (request, reply) => {
      if (!(await bus.auth.revokeKey(request.params.id))) {
        throw new TributaryError("key-not-found", { details: { id: request.params.id } });
      }
      return reply.status(204).send();
    },
  );

  app.get("/v1/admin/principals", async () => ({ principals: await bus.auth.listPrincipals() }));

  app.put<{ Params: { name: string }; Body: GrantsBody }>(
    "/v1/admin/principals/:name",
    {
      schema: {
        params: { type: "object", properties: { name: { type: "string", maxLength: 128 } } },
        body: grantsBody,
      },
      ...json,
    },
    async (request) => bus.auth.putPrincipal(request.params.name, toGrants(request.body)),
  );
}
