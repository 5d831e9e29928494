/** A JSON Schema: `true` accepts every value, `false` none, an object constrains values by its keywords. */
export type { JsonSchema } from "@tributary/protocol";

export type SchemaObject = Record<string, unknown>;

/**
 * A sub-schema together with the document it came from (local `$ref`s resolve against `root`),
 * the JSON pointer where it sits in that document, and a field label for messages
 * (`address.zip`, `tags[]`, `point[1]`; empty for the document's root value).
 */
export interface SchemaNode {
  schema: unknown;
  root: unknown;
  path: string;
  label: string;
}

/** Keywords the checker compares keyword by keyword. */
export const modelledKeywords = new Set([
  "type",
  "enum",
  "const",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "properties",
  "required",
  "additionalProperties",
  "patternProperties",
  "minProperties",
  "maxProperties",
  "items",
  "prefixItems",
  "additionalItems",
  "minItems",
  "maxItems",
  "uniqueItems",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
  "$ref",
]);

/**
 * Assertions of JSON Schema that the checker does not reason about. A reader using one is accepted
 * only when the writer carries the same keywords with equal values; a writer's are ignored, which
 * only lets the writer accept more and so keeps the verdict sound. `appliesTo` names the only
 * instance type the keywords constrain.
 */
export const unmodelledKeywordGroups: ReadonlyArray<{ keywords: string[]; appliesTo?: string }> = [
  { keywords: ["if", "then", "else"] },
  { keywords: ["contains", "minContains", "maxContains"], appliesTo: "array" },
  { keywords: ["unevaluatedItems"], appliesTo: "array" },
  { keywords: ["propertyNames"], appliesTo: "object" },
  { keywords: ["dependentRequired"], appliesTo: "object" },
  { keywords: ["dependentSchemas"], appliesTo: "object" },
  { keywords: ["dependencies"], appliesTo: "object" },
  { keywords: ["unevaluatedProperties"], appliesTo: "object" },
  { keywords: ["$dynamicRef"] },
  { keywords: ["$recursiveRef"] },
];

const unmodelledKeywords = new Set(unmodelledKeywordGroups.flatMap((group) => group.keywords));

/**
 * Whether a key constrains values. Everything else (`title`, `description`, `default`, `examples`,
 * `$comment`, `$schema`, `$id`, `$defs`, `deprecated`, `readOnly`, `writeOnly`, `content*`, vendor
 * extensions) is an annotation or a container and never changes which values a schema accepts.
 */
export function isConstraintKeyword(key: string): boolean {
  return modelledKeywords.has(key) || unmodelledKeywords.has(key);
}

export function isSchemaObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function constraintKeys(schema: SchemaObject): string[] {
  return Object.keys(schema).filter(isConstraintKeyword);
}

/** Whether a schema accepts every value: `true`, or an object with no constraint keyword. */
export function acceptsEverything(schema: unknown): boolean {
  return schema === true || (isSchemaObject(schema) && constraintKeys(schema).length === 0);
}

export function escapePointer(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

/** The node at `schema[key]` (or `schema[key][index]`), with its pointer and the given label. */
export function childNode(node: SchemaNode, label: string, ...segments: Array<string | number>): SchemaNode {
  let value: unknown = node.schema;
  for (const segment of segments) value = (value as Record<string | number, unknown> | undefined)?.[segment];
  return {
    schema: value,
    root: node.root,
    path: node.path + segments.map((segment) => `/${escapePointer(segment)}`).join(""),
    label,
  };
}

/** A node for a schema built by the checker (a merge or a split) that stands where `origin` stands. */
export function derivedNode(origin: SchemaNode, schema: unknown): SchemaNode {
  return { schema, root: origin.root, path: origin.path, label: origin.label };
}

export function propertyLabel(parent: string, name: string): string {
  return parent === "" ? name : `${parent}.${name}`;
}

function findAnchor(
  value: unknown,
  anchor: string,
  path: string,
): { schema: unknown; path: string } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  if (!Array.isArray(value) && (value as SchemaObject).$anchor === anchor) return { schema: value, path };
  for (const [key, child] of Object.entries(value)) {
    const found = findAnchor(child, anchor, `${path}/${escapePointer(key)}`);
    if (found) return found;
  }
  return undefined;
}

/**
 * Looks up a local reference (`#`, `#/$defs/Name`, `#/definitions/Name`, `#anchor`) in `root`.
 * Returns undefined for references to other documents and pointers that lead nowhere.
 */
export function lookupReference(
  root: unknown,
  reference: string,
): { schema: unknown; path: string } | undefined {
  if (!reference.startsWith("#")) return undefined;
  let fragment: string;
  try {
    fragment = decodeURIComponent(reference.slice(1));
  } catch {
    return undefined;
  }
  if (fragment !== "" && !fragment.startsWith("/")) return findAnchor(root, fragment, "");
  let value: unknown = root;
  let path = "";
  for (const raw of fragment === "" ? [] : fragment.slice(1).split("/")) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
    path += `/${escapePointer(segment)}`;
  }
  return { schema: value, path };
}

/**
 * Whether `prefixItems` is a keyword in a document: only in draft 2020-12, named by `$schema`. A
 * document without `$schema` is draft 7, as for the registry's validator, which ignores it there.
 */
export function prefixItemsApply(root: unknown): boolean {
  return isSchemaObject(root) && typeof root.$schema === "string" && root.$schema.includes("2020-12");
}

/** Whether a schema object is a `$ref` with constraint keywords beside it (applied together since 2019-09). */
export function hasReferenceSiblings(schema: SchemaObject): boolean {
  return constraintKeys(schema).some((key) => key !== "$ref");
}

/**
 * Follows `$ref`s that stand alone until a schema that is not one. A reference with sibling
 * constraints, or one that cannot be resolved, is returned as it is for the caller to handle.
 */
export function resolveNode(node: SchemaNode): SchemaNode {
  let current = node;
  for (let hops = 0; hops < 64; hops++) {
    const schema = current.schema;
    if (!isSchemaObject(schema) || typeof schema.$ref !== "string" || hasReferenceSiblings(schema)) {
      return current;
    }
    const target = lookupReference(current.root, schema.$ref);
    if (!target) return current;
    current = { schema: target.schema, root: current.root, path: target.path, label: current.label };
  }
  return current;
}

const withoutCache = new WeakMap<object, Map<string, SchemaObject>>();

/** `schema` without the given keys; the same object for the same input, so cycles stay recognisable. */
export function withoutKeys(schema: SchemaObject, keys: readonly string[]): SchemaObject {
  const cacheKey = keys.join(",");
  let byKeys = withoutCache.get(schema);
  if (!byKeys) {
    byKeys = new Map();
    withoutCache.set(schema, byKeys);
  }
  let result = byKeys.get(cacheKey);
  if (!result) {
    result = Object.fromEntries(Object.entries(schema).filter(([key]) => !keys.includes(key)));
    byKeys.set(cacheKey, result);
  }
  return result;
}

/** Equality of JSON values (object key order does not matter). */
export function jsonEqual(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (typeof left !== "object" || typeof right !== "object" || left === null || right === null) return false;
  if (Array.isArray(left) !== Array.isArray(right)) return false;
  if (Array.isArray(left) && Array.isArray(right)) {
    return left.length === right.length && left.every((item, index) => jsonEqual(item, right[index]));
  }
  const leftKeys = Object.keys(left);
  const rightRecord = right as Record<string, unknown>;
  return (
    leftKeys.length === Object.keys(right).length &&
    leftKeys.every(
      (key) =>
        Object.hasOwn(right, key) && jsonEqual((left as Record<string, unknown>)[key], rightRecord[key]),
    )
  );
}
