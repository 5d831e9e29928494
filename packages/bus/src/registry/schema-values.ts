import {
  childNode,
  isSchemaObject,
  jsonEqual,
  lookupReference,
  prefixItemsApply,
  propertyLabel,
  resolveNode,
  type SchemaNode,
  type SchemaObject,
  unmodelledKeywordGroups,
} from "./schema-document.js";
import {
  integralLowerBound,
  integralUpperBound,
  isMultipleOf,
  lowerBound,
  upperBound,
} from "./schema-number-bounds.js";
import { acceptsOnlyIntegers, typeOfValue, typeSet, valueHasType } from "./schema-types.js";

/**
 * What a schema makes of one value: accepted, rejected (with the keyword and the location of the
 * schema that rejects it), or undecided when a keyword the checker cannot evaluate (a `format`, an
 * `if`, a reference to another document) would settle it.
 */
export type ValueVerdict =
  | { outcome: "accepted" }
  | { outcome: "rejected" | "undecided"; keyword: string; path: string; label: string };

const accepted: ValueVerdict = { outcome: "accepted" };

function verdict(outcome: "rejected" | "undecided", keyword: string, node: SchemaNode): ValueVerdict {
  return { outcome, keyword, path: node.path, label: node.label };
}

/** Runs a list of checks in order: the first rejection wins, else the first undecided, else accepted. */
function all(checks: Iterable<() => ValueVerdict>): ValueVerdict {
  let undecided: ValueVerdict | undefined;
  for (const run of checks) {
    const result = run();
    if (result.outcome === "rejected") return result;
    if (result.outcome === "undecided") undecided ??= result;
  }
  return undecided ?? accepted;
}

/** Schema visits one validation may make; a schema that refers to itself without consuming input would loop. */
const maxVisits = 10_000;

/**
 * Validates one JSON value against a schema, for the keywords the checker models. Undecided when
 * the schema nests too deep or takes too many steps (a `$ref` loop that never consumes input).
 */
export function checkValue(node: SchemaNode, value: unknown): ValueVerdict {
  return check(node, value, 0, { remaining: maxVisits });
}

interface Budget {
  remaining: number;
}

function check(node: SchemaNode, value: unknown, depth: number, budget: Budget): ValueVerdict {
  const resolved = resolveNode(node);
  const schema = resolved.schema;
  if (schema === true) return accepted;
  if (schema === false) return verdict("rejected", "false", resolved);
  if (!isSchemaObject(schema) || depth > 64 || --budget.remaining < 0)
    return verdict("undecided", "schema", resolved);
  const type = typeOfValue(value);
  return all([
    () => checkReference(resolved, schema, value, depth, budget),
    () => checkUnmodelled(resolved, schema, type),
    () => checkGeneric(resolved, schema, value),
    () => (type === "string" ? checkString(resolved, schema, value as string) : accepted),
    () =>
      type === "number" || type === "integer" ? checkNumber(resolved, schema, value as number) : accepted,
    () =>
      type === "object" ? checkObject(resolved, schema, value as SchemaObject, depth, budget) : accepted,
    () => (type === "array" ? checkArray(resolved, schema, value as unknown[], depth, budget) : accepted),
    () => checkCombinators(resolved, schema, value, depth, budget),
  ]);
}

function checkReference(
  node: SchemaNode,
  schema: SchemaObject,
  value: unknown,
  depth: number,
  budget: Budget,
): ValueVerdict {
  if (typeof schema.$ref !== "string") return accepted;
  const target = lookupReference(node.root, schema.$ref);
  if (!target) return verdict("undecided", "$ref", node);
  return check({ ...node, schema: target.schema, path: target.path }, value, depth + 1, budget);
}

function checkUnmodelled(node: SchemaNode, schema: SchemaObject, type: string | undefined): ValueVerdict {
  for (const group of unmodelledKeywordGroups) {
    const keyword = group.keywords.find((key) => schema[key] !== undefined);
    if (keyword && (!group.appliesTo || group.appliesTo === type)) return verdict("undecided", keyword, node);
  }
  return accepted;
}

function checkGeneric(node: SchemaNode, schema: SchemaObject, value: unknown): ValueVerdict {
  if (schema.type !== undefined && ![...typeSet(schema)].some((type) => valueHasType(value, type))) {
    return verdict("rejected", "type", node);
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((item) => jsonEqual(item, value))) {
    return verdict("rejected", "enum", node);
  }
  if (schema.const !== undefined && !jsonEqual(schema.const, value))
    return verdict("rejected", "const", node);
  return accepted;
}

function checkString(node: SchemaNode, schema: SchemaObject, value: string): ValueVerdict {
  const length = [...value].length;
  if (typeof schema.minLength === "number" && length < schema.minLength)
    return verdict("rejected", "minLength", node);
  if (typeof schema.maxLength === "number" && length > schema.maxLength)
    return verdict("rejected", "maxLength", node);
  if (typeof schema.pattern === "string") {
    let pattern: RegExp;
    try {
      pattern = new RegExp(schema.pattern, "u");
    } catch {
      return verdict("undecided", "pattern", node);
    }
    if (!pattern.test(value)) return verdict("rejected", "pattern", node);
  }
  if (schema.format !== undefined) return verdict("undecided", "format", node);
  return accepted;
}

function checkNumber(node: SchemaNode, schema: SchemaObject, value: number): ValueVerdict {
  const lower = lowerBound(schema);
  if (lower && (value < lower.value || (lower.exclusive && value === lower.value))) {
    return verdict("rejected", "minimum", node);
  }
  const upper = upperBound(schema);
  if (upper && (value > upper.value || (upper.exclusive && value === upper.value))) {
    return verdict("rejected", "maximum", node);
  }
  if (typeof schema.multipleOf === "number" && !isMultipleOf(value, schema.multipleOf)) {
    return verdict("rejected", "multipleOf", node);
  }
  return accepted;
}

function checkObject(
  node: SchemaNode,
  schema: SchemaObject,
  value: SchemaObject,
  depth: number,
  budget: Budget,
): ValueVerdict {
  const names = Object.keys(value);
  if (Array.isArray(schema.required) && schema.required.some((name) => !Object.hasOwn(value, name))) {
    return verdict("rejected", "required", node);
  }
  if (typeof schema.minProperties === "number" && names.length < schema.minProperties) {
    return verdict("rejected", "minProperties", node);
  }
  if (typeof schema.maxProperties === "number" && names.length > schema.maxProperties) {
    return verdict("rejected", "maxProperties", node);
  }
  const properties = isSchemaObject(schema.properties) ? schema.properties : {};
  const patterns = isSchemaObject(schema.patternProperties) ? Object.keys(schema.patternProperties) : [];
  return all(
    names.map((name) => () => {
      const label = propertyLabel(node.label, name);
      const checks: Array<() => ValueVerdict> = [];
      if (Object.hasOwn(properties, name)) {
        checks.push(() => check(childNode(node, label, "properties", name), value[name], depth + 1, budget));
      }
      let matched = false;
      for (const pattern of patterns) {
        let expression: RegExp;
        try {
          expression = new RegExp(pattern, "u");
        } catch {
          return verdict("undecided", "patternProperties", node);
        }
        if (!expression.test(name)) continue;
        matched = true;
        checks.push(() =>
          check(childNode(node, label, "patternProperties", pattern), value[name], depth + 1, budget),
        );
      }
      if (!Object.hasOwn(properties, name) && !matched && schema.additionalProperties !== undefined) {
        if (schema.additionalProperties === false) return verdict("rejected", "additionalProperties", node);
        checks.push(() =>
          check(childNode(node, label, "additionalProperties"), value[name], depth + 1, budget),
        );
      }
      return all(checks);
    }),
  );
}

function checkArray(
  node: SchemaNode,
  schema: SchemaObject,
  value: unknown[],
  depth: number,
  budget: Budget,
): ValueVerdict {
  if (typeof schema.minItems === "number" && value.length < schema.minItems)
    return verdict("rejected", "minItems", node);
  if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
    return verdict("rejected", "maxItems", node);
  if (
    schema.uniqueItems === true &&
    value.some((item, index) => value.slice(0, index).some((x) => jsonEqual(x, item)))
  ) {
    return verdict("rejected", "uniqueItems", node);
  }
  const layout = arrayLayout(schema, node.root);
  return all(
    value.map((item, index) => () => {
      const label = `${node.label}[${index}]`;
      const position = index < layout.prefix.length ? [layout.prefixKey, index] : [layout.tailKey];
      if (index >= layout.prefix.length && schema[layout.tailKey] === undefined) return accepted;
      const child = childNode(node, label, ...position);
      if (child.schema === false) return verdict("rejected", String(position[0]), node);
      return check(child, item, depth + 1, budget);
    }),
  );
}

function checkCombinators(
  node: SchemaNode,
  schema: SchemaObject,
  value: unknown,
  depth: number,
  budget: Budget,
): ValueVerdict {
  const results = (key: string) =>
    (Array.isArray(schema[key]) ? schema[key] : []).map((_, index) =>
      check(childNode(node, node.label, key, index), value, depth + 1, budget),
    );
  return all([
    () => all(results("allOf").map((result) => () => result)),
    () => {
      if (!Array.isArray(schema.anyOf)) return accepted;
      const branches = results("anyOf");
      if (branches.some((result) => result.outcome === "accepted")) return accepted;
      const open = branches.some((result) => result.outcome === "undecided");
      return verdict(open ? "undecided" : "rejected", "anyOf", node);
    },
    () => {
      if (!Array.isArray(schema.oneOf)) return accepted;
      const branches = results("oneOf");
      const matches = branches.filter((result) => result.outcome === "accepted").length;
      if (branches.some((result) => result.outcome === "undecided")) {
        return matches > 1 ? verdict("rejected", "oneOf", node) : verdict("undecided", "oneOf", node);
      }
      return matches === 1 ? accepted : verdict("rejected", "oneOf", node);
    },
    () => {
      if (schema.not === undefined) return accepted;
      const inner = check(childNode(node, node.label, "not"), value, depth + 1, budget);
      if (inner.outcome === "undecided") return verdict("undecided", "not", node);
      return inner.outcome === "accepted" ? verdict("rejected", "not", node) : accepted;
    },
  ]);
}

/**
 * Where an array schema keeps its tuple positions (`prefixItems` in 2020-12, an `items` array
 * before) and which keyword holds the schema of the items after them (`items` or `additionalItems`).
 */
export function arrayLayout(
  schema: SchemaObject,
  root: unknown,
): {
  prefix: unknown[];
  prefixKey: "prefixItems" | "items";
  tailKey: "items" | "additionalItems";
} {
  if (Array.isArray(schema.prefixItems) && prefixItemsApply(root)) {
    return { prefix: schema.prefixItems, prefixKey: "prefixItems", tailKey: "items" };
  }
  if (Array.isArray(schema.items))
    return { prefix: schema.items, prefixKey: "items", tailKey: "additionalItems" };
  return { prefix: [], prefixKey: prefixItemsApply(root) ? "prefixItems" : "items", tailKey: "items" };
}

const maxEnumeratedIntegers = 64;

/**
 * The values a writer schema accepts, when it accepts few enough to list: its `enum` or `const`,
 * `null` and booleans, or a short range of integers. Values the writer itself rejects are left out,
 * values it may accept are kept. Undefined when the set is infinite or too large.
 */
export function finiteValues(node: SchemaNode, enumerateIntegers: boolean): unknown[] | undefined {
  const schema = node.schema;
  if (!isSchemaObject(schema)) return undefined;
  let candidates: unknown[] | undefined;
  if (schema.const !== undefined) candidates = [schema.const];
  else if (Array.isArray(schema.enum)) candidates = schema.enum;
  else {
    const types = typeSet(schema);
    if ([...types].every((type) => type === "null" || type === "boolean")) {
      candidates = [...(types.has("null") ? [null] : []), ...(types.has("boolean") ? [false, true] : [])];
    } else if (
      enumerateIntegers &&
      types.size === 1 &&
      (types.has("integer") || types.has("number")) &&
      acceptsOnlyIntegers(schema)
    ) {
      candidates = integersIn(schema);
    }
  }
  return candidates?.filter((value) => checkValue(node, value).outcome !== "rejected");
}

function integersIn(schema: SchemaObject): number[] | undefined {
  const lower = lowerBound(schema);
  const upper = upperBound(schema);
  if (!lower || !upper) return undefined;
  const from = integralLowerBound(lower).value;
  const to = integralUpperBound(upper).value;
  if (to - from >= maxEnumeratedIntegers) return undefined;
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}
