import swagger from "@fastify/swagger";
import { errorCatalogue, problemContentType, problemTypePrefix } from "@tributary/protocol";
import Fastify, { type FastifySchema, type HTTPMethods } from "fastify";

/** A route as the app declared it: what its OpenAPI operation is made from. */
export interface DocumentedRoute {
  method: HTTPMethods | HTTPMethods[];
  url: string;
  schema?: FastifySchema;
}

/** The parts of an OpenAPI document that are filled in after @fastify/swagger made it. */
interface OpenApiOperation {
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, unknown>;
}

type OpenApiDocument = Record<string, unknown> & {
  paths?: Record<string, Record<string, OpenApiOperation>>;
  components?: Record<string, unknown>;
};

/**
 * The Confluent-compatible registry follows Confluent's API, with Confluent's error bodies instead
 * of problems: Confluent documents it, and describing it here would mislabel its errors.
 */
const undocumentedPrefix = "/schema-registry";

/** Routes that answer without a key (the health probes; see `authorization.ts`). */
const openRoutes = new Set(["/healthz", "/readyz"]);

/** Operations are tagged by the first segments of their path; any other is `operations`. */
const tags = [
  { name: "topics", prefix: "/v1/topics", description: "Topics, appends and partition and entity reads" },
  { name: "events", prefix: "/v1/events", description: "Queries across topics and events by id" },
  { name: "schemas", prefix: "/v1/schemas", description: "The schema registry (docs/schemas.md)" },
  {
    name: "subscriptions",
    prefix: "/v1/subscriptions",
    description: "Consumer groups (docs/subscriptions.md)",
  },
  { name: "admin", prefix: "/v1/admin", description: "API keys and principals" },
  { name: "operations", prefix: null, description: "Health, metrics and these API documents" },
] as const;

const problemSchema = {
  type: "object",
  description:
    "An RFC 9457 problem document. Members beyond these are extension members with the error's " +
    "specifics, such as `errors` (each invalid field with its JSON pointer) or `actualVersion`.",
  required: ["type", "title", "status", "detail", "code", "retriable"],
  properties: {
    type: { type: "string", format: "uri", examples: [`${problemTypePrefix}topic-not-found`] },
    title: { type: "string" },
    status: { type: "integer", minimum: 400, maximum: 599 },
    detail: { type: "string", description: "For people; programs branch on `code`." },
    code: { type: "string", enum: Object.keys(errorCatalogue), description: "Stable (docs/errors.md)." },
    instance: { type: "string" },
    retriable: {
      type: "boolean",
      description: "Whether the same request may succeed when sent again later.",
    },
  },
  additionalProperties: true,
};

const problemResponse = { $ref: "#/components/responses/Problem" };

function tagOf(path: string): string {
  const tag = tags.find(
    ({ prefix }) => prefix !== null && (path === prefix || path.startsWith(`${prefix}/`)),
  );
  return tag?.name ?? "operations";
}

/**
 * Adds what the route schemas do not say: the API key scheme, the problem responses every
 * operation may give, and the tags.
 */
function complete(document: OpenApiDocument): OpenApiDocument {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      operation.tags ??= [tagOf(path)];
      if (openRoutes.has(path)) operation.security = [];
      const responses = { ...operation.responses };
      responses["4XX"] ??= problemResponse;
      responses["5XX"] ??= problemResponse;
      operation.responses = responses;
    }
  }
  return {
    ...document,
    security: [{ apiKey: [] }],
    tags: tags.map(({ name, description }) => ({ name, description })),
    components: {
      ...document.components,
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description:
            "An API key (`tributary keys create`). Needed on every route but the health probes once " +
            "any key exists; a bus without keys is open.",
        },
      },
      schemas: { ...(document.components?.schemas as object | undefined), Problem: problemSchema },
      responses: {
        Problem: {
          description: "An error, as a problem document",
          content: { [problemContentType]: { schema: { $ref: "#/components/schemas/Problem" } } },
        },
      },
    },
  };
}

/**
 * The OpenAPI 3.1 document of the given routes, made by @fastify/swagger from their schemas
 * (params, querystring, body, responses), with the API key scheme and the problem responses added.
 * Routes under `/schema-registry` are left out, as are HEAD routes.
 *
 * @fastify/swagger collects routes with an `onRoute` hook, so it must be registered before them;
 * but its registration runs only when the app gets ready, after `createApp` added its routes. So
 * the app records its routes itself, and they are declared again here, on an instance of their
 * own that only serves to generate the document.
 */
export async function createOpenApiDocument(
  routes: readonly DocumentedRoute[],
  info: { title: string; version: string; description: string },
): Promise<Record<string, unknown>> {
  const generator = Fastify({ logger: false, exposeHeadRoutes: false });
  // The app compiled these schemas already; here they are only read.
  generator.setValidatorCompiler(() => () => true);
  generator.setSerializerCompiler(() => (data) => JSON.stringify(data));
  try {
    await generator.register(swagger, { openapi: { openapi: "3.1.0", info } });
    for (const route of routes) {
      const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter(
        (method) => method !== "HEAD",
      );
      if (methods.length === 0 || route.url.startsWith(undocumentedPrefix)) continue;
      generator.route({
        method: methods,
        url: route.url,
        ...(route.schema === undefined ? {} : { schema: route.schema }),
        handler: async () => undefined,
      });
    }
    await generator.ready();
    return complete(generator.swagger() as OpenApiDocument);
  } finally {
    await generator.close();
  }
}
