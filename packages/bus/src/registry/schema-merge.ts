import {
  acceptsEverything,
  isConstraintKeyword,
  isSchemaObject,
  jsonEqual,
  type SchemaObject,
} from "./schema-document.js";
import { lowerBound, upperBound } from "./schema-number-bounds.js";
import { typeSet } from "./schema-types.js";

const objectKeywords = ["properties", "patternProperties", "additionalProperties"];
const arrayKeywords = ["items", "prefixItems", "additionalItems"];
const conditionalKeywords = ["if", "then", "else"];
const boundKeywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
const grouped = new Set([...objectKeywords, ...arrayKeywords, ...conditionalKeywords, ...boundKeywords]);
const largestWins = new Set(["minLength", "minItems", "minProperties"]);
const smallestWins = new Set(["maxLength", "maxItems", "maxProperties"]);

/**
 * One schema that accepts every value that all `parts` accept: the intersection of an `allOf`, used
 * only on the writer's side. Every part must already be resolved and free of `allOf`. Where two
 * parts constrain the same thing in ways this merge cannot combine (two patterns, two `anyOf`s,
 * `patternProperties` on both sides), it keeps the first part's constraint and drops the other's,
 * so the result may accept more than the intersection but never less: a writer that accepts more
 * can only make the checker report more, never miss a break. Returns `false` when the parts
 * provably share no value (disjoint types, enums or consts).
 */
export function intersectSchemas(parts: readonly SchemaObject[]): SchemaObject | false {
  let result: SchemaObject = {};
  for (const part of parts) {
    const merged = intersectTwo(result, part);
    if (merged === false) return false;
    result = merged;
  }
  return result;
}

function intersectTwo(a: SchemaObject, b: SchemaObject): SchemaObject | false {
  const result: SchemaObject = {};
  const keys = new Set([...Object.keys(a), ...Object.keys(b)].filter(isConstraintKeyword));
  for (const key of keys) {
    if (grouped.has(key) || key === "allOf" || key === "$ref" || key.startsWith("unevaluated")) continue;
    const left = a[key];
    const right = b[key];
    if (left === undefined || right === undefined) {
      result[key] = left ?? right;
      continue;
    }
    const merged = mergeKeyword(key, left, right);
    if (merged === noValue) return false;
    result[key] = merged;
  }
  mergeBounds(a, b, result);
  copyGroup(conditionalKeywords, a, b, result);
  mergeObjectGroup(a, b, result);
  mergeArrayGroup(a, b, result);
  if (result.type !== undefined && Array.isArray(result.type) && result.type.length === 0) return false;
  return result;
}

/** Marks a keyword whose two values leave no value acceptable to both (disjoint enums or consts). */
const noValue = Symbol("no value");

function mergeKeyword(key: string, left: unknown, right: unknown): unknown {
  if (typeof left === "number" && typeof right === "number") {
    if (largestWins.has(key)) return Math.max(left, right);
    if (smallestWins.has(key)) return Math.min(left, right);
    if (key === "multipleOf") return right % left === 0 ? right : left;
  }
  switch (key) {
    case "type": {
      const leftTypes = typeSet({ type: left });
      const rightTypes = typeSet({ type: right });
      const shared = [...leftTypes].filter((type) => rightTypes.has(type));
      if (leftTypes.has("number") && rightTypes.has("integer")) shared.push("integer");
      if (rightTypes.has("number") && leftTypes.has("integer")) shared.push("integer");
      return shared;
    }
    case "enum": {
      const values = Array.isArray(left) ? left : [];
      const common = values.filter(
        (value) => Array.isArray(right) && right.some((other) => jsonEqual(value, other)),
      );
      return common.length === 0 ? noValue : common;
    }
    case "const":
      return jsonEqual(left, right) ? left : noValue;
    case "required":
      return [...new Set([...(Array.isArray(left) ? left : []), ...(Array.isArray(right) ? right : [])])];
    case "uniqueItems":
      return left === true || right === true;
    default:
      // Two different patterns, formats, `anyOf`s…: keep the first, accept more than the intersection.
      return left;
  }
}

function mergeBounds(a: SchemaObject, b: SchemaObject, result: SchemaObject): void {
  const lowers = [lowerBound(a), lowerBound(b)].filter((bound) => bound !== undefined);
  const uppers = [upperBound(a), upperBound(b)].filter((bound) => bound !== undefined);
  const lower = lowers.sort((x, y) => y.value - x.value || Number(y.exclusive) - Number(x.exclusive))[0];
  const upper = uppers.sort((x, y) => x.value - y.value || Number(y.exclusive) - Number(x.exclusive))[0];
  if (lower) result[lower.exclusive ? "exclusiveMinimum" : "minimum"] = lower.value;
  if (upper) result[upper.exclusive ? "exclusiveMaximum" : "maximum"] = upper.value;
}

function hasAny(schema: SchemaObject, keys: readonly string[]): boolean {
  return keys.some((key) => schema[key] !== undefined);
}

/** Copies a group of keywords that only make sense together from one side (the first that has it). */
function copyGroup(keys: readonly string[], a: SchemaObject, b: SchemaObject, result: SchemaObject): void {
  const source = hasAny(a, keys) ? a : b;
  for (const key of keys) if (source[key] !== undefined) result[key] = source[key];
}

function both(left: unknown, right: unknown): unknown {
  if (left === false || right === false) return false;
  if (acceptsEverything(left)) return right;
  if (acceptsEverything(right)) return left;
  return { allOf: [left, right] };
}

function mergeObjectGroup(a: SchemaObject, b: SchemaObject, result: SchemaObject): void {
  if (!hasAny(a, objectKeywords) || !hasAny(b, objectKeywords) || hasAny(a, ["patternProperties"])) {
    copyGroup(objectKeywords, a, b, result);
    return;
  }
  if (hasAny(b, ["patternProperties"])) {
    copyGroup(objectKeywords, a, {}, result);
    return;
  }
  const leftProperties = isSchemaObject(a.properties) ? a.properties : {};
  const rightProperties = isSchemaObject(b.properties) ? b.properties : {};
  const properties: SchemaObject = {};
  for (const name of new Set([...Object.keys(leftProperties), ...Object.keys(rightProperties)])) {
    properties[name] = both(
      leftProperties[name] ?? a.additionalProperties ?? true,
      rightProperties[name] ?? b.additionalProperties ?? true,
    );
  }
  if (Object.keys(properties).length > 0) result.properties = properties;
  const additional = both(a.additionalProperties ?? true, b.additionalProperties ?? true);
  if (additional !== true) result.additionalProperties = additional;
}

function isTuple(schema: SchemaObject): boolean {
  return Array.isArray(schema.prefixItems) || Array.isArray(schema.items);
}

function mergeArrayGroup(a: SchemaObject, b: SchemaObject, result: SchemaObject): void {
  if (!hasAny(a, arrayKeywords) || !hasAny(b, arrayKeywords) || isTuple(a) || isTuple(b)) {
    copyGroup(arrayKeywords, a, b, result);
    return;
  }
  const items = both(a.items ?? true, b.items ?? true);
  if (items !== true) result.items = items;
}
