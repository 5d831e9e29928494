import type { SchemaObject } from "./schema-document.js";

/** JSON instance types; `number` includes `integer`. */
export type InstanceType = "null" | "boolean" | "object" | "array" | "number" | "integer" | "string";

const everyType: readonly InstanceType[] = ["null", "boolean", "object", "array", "number", "string"];
const typeNames = new Set<string>([...everyType, "integer"]);

/**
 * The instance types a schema's `type` keyword admits (every type when it is absent), with
 * `integer` dropped when `number` is present since numbers include integers.
 */
export function typeSet(schema: SchemaObject): Set<InstanceType> {
  const declared = schema.type;
  const names =
    declared === undefined ? everyType : (Array.isArray(declared) ? declared : [declared]).filter(isTypeName);
  const types = new Set<InstanceType>(names);
  if (types.has("number")) types.delete("integer");
  return types;
}

function isTypeName(value: unknown): value is InstanceType {
  return typeof value === "string" && typeNames.has(value);
}

/** Whether a schema accepts numbers only when they are integers (by `type` or an integral `multipleOf`). */
export function acceptsOnlyIntegers(schema: SchemaObject): boolean {
  const types = typeSet(schema);
  if (types.has("integer") && !types.has("number")) return true;
  return typeof schema.multipleOf === "number" && Number.isInteger(schema.multipleOf);
}

export function admitsType(types: ReadonlySet<InstanceType>, type: InstanceType): boolean {
  return types.has(type) || (type === "integer" && types.has("number"));
}

/** Whether two type sets share any instance. */
export function typesOverlap(left: ReadonlySet<InstanceType>, right: ReadonlySet<InstanceType>): boolean {
  for (const type of left) {
    if (admitsType(right, type) || (type === "number" && right.has("integer"))) return true;
  }
  return false;
}

/** The JSON type of a value, `integer` for whole numbers. */
export function typeOfValue(value: unknown): InstanceType | undefined {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "boolean":
      return "boolean";
    case "string":
      return "string";
    case "number":
      return Number.isInteger(value) ? "integer" : "number";
    case "object":
      return "object";
    default:
      return undefined;
  }
}

export function valueHasType(value: unknown, type: InstanceType): boolean {
  const actual = typeOfValue(value);
  return actual === type || (type === "number" && actual === "integer");
}

/** `a`, `b` or `c`. */
export function listWords(words: readonly string[], conjunction = "or"): string {
  if (words.length <= 1) return words[0] ?? "";
  return `${words.slice(0, -1).join(", ")} ${conjunction} ${words[words.length - 1]}`;
}

export function describeTypes(types: Iterable<string>): string {
  return listWords([...types]);
}
