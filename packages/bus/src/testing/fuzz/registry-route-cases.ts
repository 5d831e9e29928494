import { compatibilityModes } from "@tributary/protocol";
import type { Random } from "./random.js";
import {
  type BodyVariant,
  eventType,
  json,
  type Param,
  type RouteCase,
  seeded,
  topic,
} from "./route-case.js";
import { constant, object, oneOf, refusing, type Shape } from "./shapes.js";
import { printableText } from "./values.js";

const confluentSubject: Param = {
  fresh: (random, edge) => `fz${printableText(random, 300, edge)}`,
  seeded: [seeded.confluentSubject, `${seeded.topic}-${seeded.type}`],
};
const confluentVersion: Param = {
  fresh: (random) => random.pick(["latest", "-1", "1", "2", "2147483647"]),
  refused: (random) => random.pick(["0", "-2", "x", "2147483648", "01", "1.5", "１"]),
};
/** JSON Schemas the registry may take or refuse, some built to hurt a compiler or checker. */
const jsonSchema: Shape = {
  valid: (random) =>
    random.pick<unknown>([
      {},
      true,
      { type: "object", properties: { name: { type: "string", maxLength: 10 } }, required: ["name"] },
      { $ref: "#" },
      { anyOf: [{ $ref: "#" }, { type: "string" }] },
      { definitions: { a: { $ref: "#/definitions/a" } }, $ref: "#/definitions/a" },
      { type: "string", pattern: "^(a+)+$" },
      { enum: Array.from({ length: 2000 }, (_, index) => index) },
      { $schema: "https://json-schema.org/draft/2020-12/schema", prefixItems: [{ type: "string" }] },
      JSON.parse(`${'{"not":'.repeat(60)}{}${"}".repeat(60)}`),
      { type: "integer", minimum: 1e308, multipleOf: 1e-308 },
      { properties: { "": {}, "\u0000": {}, __proto: {} } },
    ]),
  invalid: (random) =>
    random.pick<unknown>([
      "x",
      5,
      [],
      ["a"],
      { type: 5 },
      { required: "x" },
      { $ref: "http://example.com/s" },
    ]),
};

const jsonSchemaText: Shape = {
  valid: (random, edge) => JSON.stringify(jsonSchema.valid(random, edge)),
  invalid: (random) =>
    random.pick<unknown>([5, {}, [], "not json", "5", '"x"', "[[[[", `${"[".repeat(500)}${"]".repeat(500)}`]),
};

const confluentTypes = (random: Random) =>
  random.pick([
    "application/vnd.schemaregistry.v1+json",
    "application/vnd.schemaregistry+json",
    "application/json",
  ]);

const confluentSchema = (refusals: ((random: Random) => unknown)[] = []) =>
  refusing(
    object(
      {
        schema: jsonSchemaText,
        schemaType: oneOf(["JSON", "json"]),
        references: constant([], [[{ name: "a" }], "x", 5, { a: 1 }, [[1]]]),
      },
      { required: ["schema", "schemaType"], isClosed: false },
    ),
    [
      () => ({ schema: "{}", schemaType: "JSON", references: [{ name: "a", subject: "b", version: 1 }] }),
      () => ({ schema: "{}", schemaType: "JSON", ruleSet: { domainRules: [{ name: "r" }] } }),
      () => ({ schema: "{}" }),
      ...refusals,
    ],
  );

const compatibility = object({ compatibility: oneOf(compatibilityModes) }, { required: ["compatibility"] });
const confluentCompatibility = object(
  { compatibility: oneOf([...compatibilityModes, "backward"]) },
  { required: ["compatibility"], isClosed: false },
);

const eventTypeParams = { topic, type: eventType };

/** The registry's own API under `/v1/schemas`. */
export const schemaRouteCases: RouteCase[] = [
  { route: "GET /v1/schemas", isRead: true },
  { route: "GET /v1/schemas/config", isRead: true },
  { route: "PUT /v1/schemas/config", bodies: [{ contentType: json, shape: compatibility }] },
  {
    route: "PUT /v1/schemas/:topic/:type",
    params: eventTypeParams,
    bodies: [{ contentType: json, shape: object({ schema: jsonSchema }, { required: ["schema"] }) }],
  },
  { route: "GET /v1/schemas/:topic/:type", params: eventTypeParams, isRead: true },
  { route: "DELETE /v1/schemas/:topic/:type", params: eventTypeParams },
  {
    route: "GET /v1/schemas/:topic/:type/versions/:version",
    params: { ...eventTypeParams, version: confluentVersion },
    isRead: true,
  },
  {
    route: "DELETE /v1/schemas/:topic/:type/versions/:version",
    params: {
      ...eventTypeParams,
      version: { ...confluentVersion, refused: (random) => random.pick(["0", "x", "-1"]) },
    },
  },
  {
    route: "POST /v1/schemas/:topic/:type/compatibility",
    params: eventTypeParams,
    bodies: [{ contentType: json, shape: object({ schema: jsonSchema }, { required: ["schema"] }) }],
    isRead: true,
  },
  { route: "GET /v1/schemas/:topic/:type/config", params: eventTypeParams, isRead: true },
  {
    route: "PUT /v1/schemas/:topic/:type/config",
    params: eventTypeParams,
    bodies: [{ contentType: json, shape: compatibility }],
  },
];

/** The Confluent-compatible API under `/schema-registry`. */
export function confluentRouteCases(): RouteCase[] {
  const subjectParams = { subject: confluentSubject };
  const versionParams = { subject: confluentSubject, version: confluentVersion };
  const id: Param = { fresh: (random) => random.pick(["1", "2", "0", "-1", "x", "99999999999999999999"]) };
  const flags = {
    deleted: (random: Random) => random.pick(["true", "TRUE", "false", "1", ""]),
    permanent: (random: Random) => random.pick(["true", "false", "yes"]),
    verbose: (random: Random) => random.pick(["true", "false"]),
    defaultToGlobal: (random: Random) => random.pick(["true", "false"]),
  };
  const body = (shape: Shape): BodyVariant[] => [{ contentType: confluentTypes, shape }];
  const reads = [
    "GET /schema-registry",
    "GET /schema-registry/",
    "GET /schema-registry/subjects",
    "GET /schema-registry/schemas/types",
    "GET /schema-registry/config",
    "GET /schema-registry/mode",
  ].map((route): RouteCase => ({ route, query: flags, isRead: true }));
  return [
    ...reads,
    { route: "GET /schema-registry/mode/:subject", params: subjectParams, isRead: true },
    {
      route: "GET /schema-registry/subjects/:subject/versions",
      params: subjectParams,
      query: flags,
      isRead: true,
    },
    ...["", "/schema", "/referencedby"].map(
      (tail): RouteCase => ({
        route: `GET /schema-registry/subjects/:subject/versions/:version${tail}`,
        params: versionParams,
        query: flags,
        isRead: true,
      }),
    ),
    {
      route: "POST /schema-registry/subjects/:subject/versions",
      params: subjectParams,
      bodies: body(confluentSchema([() => ({ schema: "{}", schemaType: "JSON", id: 5 })])),
    },
    {
      route: "POST /schema-registry/subjects/:subject",
      params: subjectParams,
      bodies: body(confluentSchema()),
      isRead: true,
    },
    { route: "DELETE /schema-registry/subjects/:subject", params: subjectParams, query: flags },
    {
      route: "DELETE /schema-registry/subjects/:subject/versions/:version",
      params: versionParams,
      query: flags,
    },
    ...["", "/schema", "/versions", "/subjects"].map(
      (tail): RouteCase => ({
        route: `GET /schema-registry/schemas/ids/:id${tail}`,
        params: { id },
        query: flags,
        isRead: true,
      }),
    ),
    {
      route: "POST /schema-registry/compatibility/subjects/:subject/versions",
      params: subjectParams,
      query: flags,
      bodies: body(confluentSchema()),
      isRead: true,
    },
    {
      route: "POST /schema-registry/compatibility/subjects/:subject/versions/:version",
      params: versionParams,
      query: flags,
      bodies: body(confluentSchema()),
      isRead: true,
    },
    { route: "PUT /schema-registry/config", bodies: body(confluentCompatibility) },
    { route: "GET /schema-registry/config/:subject", params: subjectParams, query: flags, isRead: true },
    {
      route: "PUT /schema-registry/config/:subject",
      params: subjectParams,
      bodies: body(confluentCompatibility),
    },
    { route: "DELETE /schema-registry/config/:subject", params: subjectParams },
  ];
}
