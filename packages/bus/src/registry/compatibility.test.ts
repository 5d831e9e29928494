import { readFileSync } from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import {
  type CompatibilityMode,
  checkCompatibility,
  compatibilityModes,
  findIncompatibilities,
  type JsonSchema,
  type SchemaIncompatibility,
} from "./compatibility.js";
import { incompatibilityKinds } from "./schema-findings.js";

type Schema = Record<string, unknown>;

/** Version 1 of the example domain's UserCreated event: an open content model. */
const userCreated: Schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "UserCreated",
  type: "object",
  properties: {
    userId: { type: "string", format: "uuid" },
    email: { type: "string", maxLength: 254 },
    name: { type: "string", minLength: 1, maxLength: 100 },
    plan: { enum: ["free", "pro"] },
    age: { type: "integer", minimum: 0 },
  },
  required: ["userId", "email", "name"],
};

/** The same event with a closed content model. */
const closedUserCreated: Schema = { ...userCreated, additionalProperties: false };

const properties = (schema: Schema) => schema.properties as Record<string, JsonSchema>;

/** `schema` with property `name` set to `property` (or removed when undefined). */
function withProperty(schema: Schema, name: string, property: JsonSchema | undefined): Schema {
  const next = { ...properties(schema) };
  if (property === undefined) delete next[name];
  else next[name] = property;
  return { ...schema, properties: next };
}

function withRequired(schema: Schema, required: string[]): Schema {
  return { ...schema, required };
}

/** An organization event with nested objects, arrays and a tuple, for the structural cases. */
const organizationCreated: Schema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    organizationId: { type: "string" },
    address: {
      type: "object",
      properties: { street: { type: "string" }, zip: { type: "string" } },
      additionalProperties: false,
    },
    tags: { type: "array", items: { type: "string" } },
    location: { type: "array", prefixItems: [{ type: "number" }, { type: "number" }], items: false },
    metadata: { type: "object", additionalProperties: { type: "string" } },
    labels: { type: "object", patternProperties: { "^x-": { type: "string" } }, additionalProperties: false },
    price: { type: "number", multipleOf: 0.01 },
  },
  required: ["organizationId"],
};

const cardOrIban: Schema = {
  oneOf: [
    {
      type: "object",
      properties: { kind: { const: "card" }, last4: { type: "string" } },
      required: ["kind", "last4"],
    },
    {
      type: "object",
      properties: { kind: { const: "iban" }, iban: { type: "string" } },
      required: ["kind", "iban"],
    },
  ],
};
const withPaypal: Schema = {
  oneOf: [
    ...(cardOrIban.oneOf as Schema[]),
    {
      type: "object",
      properties: { kind: { const: "paypal" }, account: { type: "string" } },
      required: ["kind", "account"],
    },
  ],
};

const membershipBase = {
  $defs: {
    base: { type: "object", properties: { userId: { type: "string" } }, required: ["userId"] },
  },
};
const membership = (roles: string[]): Schema => ({
  ...membershipBase,
  allOf: [{ $ref: "#/$defs/base" }, { properties: { role: { enum: roles } }, required: ["role"] }],
});

interface Case {
  name: string;
  mode: CompatibilityMode;
  /** Versions 1, 2… in order. */
  existing: JsonSchema[];
  candidate: JsonSchema;
  /** Empty: compatible. Otherwise the breaks in order, matched on the fields given. */
  breaks: Array<Partial<SchemaIncompatibility>>;
}

const cases: Case[] = [
  // UserCreated, open content model
  { name: "an identical schema", mode: "FULL", existing: [userCreated], candidate: userCreated, breaks: [] },
  {
    name: "only annotations changed",
    mode: "FULL_TRANSITIVE",
    existing: [userCreated],
    candidate: { ...userCreated, title: "User created", description: "A user signed up", $comment: "v2" },
    breaks: [],
  },
  {
    name: "an optional typed property added to an open model",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "nickname", { type: "string" }),
    breaks: [{ kind: "property-added-to-open-model", path: "/properties/nickname", direction: "backward" }],
  },
  {
    name: "an optional property with an empty schema added to an open model",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "nickname", { description: "anything" }),
    breaks: [],
  },
  {
    name: "an optional property added to an open model, read by the old open schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "nickname", { type: "string" }),
    breaks: [],
  },
  {
    name: "a required property added to an open model",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withRequired(withProperty(userCreated, "locale", { type: "string" }), [
      "userId",
      "email",
      "name",
      "locale",
    ]),
    breaks: [
      { kind: "property-added-to-open-model", path: "/properties/locale" },
      { kind: "required-property-added", path: "/properties/locale" },
    ],
  },
  {
    name: "an optional property removed from an open model",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "age", undefined),
    breaks: [],
  },
  {
    name: "an optional property removed from an open model, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "age", undefined),
    breaks: [{ kind: "property-removed-from-open-model", path: "/properties/age", direction: "forward" }],
  },
  {
    name: "a required property removed from an open model, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withRequired(withProperty(userCreated, "name", undefined), ["userId", "email"]),
    breaks: [
      { kind: "property-removed-from-open-model", path: "/properties/name" },
      { kind: "property-no-longer-required", path: "/properties/name" },
    ],
  },
  {
    name: "a required property made optional",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withRequired(userCreated, ["userId", "email"]),
    breaks: [],
  },
  {
    name: "a required property made optional, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withRequired(userCreated, ["userId", "email"]),
    breaks: [{ kind: "property-no-longer-required", path: "/properties/name", direction: "forward" }],
  },
  {
    name: "an optional property made required",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withRequired(userCreated, ["userId", "email", "name", "age"]),
    breaks: [{ kind: "required-property-added", path: "/properties/age" }],
  },
  {
    name: "a field renamed in an open model",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withRequired(
      withProperty(withProperty(userCreated, "name", undefined), "fullName", { type: "string" }),
      ["userId", "email", "fullName"],
    ),
    breaks: [
      { kind: "property-added-to-open-model", path: "/properties/fullName" },
      { kind: "required-property-added", path: "/properties/fullName" },
    ],
  },

  // UserCreated, closed content model
  {
    name: "an optional property added to a closed model",
    mode: "BACKWARD",
    existing: [closedUserCreated],
    candidate: withProperty(closedUserCreated, "nickname", { type: "string" }),
    breaks: [],
  },
  {
    name: "an optional property added to a closed model, read by the old schema",
    mode: "FORWARD",
    existing: [closedUserCreated],
    candidate: withProperty(closedUserCreated, "nickname", { type: "string" }),
    breaks: [{ kind: "property-added-to-closed-model", path: "/properties/nickname", direction: "forward" }],
  },
  {
    name: "an optional property added to a closed model under FULL",
    mode: "FULL",
    existing: [closedUserCreated],
    candidate: withProperty(closedUserCreated, "nickname", { type: "string" }),
    breaks: [{ kind: "property-added-to-closed-model", direction: "forward", version: 1 }],
  },
  {
    name: "a required property added to a closed model",
    mode: "BACKWARD",
    existing: [closedUserCreated],
    candidate: withRequired(withProperty(closedUserCreated, "locale", { type: "string" }), [
      "userId",
      "email",
      "name",
      "locale",
    ]),
    breaks: [{ kind: "required-property-added", path: "/properties/locale" }],
  },
  {
    name: "a required property with a default added to a closed model (a default does not fill old events)",
    mode: "BACKWARD",
    existing: [closedUserCreated],
    candidate: withRequired(withProperty(closedUserCreated, "locale", { type: "string", default: "en" }), [
      "userId",
      "email",
      "name",
      "locale",
    ]),
    breaks: [{ kind: "required-property-added", path: "/properties/locale" }],
  },
  {
    name: "a property removed from a closed model",
    mode: "BACKWARD",
    existing: [closedUserCreated],
    candidate: withProperty(closedUserCreated, "age", undefined),
    breaks: [{ kind: "property-removed-from-closed-model", path: "/properties/age" }],
  },
  {
    name: "a property removed from a closed model, read by the old schema",
    mode: "FORWARD",
    existing: [closedUserCreated],
    candidate: withProperty(closedUserCreated, "age", undefined),
    breaks: [],
  },
  {
    name: "a field renamed in a closed model, both ways",
    mode: "FULL",
    existing: [closedUserCreated],
    candidate: withRequired(
      withProperty(withProperty(closedUserCreated, "name", undefined), "fullName", { type: "string" }),
      ["userId", "email", "fullName"],
    ),
    breaks: [
      { kind: "property-removed-from-closed-model", path: "/properties/name", direction: "backward" },
      { kind: "required-property-added", path: "/properties/fullName", direction: "backward" },
      { kind: "property-added-to-closed-model", path: "/properties/fullName", direction: "forward" },
      { kind: "property-no-longer-required", path: "/properties/name", direction: "forward" },
    ],
  },
  {
    name: "an open model closed",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: closedUserCreated,
    breaks: [{ kind: "content-model-closed", path: "/additionalProperties" }],
  },
  {
    name: "an open model closed, read by the old open schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: closedUserCreated,
    breaks: [],
  },
  {
    name: "a closed model opened",
    mode: "BACKWARD",
    existing: [closedUserCreated],
    candidate: userCreated,
    breaks: [],
  },
  {
    name: "a closed model opened, read by the old closed schema",
    mode: "FORWARD",
    existing: [closedUserCreated],
    candidate: userCreated,
    breaks: [{ kind: "content-model-opened", path: "/additionalProperties" }],
  },

  // Types
  {
    name: "integer widened to number",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "age", { type: "number", minimum: 0 }),
    breaks: [],
  },
  {
    name: "integer widened to number, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "age", { type: "number", minimum: 0 }),
    breaks: [{ kind: "type-widened", path: "/properties/age" }],
  },
  {
    name: "number narrowed to integer",
    mode: "BACKWARD",
    existing: [withProperty(userCreated, "age", { type: "number" })],
    candidate: withProperty(userCreated, "age", { type: "integer" }),
    breaks: [{ kind: "type-narrowed", path: "/properties/age" }],
  },
  {
    name: "string changed to integer",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "userId", { type: "integer" }),
    breaks: [{ kind: "type-narrowed", path: "/properties/userId" }],
  },
  {
    name: "a string made nullable with a type array",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "email", { type: ["string", "null"], maxLength: 254 }),
    breaks: [],
  },
  {
    name: "a string made nullable, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "email", { type: ["string", "null"], maxLength: 254 }),
    breaks: [{ kind: "type-widened", path: "/properties/email" }],
  },
  {
    name: "a string made nullable with anyOf",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "email", {
      anyOf: [{ type: "string", maxLength: 254 }, { type: "null" }],
    }),
    breaks: [],
  },
  {
    name: "a string made nullable with anyOf, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "email", {
      anyOf: [{ type: "string", maxLength: 254 }, { type: "null" }],
    }),
    breaks: [{ kind: "type-widened", path: "/properties/email/anyOf/1" }],
  },

  // Enums and consts
  {
    name: "an enum value added",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "plan", { enum: ["free", "pro", "enterprise"] }),
    breaks: [],
  },
  {
    name: "an enum value added, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "plan", { enum: ["free", "pro", "enterprise"] }),
    breaks: [{ kind: "enum-widened", path: "/properties/plan" }],
  },
  {
    name: "an enum value removed",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "plan", { enum: ["pro"] }),
    breaks: [{ kind: "enum-narrowed", path: "/properties/plan" }],
  },
  {
    name: "an enum value removed under FULL breaks backward only",
    mode: "FULL",
    existing: [userCreated],
    candidate: withProperty(userCreated, "plan", { enum: ["pro"] }),
    breaks: [{ kind: "enum-narrowed", direction: "backward" }],
  },
  {
    name: "an enum replaced by its type",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "plan", { type: "string" }),
    breaks: [],
  },
  {
    name: "a free string limited to an enum",
    mode: "BACKWARD",
    existing: [withProperty(userCreated, "plan", { type: "string" })],
    candidate: userCreated,
    breaks: [{ kind: "enum-narrowed", path: "/properties/plan" }],
  },
  {
    name: "a const read as its type",
    mode: "BACKWARD",
    existing: [withProperty(userCreated, "source", { const: "signup-form" })],
    candidate: withProperty(userCreated, "source", { type: "string", minLength: 1 }),
    breaks: [],
  },
  {
    name: "a const changed",
    mode: "BACKWARD",
    existing: [withProperty(userCreated, "source", { const: "signup-form" })],
    candidate: withProperty(userCreated, "source", { const: "admin" }),
    breaks: [{ kind: "enum-narrowed", path: "/properties/source" }],
  },

  // Strings
  {
    name: "maxLength loosened",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "name", { type: "string", minLength: 1, maxLength: 200 }),
    breaks: [],
  },
  {
    name: "maxLength tightened",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "name", { type: "string", minLength: 1, maxLength: 50 }),
    breaks: [{ kind: "string-length-narrowed", path: "/properties/name" }],
  },
  {
    name: "maxLength loosened, read by the old schema",
    mode: "FORWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "name", { type: "string", minLength: 1, maxLength: 200 }),
    breaks: [{ kind: "string-length-widened", path: "/properties/name" }],
  },
  {
    name: "a format added",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "email", { type: "string", maxLength: 254, format: "email" }),
    breaks: [{ kind: "format-added", path: "/properties/email" }],
  },
  {
    name: "a format changed",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "userId", { type: "string", format: "uri" }),
    breaks: [{ kind: "format-changed", path: "/properties/userId" }],
  },
  {
    name: "a format removed",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "userId", { type: "string" }),
    breaks: [],
  },
  {
    name: "a pattern added",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "email", { type: "string", maxLength: 254, pattern: "@" }),
    breaks: [{ kind: "pattern-narrowed", path: "/properties/email" }],
  },
  {
    name: "a pattern changed",
    mode: "BACKWARD",
    existing: [withProperty(userCreated, "email", { type: "string", pattern: "@" })],
    candidate: withProperty(userCreated, "email", { type: "string", pattern: "^[^@]+@[^@]+$" }),
    breaks: [{ kind: "unsupported-change", path: "/properties/email" }],
  },

  // Numbers
  {
    name: "a minimum dropped",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "age", { type: "integer" }),
    breaks: [],
  },
  {
    name: "a maximum added",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: withProperty(userCreated, "age", { type: "integer", minimum: 0, maximum: 150 }),
    breaks: [{ kind: "number-range-narrowed", path: "/properties/age" }],
  },
  {
    name: "exclusiveMinimum 0 in place of minimum 1 on an integer",
    mode: "FULL",
    existing: [withProperty(userCreated, "age", { type: "integer", minimum: 1 })],
    candidate: withProperty(userCreated, "age", { type: "integer", exclusiveMinimum: 0 }),
    breaks: [],
  },
  {
    name: "a multipleOf coarsened",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "price", { type: "number", multipleOf: 0.05 }),
    breaks: [{ kind: "multiple-of-narrowed", path: "/properties/price" }],
  },
  {
    name: "a multipleOf refined",
    mode: "BACKWARD",
    existing: [withProperty(organizationCreated, "price", { type: "number", multipleOf: 0.05 })],
    candidate: organizationCreated,
    breaks: [],
  },

  // Nested objects, maps and patterns
  {
    name: "a nested property's type changed",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "address", {
      type: "object",
      properties: { street: { type: "string" }, zip: { type: "integer" } },
      additionalProperties: false,
    }),
    breaks: [{ kind: "type-narrowed", path: "/properties/address/properties/zip" }],
  },
  {
    name: "a map's value schema narrowed",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "metadata", {
      type: "object",
      additionalProperties: { type: "string", maxLength: 10 },
    }),
    breaks: [{ kind: "string-length-narrowed", path: "/properties/metadata/additionalProperties" }],
  },
  {
    name: "a minProperties added",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "metadata", {
      type: "object",
      additionalProperties: { type: "string" },
      minProperties: 1,
    }),
    breaks: [{ kind: "property-count-narrowed", path: "/properties/metadata" }],
  },
  {
    name: "a patternProperties schema narrowed",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "labels", {
      type: "object",
      patternProperties: { "^x-": { type: "integer" } },
      additionalProperties: false,
    }),
    breaks: [{ kind: "type-narrowed", path: "/properties/labels/patternProperties/^x-" }],
  },

  // Arrays
  {
    name: "array items widened",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "tags", {
      type: "array",
      items: { type: ["string", "integer"] },
    }),
    breaks: [],
  },
  {
    name: "array items narrowed to an enum",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "tags", { type: "array", items: { enum: ["a", "b"] } }),
    breaks: [{ kind: "enum-narrowed", path: "/properties/tags/items" }],
  },
  {
    name: "a maxItems added",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "tags", {
      type: "array",
      items: { type: "string" },
      maxItems: 10,
    }),
    breaks: [{ kind: "array-length-narrowed", path: "/properties/tags" }],
  },
  {
    name: "uniqueItems added",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "tags", {
      type: "array",
      items: { type: "string" },
      uniqueItems: true,
    }),
    breaks: [{ kind: "unique-items-added", path: "/properties/tags" }],
  },
  {
    name: "a position added to a closed tuple",
    mode: "BACKWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "location", {
      type: "array",
      prefixItems: [{ type: "number" }, { type: "number" }, { type: "number" }],
      items: false,
    }),
    breaks: [],
  },
  {
    name: "a position added to a closed tuple, read by the old schema",
    mode: "FORWARD",
    existing: [organizationCreated],
    candidate: withProperty(organizationCreated, "location", {
      type: "array",
      prefixItems: [{ type: "number" }, { type: "number" }, { type: "number" }],
      items: false,
    }),
    breaks: [{ kind: "item-added-to-closed-tuple", path: "/properties/location/prefixItems/2" }],
  },
  {
    name: "a typed position added to an open tuple",
    mode: "BACKWARD",
    existing: [
      withProperty(organizationCreated, "location", { type: "array", prefixItems: [{ type: "number" }] }),
    ],
    candidate: withProperty(organizationCreated, "location", {
      type: "array",
      prefixItems: [{ type: "number" }, { type: "number" }],
    }),
    breaks: [{ kind: "item-added-to-open-tuple", path: "/properties/location/prefixItems/1" }],
  },

  // Combinators and references
  {
    name: "an allOf extension gains an enum value",
    mode: "BACKWARD",
    existing: [membership(["admin", "member"])],
    candidate: membership(["admin", "member", "owner"]),
    breaks: [],
  },
  {
    name: "an allOf extension loses an enum value",
    mode: "BACKWARD",
    existing: [membership(["admin", "member"])],
    candidate: membership(["admin"]),
    breaks: [{ kind: "enum-narrowed", path: "/allOf/1/properties/role" }],
  },
  {
    name: "a discriminated oneOf gains a branch",
    mode: "BACKWARD",
    existing: [cardOrIban],
    candidate: withPaypal,
    breaks: [],
  },
  {
    name: "a discriminated oneOf gains a branch, read by the old schema",
    mode: "FORWARD",
    existing: [cardOrIban],
    candidate: withPaypal,
    breaks: [{ kind: "union-widened", path: "/oneOf/2" }],
  },
  {
    name: "definitions moved from definitions to $defs",
    mode: "FULL",
    existing: [
      {
        definitions: { id: { type: "string" } },
        type: "object",
        properties: { id: { $ref: "#/definitions/id" } },
      },
    ],
    candidate: {
      $defs: { identifier: { type: "string" } },
      type: "object",
      properties: { id: { $ref: "#/$defs/identifier" } },
    },
    breaks: [],
  },

  // Boolean schemas
  {
    name: "true accepts any old data",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: true,
    breaks: [],
  },
  {
    name: "false rejects all old data",
    mode: "BACKWARD",
    existing: [userCreated],
    candidate: false,
    breaks: [{ kind: "type-narrowed", path: "" }],
  },
  {
    name: "true read by an object schema",
    mode: "FORWARD",
    existing: [{ type: "object" }],
    candidate: true,
    breaks: [{ kind: "type-widened", path: "" }],
  },

  // Modes
  {
    name: "NONE accepts any change",
    mode: "NONE",
    existing: [userCreated],
    candidate: { type: "integer" },
    breaks: [],
  },
  {
    name: "the first version is always compatible",
    mode: "FULL_TRANSITIVE",
    existing: [],
    candidate: false,
    breaks: [],
  },
  {
    name: "BACKWARD checks only the latest version",
    mode: "BACKWARD",
    existing: [withProperty(userCreated, "plan", { enum: ["free", "pro", "legacy"] }), userCreated],
    candidate: userCreated,
    breaks: [],
  },
  {
    name: "BACKWARD_TRANSITIVE checks every version",
    mode: "BACKWARD_TRANSITIVE",
    existing: [withProperty(userCreated, "plan", { enum: ["free", "pro", "legacy"] }), userCreated],
    candidate: userCreated,
    breaks: [{ kind: "enum-narrowed", path: "/properties/plan", version: 1, direction: "backward" }],
  },
  {
    name: "FORWARD checks only the latest version",
    mode: "FORWARD",
    existing: [closedUserCreated, withProperty(closedUserCreated, "nickname", { type: "string" })],
    candidate: withProperty(closedUserCreated, "nickname", { type: "string", maxLength: 30 }),
    breaks: [],
  },
  {
    name: "FORWARD_TRANSITIVE checks every version",
    mode: "FORWARD_TRANSITIVE",
    existing: [closedUserCreated, withProperty(closedUserCreated, "nickname", { type: "string" })],
    candidate: withProperty(closedUserCreated, "nickname", { type: "string", maxLength: 30 }),
    breaks: [
      {
        kind: "property-added-to-closed-model",
        path: "/properties/nickname",
        version: 1,
        direction: "forward",
      },
    ],
  },
  {
    name: "FULL checks only the latest version",
    mode: "FULL",
    existing: [userCreated, withProperty(userCreated, "age", { type: "number", minimum: 0 })],
    candidate: withProperty(userCreated, "age", { type: "number", minimum: 0, description: "years" }),
    breaks: [],
  },
  {
    name: "FULL_TRANSITIVE checks every version both ways",
    mode: "FULL_TRANSITIVE",
    existing: [userCreated, withProperty(userCreated, "age", { type: "number", minimum: 0 })],
    candidate: withProperty(userCreated, "age", { type: "number", minimum: 0, description: "years" }),
    breaks: [{ kind: "type-widened", path: "/properties/age", version: 1, direction: "forward" }],
  },
];

describe("checkCompatibility", () => {
  it.each(cases)("$mode: $name", ({ mode, existing, candidate, breaks }) => {
    // Given the existing versions, numbered from 1
    const versions = existing.map((schema, index) => ({ version: index + 1, schema }));

    // When the candidate is checked under the mode
    const result = checkCompatibility(mode, candidate, versions);

    // Then exactly the expected breaks are reported, each with a sentence
    expect(result).toMatchObject(breaks);
    for (const item of result) expect(item.message).toMatch(/^[^\n]+ (would|might) be rejected by [^\n]+$/);
  });

  it("says in each message which version and which consumers are at stake", () => {
    // Given a version 2 that requires less than the candidate
    const versions = [
      { version: 1, schema: userCreated },
      { version: 2, schema: withRequired(userCreated, ["userId", "name"]) },
    ];

    // When the candidate requires 'email' again under FULL
    const [backward, ...rest] = checkCompatibility("FULL", userCreated, versions);

    // Then the backward break names version 2's events and the new schema's consumers
    expect(rest).toEqual([]);
    expect(backward).toMatchObject({
      kind: "required-property-added",
      path: "/properties/email",
      version: 2,
    });
    expect(backward?.message).toBe(
      "property 'email' is required by the new schema but not by version 2, so events written with version 2 that lack it would be rejected by consumers on the new schema",
    );
  });

  it("lists every mode and refuses an unknown one", () => {
    expect(compatibilityModes).toEqual([
      "BACKWARD",
      "BACKWARD_TRANSITIVE",
      "FORWARD",
      "FORWARD_TRANSITIVE",
      "FULL",
      "FULL_TRANSITIVE",
      "NONE",
    ]);
    expect(() => checkCompatibility("SIDEWAYS" as CompatibilityMode, true, [])).toThrow(TypeError);
  });
});

describe("findIncompatibilities", () => {
  const kinds = (reader: JsonSchema, writer: JsonSchema) =>
    findIncompatibilities(reader, writer).map(({ kind, path }) => `${kind} ${path}`);

  describe("references", () => {
    const tree = (valueType: string): Schema => ({
      $defs: {
        node: {
          type: "object",
          properties: {
            value: { type: valueType },
            children: { type: "array", items: { $ref: "#/$defs/node" } },
          },
        },
      },
      $ref: "#/$defs/node",
    });

    it("compares recursive schemas without looping", () => {
      // Given a tree whose nodes refer to themselves, widened from integer to number
      // When each is read by the other
      // Then widening is fine and narrowing is found inside the definition
      expect(kinds(tree("number"), tree("integer"))).toEqual([]);
      expect(kinds(tree("integer"), tree("number"))).toEqual(["type-narrowed /$defs/node/properties/value"]);
    });

    it("follows mutual recursion through different definition names in each document", () => {
      const reader = {
        $defs: {
          person: { type: "object", properties: { employer: { $ref: "#/$defs/company" } } },
          company: {
            type: "object",
            properties: { ceo: { $ref: "#/$defs/person" }, name: { type: "string" } },
          },
        },
        $ref: "#/$defs/person",
      };
      const writer = {
        definitions: {
          human: { type: "object", properties: { employer: { $ref: "#/definitions/firm" } } },
          firm: {
            type: "object",
            properties: { ceo: { $ref: "#/definitions/human" }, name: { type: "string", maxLength: 80 } },
          },
        },
        $ref: "#/definitions/human",
      };
      expect(kinds(reader, writer)).toEqual([]);
      expect(kinds(writer, reader)).toEqual(["string-length-narrowed /definitions/firm/properties/name"]);
    });

    it("treats a reference to another document as unsupported unless identical", () => {
      const external = { $ref: "https://example.com/user.json" };
      expect(kinds(external, external)).toEqual([]);
      expect(kinds(external, { type: "object" })).toEqual(["unsupported-change "]);
    });

    it("applies the siblings of a $ref as well as its target", () => {
      const base = { $defs: { base: { type: "object", properties: { id: { type: "string" } } } } };
      const reader = { ...base, $ref: "#/$defs/base", required: ["id"] };
      const writer = { ...base, $ref: "#/$defs/base" };
      expect(kinds(reader, writer)).toEqual(["required-property-added /properties/id"]);
      expect(kinds(writer, reader)).toEqual([]);
    });
  });

  describe("unions", () => {
    it("checks each branch of a writer anyOf against the reader", () => {
      const writer = { anyOf: [{ type: "string" }, { type: "integer" }] };
      expect(kinds({ type: ["string", "number"] }, writer)).toEqual([]);
      expect(kinds({ type: "string" }, writer)).toEqual(["type-narrowed "]);
    });

    it("lets each type of the writer find its own branch of a reader anyOf", () => {
      const reader = { anyOf: [{ type: "string" }, { type: "null" }] };
      expect(kinds(reader, { type: ["null", "string"] })).toEqual([]);
      expect(kinds(reader, { type: ["null", "string", "boolean"] })).toEqual(["union-narrowed /anyOf"]);
    });

    it("reports the findings of the one branch of the writer's type", () => {
      const reader = { anyOf: [{ type: "string", maxLength: 5 }, { type: "null" }] };
      expect(kinds(reader, { type: "string" })).toEqual(["string-length-narrowed /anyOf/0"]);
    });

    it("reports a writer value that matches two branches of a reader oneOf", () => {
      const reader = { oneOf: [{ type: "string" }, { type: "string", maxLength: 10 }] };
      expect(kinds(reader, { type: "string", maxLength: 3 })).toEqual(["one-of-ambiguous /oneOf"]);
    });

    it("reports a oneOf whose branches may overlap as unsupported", () => {
      const reader = {
        oneOf: [
          { type: "object", required: ["a"] },
          { type: "object", required: ["b"] },
        ],
      };
      expect(kinds(reader, { type: "object", required: ["a"] })).toEqual(["unsupported-change /oneOf"]);
    });
  });

  describe("intersections and negations", () => {
    it("reads a writer allOf as the intersection of its branches", () => {
      const writer = {
        allOf: [{ type: "object", properties: { a: { type: "string" } } }, { required: ["a"] }],
      };
      const reader = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
      expect(kinds(reader, writer)).toEqual([]);
      expect(kinds({ ...reader, required: ["a", "b"] }, writer)).toEqual([
        "required-property-added /properties/b",
      ]);
    });

    it("needs every branch of a reader allOf to accept the writer", () => {
      const reader = { allOf: [{ type: "string" }, { maxLength: 5 }] };
      expect(kinds(reader, { type: "string", maxLength: 5 })).toEqual([]);
      expect(kinds(reader, { type: "string" })).toEqual(["string-length-narrowed /allOf/1"]);
    });

    it("accepts a not that is identical or provably disjoint from the writer, and no other", () => {
      expect(kinds({ not: { type: "null" } }, { not: { type: "null" } })).toEqual([]);
      expect(kinds({ not: { type: "null" } }, { type: "string" })).toEqual([]);
      expect(kinds({ not: { const: "x" } }, { type: "string" })).toEqual(["unsupported-change /not"]);
    });

    it("reports a keyword it does not model as unsupported unless the writer has the same", () => {
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keywords, never awaited
      const conditional = { if: { required: ["a"] }, then: { required: ["b"] } };
      expect(kinds({ type: "object", ...conditional }, { type: "object", ...conditional })).toEqual([]);
      expect(kinds({ type: "object", ...conditional }, { type: "object" })).toEqual([
        "unsupported-change /if",
      ]);
      expect(kinds({ type: "object", propertyNames: { maxLength: 3 } }, { type: "string" })).toEqual([
        "type-narrowed ",
      ]);
    });
  });

  describe("boolean schemas", () => {
    it("treats true and {} as accepting everything and false as accepting nothing", () => {
      expect(kinds(true, { type: "string" })).toEqual([]);
      expect(kinds({}, true)).toEqual([]);
      expect(kinds({ type: "string" }, false)).toEqual([]);
      expect(kinds(false, false)).toEqual([]);
      expect(kinds(false, { type: "string" })).toEqual(["type-narrowed "]);
      expect(kinds({ type: "string" }, {})).toEqual(["type-narrowed "]);
    });

    it("lets a property set to false in the writer disappear from a closed reader", () => {
      const reader = { type: "object", properties: { a: { type: "string" } }, additionalProperties: false };
      const writer = { ...reader, properties: { a: { type: "string" }, b: false } };
      expect(kinds(reader, writer)).toEqual([]);
    });
  });

  describe("tuples", () => {
    const draft2020 = "https://json-schema.org/draft/2020-12/schema";

    it("reads a draft-07 items array as the 2020-12 prefixItems", () => {
      const draft7Tuple = {
        type: "array",
        items: [{ type: "string" }, { type: "integer" }],
        additionalItems: false,
      };
      const draft2020Tuple = {
        $schema: draft2020,
        type: "array",
        prefixItems: [{ type: "string" }, { type: "integer" }],
        items: false,
      };
      expect(kinds(draft2020Tuple, draft7Tuple)).toEqual([]);
      expect(kinds(draft7Tuple, draft2020Tuple)).toEqual([]);
    });

    it("ignores prefixItems outside draft 2020-12, as the registry's validator does", () => {
      // Given a writer without $schema (draft 7), where prefixItems is not a keyword
      const writer = { type: "array", prefixItems: [{ type: "string" }] };

      // When a 2020-12 reader enforces the same prefixItems
      const reader = { ...writer, $schema: draft2020 };

      // Then the writer's arrays may hold anything first, and only the 2020-12 reader minds
      expect(kinds(reader, writer)).toEqual(["item-added-to-open-tuple /prefixItems/0"]);
      expect(kinds(writer, reader)).toEqual([]);
    });

    it("compares tuple positions one by one", () => {
      const writer = {
        $schema: draft2020,
        type: "array",
        prefixItems: [{ type: "string" }, { type: "number" }],
        items: false,
      };
      const reader = { ...writer, prefixItems: [{ type: "string" }, { type: "integer" }] };
      expect(kinds(reader, writer)).toEqual(["type-narrowed /prefixItems/1"]);
    });

    it("rejects a writer tuple longer than a closed reader tuple", () => {
      const writer = { type: "array", items: { type: "number" } };
      const reader = { $schema: draft2020, type: "array", prefixItems: [{ type: "number" }], items: false };
      expect(kinds(reader, writer)).toEqual(["item-removed-from-closed-tuple /items"]);
      expect(kinds(reader, { ...writer, maxItems: 1 })).toEqual([]);
    });
  });

  describe("values", () => {
    it("checks a writer enum value by value against any reader", () => {
      const writer = { enum: ["a1", "b2", "c3"] };
      expect(kinds({ type: "string", pattern: "^[a-c]" }, writer)).toEqual([]);
      const [finding] = findIncompatibilities({ type: "string", pattern: "^[ab]" }, writer);
      expect(finding).toMatchObject({ kind: "pattern-narrowed", path: "" });
      expect(finding?.message).toContain('"c3"');
    });

    it("knows that a writer's boolean or short integer range takes few values", () => {
      expect(kinds({ enum: [true, false] }, { type: "boolean" })).toEqual([]);
      expect(kinds({ enum: [1, 2, 3] }, { type: "integer", minimum: 1, maximum: 3 })).toEqual([]);
      expect(kinds({ enum: [1, 2] }, { type: "integer", minimum: 1, maximum: 3 })).toEqual([
        "enum-narrowed ",
      ]);
    });
  });

  describe("objects", () => {
    it("ignores required for a writer that admits no objects", () => {
      expect(kinds({ required: ["a"] }, { type: "string" })).toEqual([]);
    });

    it("knows a closed writer with minProperties always holds its only property", () => {
      const writer = {
        type: "object",
        properties: { a: { type: "string" } },
        additionalProperties: false,
        minProperties: 1,
      };
      expect(kinds({ type: "object", required: ["a"] }, writer)).toEqual([]);
      expect(kinds({ type: "object", required: ["a"] }, { ...writer, minProperties: 0 })).toEqual([
        "required-property-added /properties/a",
      ]);
    });

    it("checks a property the reader declares against the writer's partially open model", () => {
      const writer = { type: "object", additionalProperties: { type: "string" } };
      expect(kinds({ type: "object", properties: { a: { type: "string" } } }, writer)).toEqual([]);
      expect(kinds({ type: "object", properties: { a: { type: "integer" } } }, writer)).toEqual([
        "type-narrowed /properties/a",
      ]);
    });
  });
});

describe("limits", () => {
  const kinds = (reader: JsonSchema, writer: JsonSchema) =>
    findIncompatibilities(reader, writer).map(({ kind, path }) => `${kind} ${path}`);

  it("gives up on schemas too large to compare with one unsupported change at the root", () => {
    // Given a writer and a wider reader with many properties each
    const object = (count: number, property: JsonSchema) => ({
      type: "object",
      properties: Object.fromEntries(
        Array.from({ length: count }, (_, index) => [`field${index}`, property]),
      ),
    });
    const nullable = { type: ["string", "null"] };

    // When they are compared, Then a hundred properties pass and 25,000 are too many
    expect(kinds(object(100, nullable), object(100, { type: "string" }))).toEqual([]);
    expect(kinds(object(25_000, nullable), object(25_000, { type: "string" }))).toEqual([
      "unsupported-change ",
    ]);
  });
});

describe("soundness against a validator", () => {
  /** mulberry32: a small seeded generator, so every run draws the same schemas. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const next = random(20_240_601);
  const chance = (probability: number) => next() < probability;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const scalars = [
    null,
    true,
    false,
    0,
    1,
    -1,
    2,
    2.5,
    3,
    10,
    100,
    0.1,
    "",
    "a",
    "ab",
    "abc",
    "abcdef",
    "x-1",
  ];
  const types = ["null", "boolean", "object", "array", "number", "integer", "string"];

  function value(depth = 0): unknown {
    const roll = next();
    if (depth > 2 || roll < 0.5) return pick(scalars);
    if (roll < 0.75) {
      return Object.fromEntries(
        ["a", "b", "c", "x-d"].filter(() => chance(0.4)).map((key) => [key, value(depth + 1)]),
      );
    }
    return Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1));
  }

  function schema(depth = 0): unknown {
    if (chance(0.08)) return pick([true, false, {}]);
    if (depth > 0 && chance(0.06)) return { $ref: "#/$defs/shared" };
    const result: Schema = {};
    const maybe = (key: string, probability: number, make: () => unknown) => {
      if (chance(probability)) result[key] = make();
    };
    maybe("type", 0.6, () => (chance(0.7) ? pick(types) : [...new Set([pick(types), pick(types)])]));
    maybe("enum", 0.1, () => [pick(scalars), pick(scalars), pick(scalars)]);
    maybe("const", 0.05, () => pick(scalars));
    maybe("minimum", 0.15, () => pick([0, 1, 2, -1, 0.5]));
    maybe("maximum", 0.15, () => pick([0, 1, 2, 3, 10, 2.5]));
    maybe("exclusiveMinimum", 0.08, () => pick([0, 1, 0.5]));
    maybe("exclusiveMaximum", 0.08, () => pick([3, 10, 2.5]));
    maybe("multipleOf", 0.08, () => pick([1, 2, 0.5]));
    maybe("minLength", 0.1, () => pick([0, 1, 2]));
    maybe("maxLength", 0.1, () => pick([1, 2, 3]));
    maybe("pattern", 0.08, () => pick(["^a", "b", "^x-"]));
    if (depth < 3) {
      maybe("properties", 0.35, () =>
        Object.fromEntries(["a", "b", "c"].filter(() => chance(0.5)).map((key) => [key, schema(depth + 1)])),
      );
      maybe("required", 0.2, () => ["a", "b", "c"].filter(() => chance(0.4)));
      maybe("additionalProperties", 0.25, () => (chance(0.5) ? chance(0.5) : schema(depth + 1)));
      maybe("patternProperties", 0.1, () => ({ "^x-": schema(depth + 1) }));
      maybe("minProperties", 0.08, () => pick([0, 1, 2]));
      maybe("maxProperties", 0.08, () => pick([0, 1, 2]));
      maybe("items", 0.2, () => schema(depth + 1));
      maybe("prefixItems", 0.1, () => [schema(depth + 1), schema(depth + 1)].slice(0, pick([1, 2])));
      maybe("minItems", 0.08, () => pick([0, 1, 2]));
      maybe("maxItems", 0.08, () => pick([0, 1, 2]));
      maybe("uniqueItems", 0.08, () => true);
      for (const key of ["anyOf", "oneOf", "allOf"])
        maybe(key, 0.08, () => [schema(depth + 1), schema(depth + 1)]);
      maybe("not", 0.05, () => schema(depth + 1));
    }
    return result;
  }

  /** A variation of a schema: keywords dropped, added or changed at every level. */
  function mutate(original: unknown, depth = 0): unknown {
    if (typeof original !== "object" || original === null || chance(0.15))
      return chance(0.5) ? schema(depth) : original;
    const result: Schema = { ...(original as Schema) };
    const keys = Object.keys(result);
    if (keys.length > 0 && chance(0.4)) delete result[pick(keys)];
    const extra = schema(depth);
    if (typeof extra === "object" && extra !== null && chance(0.4)) {
      const key = pick(Object.keys(extra));
      if (key !== undefined) result[key] = (extra as Schema)[key];
    }
    if (typeof result.properties === "object" && result.properties !== null) {
      result.properties = Object.fromEntries(
        Object.entries(result.properties).map(([key, child]) => [
          key,
          chance(0.5) ? mutate(child, depth + 1) : child,
        ]),
      );
    }
    for (const key of ["items", "additionalProperties", "not"]) {
      if (result[key] !== undefined && chance(0.5)) result[key] = mutate(result[key], depth + 1);
    }
    for (const key of ["anyOf", "oneOf", "allOf", "prefixItems"]) {
      const list = result[key];
      if (Array.isArray(list) && chance(0.5)) result[key] = list.map((child) => mutate(child, depth + 1));
    }
    return result;
  }

  /** A document root: Ajv2020 validates, so the checker must read the schemas as 2020-12 too. */
  const withShared = (root: unknown, shared: unknown): JsonSchema =>
    (typeof root === "object" && root !== null
      ? { ...root, $schema: "https://json-schema.org/draft/2020-12/schema", $defs: { shared } }
      : root) as JsonSchema;

  it("never calls two schemas compatible when a value tells them apart", () => {
    // Given random writers, readers that are mostly variations of them, and random values
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const values = Array.from({ length: 1500 }, () => value());
    const counterexamples: unknown[] = [];
    let compatible = 0;
    for (let round = 0; round < 300; round++) {
      const shared = schema(1);
      const writer = withShared(schema(), shared);
      const reader = chance(0.7)
        ? withShared(mutate(writer), chance(0.5) ? shared : mutate(shared))
        : withShared(schema(), schema(1));

      // When the checker finds nothing and the two are not the same text
      if (
        findIncompatibilities(reader, writer).length > 0 ||
        JSON.stringify(reader) === JSON.stringify(writer)
      ) {
        continue;
      }
      compatible++;

      // Then no value is valid under the writer but invalid under the reader
      const validates = (target: JsonSchema) => {
        const validate = ajv.compile(target);
        return (item: unknown) => {
          try {
            return validate(item);
          } catch {
            return undefined; // Ajv gives up on some self-referential schemas; they prove nothing.
          }
        };
      };
      let writerAccepts: (item: unknown) => boolean | undefined;
      let readerAccepts: (item: unknown) => boolean | undefined;
      try {
        writerAccepts = validates(writer);
        readerAccepts = validates(reader);
      } catch {
        continue; // A schema Ajv refuses to compile (a dangling $ref after a mutation).
      }
      const counterexample = values.find(
        (item) => writerAccepts(item) === true && readerAccepts(item) === false,
      );
      if (counterexample !== undefined) counterexamples.push({ reader, writer, counterexample });
    }
    expect(compatible).toBeGreaterThan(100);
    expect(counterexamples).toEqual([]);
  });
});

describe("documentation", () => {
  const docs = readFileSync(new URL("../../../../docs/schema-compatibility.md", import.meta.url), "utf8");

  it("lists every kind of incompatibility under both names", () => {
    for (const [backward, forward] of Object.entries(incompatibilityKinds)) {
      expect(docs).toContain(`\`${backward}\``);
      expect(docs).toContain(`\`${forward}\``);
    }
  });
});
