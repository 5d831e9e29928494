import {
  acceptsEverything,
  childNode,
  constraintKeys,
  isSchemaObject,
  jsonEqual,
  lookupReference,
  prefixItemsApply,
  resolveNode,
  type SchemaNode,
} from "./schema-document.js";

const schemaKeywords = new Set([
  "additionalProperties",
  "additionalItems",
  "not",
  "contains",
  "propertyNames",
  "if",
  "then",
  "else",
  "unevaluatedProperties",
  "unevaluatedItems",
]);
const schemaListKeywords = new Set(["allOf", "anyOf", "oneOf", "prefixItems"]);
const schemaMapKeywords = new Set(["properties", "patternProperties", "dependentSchemas"]);
const setKeywords = new Set(["type", "required", "enum"]);

/** Pairs under comparison or compared already, so that recursive schemas terminate. */
export type EqualityMemo = Map<unknown, Map<unknown, boolean>>;

/**
 * Whether two schemas, each in its own document, accept exactly the same values by their structure:
 * annotations are ignored, local `$ref`s are followed, `type`, `required` and `enum` compare as
 * sets. A pair met again while it is being compared counts as equal (the recursion is co-inductive).
 * False does not mean the schemas differ in meaning, only that they differ in form.
 */
export function schemasEqual(left: SchemaNode, right: SchemaNode, memo: EqualityMemo = new Map()): boolean {
  const a = resolveNode(left);
  const b = resolveNode(right);
  if (acceptsEverything(a.schema) && acceptsEverything(b.schema)) return true;
  if (!isSchemaObject(a.schema) || !isSchemaObject(b.schema)) return jsonEqual(a.schema, b.schema);
  const known = memo.get(a.schema)?.get(b.schema);
  if (known !== undefined) return known;
  let row = memo.get(a.schema);
  if (!row) {
    row = new Map();
    memo.set(a.schema, row);
  }
  row.set(b.schema, true);
  const keys = constraintKeys(a.schema);
  const equal =
    keys.length === constraintKeys(b.schema).length &&
    keys.every((key) => key in (b.schema as object) && keywordsEqual(key, a, b, memo));
  row.set(b.schema, equal);
  return equal;
}

function keywordsEqual(key: string, a: SchemaNode, b: SchemaNode, memo: EqualityMemo): boolean {
  const left = (a.schema as Record<string, unknown>)[key];
  const right = (b.schema as Record<string, unknown>)[key];
  if (key === "$ref") {
    const leftTarget = typeof left === "string" ? lookupReference(a.root, left) : undefined;
    const rightTarget = typeof right === "string" ? lookupReference(b.root, right) : undefined;
    if (!leftTarget || !rightTarget) return !leftTarget && !rightTarget && left === right;
    return schemasEqual(
      { ...a, schema: leftTarget.schema, path: leftTarget.path },
      { ...b, schema: rightTarget.schema, path: rightTarget.path },
      memo,
    );
  }
  if (schemaKeywords.has(key))
    return schemasEqual(childNode(a, a.label, key), childNode(b, b.label, key), memo);
  // The same prefixItems mean nothing alike in a 2020-12 document and in an earlier one.
  if (key === "prefixItems" && prefixItemsApply(a.root) !== prefixItemsApply(b.root)) return false;
  if (schemaListKeywords.has(key) || (key === "items" && Array.isArray(left))) {
    return (
      Array.isArray(left) &&
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((_, index) =>
        schemasEqual(childNode(a, a.label, key, index), childNode(b, b.label, key, index), memo),
      )
    );
  }
  if (key === "items")
    return (
      !Array.isArray(right) && schemasEqual(childNode(a, a.label, key), childNode(b, b.label, key), memo)
    );
  if (schemaMapKeywords.has(key) || key === "dependencies") {
    if (!isSchemaObject(left) || !isSchemaObject(right)) return jsonEqual(left, right);
    const names = Object.keys(left);
    return (
      names.length === Object.keys(right).length &&
      names.every((name) => {
        if (!Object.hasOwn(right, name)) return false;
        if (Array.isArray(left[name])) return jsonEqual(left[name], right[name]);
        return schemasEqual(childNode(a, a.label, key, name), childNode(b, b.label, key, name), memo);
      })
    );
  }
  if (setKeywords.has(key)) return sameMembers(left, right);
  return jsonEqual(left, right);
}

function sameMembers(left: unknown, right: unknown): boolean {
  const leftItems = Array.isArray(left) ? left : [left];
  const rightItems = Array.isArray(right) ? right : [right];
  return (
    leftItems.every((item) => rightItems.some((other) => jsonEqual(item, other))) &&
    rightItems.every((item) => leftItems.some((other) => jsonEqual(item, other)))
  );
}
