import {
  acceptsEverything,
  childNode,
  escapePointer,
  isSchemaObject,
  propertyLabel,
  resolveNode,
  type SchemaNode,
  type SchemaObject,
} from "./schema-document.js";
import { type Finding, finding, type InclusionContext, subject } from "./schema-findings.js";
import { describeCount } from "./schema-scalar-inclusion.js";

function record(value: unknown): SchemaObject {
  return isSchemaObject(value) ? value : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function matches(pattern: string, name: string): boolean | undefined {
  try {
    return new RegExp(pattern, "u").test(name);
  } catch {
    return undefined;
  }
}

/** `additionalProperties` as a node; `true` where it is absent. */
function additionalNode(node: SchemaNode, schema: SchemaObject, label: string): SchemaNode {
  return schema.additionalProperties === undefined
    ? { schema: true, root: node.root, path: `${node.path}/additionalProperties`, label }
    : childNode(node, label, "additionalProperties");
}

function isFalse(node: SchemaNode): boolean {
  return resolveNode(node).schema === false;
}

/**
 * The schemas that a value under property `name` must satisfy: its `properties` entry and every
 * `patternProperties` entry whose pattern matches the name, or `additionalProperties` when there
 * is neither. Undefined when a pattern is not a valid regular expression.
 */
function propertySchemas(node: SchemaNode, schema: SchemaObject, name: string): SchemaNode[] | undefined {
  const label = propertyLabel(node.label, name);
  const parts: SchemaNode[] = [];
  if (Object.hasOwn(record(schema.properties), name)) parts.push(childNode(node, label, "properties", name));
  for (const pattern of Object.keys(record(schema.patternProperties))) {
    const matched = matches(pattern, name);
    if (matched === undefined) return undefined;
    if (matched) parts.push(childNode(node, label, "patternProperties", pattern));
  }
  return parts.length > 0 ? parts : [additionalNode(node, schema, label)];
}

/** Whether every object the writer accepts holds `name`: required, or forced by a closed model's minProperties. */
function writerAlwaysHolds(schema: SchemaObject, name: string): boolean {
  if (strings(schema.required).includes(name)) return true;
  const closed =
    schema.additionalProperties === false && Object.keys(record(schema.patternProperties)).length === 0;
  if (!closed) return false;
  const allowed = Object.entries(record(schema.properties))
    .filter(([, value]) => value !== false)
    .map(([key]) => key);
  return (
    allowed.includes(name) &&
    typeof schema.minProperties === "number" &&
    allowed.length - 1 < schema.minProperties
  );
}

/**
 * Object keywords. Each property either schema names is compared through the schemas that govern
 * it on each side, so a property one side lacks meets the other side's `additionalProperties`
 * (the content model): added to an open writer it must accept anything, removed from a closed
 * reader it is rejected. Then the undeclared names, `required`, and the property count.
 */
export function checkObjects(
  context: InclusionContext,
  r: SchemaNode,
  rObj: SchemaObject,
  w: SchemaNode,
  wObj: SchemaObject,
): void {
  const readerProperties = record(rObj.properties);
  const writerProperties = record(wObj.properties);
  // A writer whose objects hold no property at all leaves only `required` and the count to compare.
  const names =
    mostProperties(wObj) === 0 ? [] : [...Object.keys(readerProperties), ...Object.keys(writerProperties)];
  for (const name of new Set(names)) {
    const suffix = `/properties/${escapePointer(name)}`;
    const readerParts = propertySchemas(r, rObj, name);
    const writerParts = propertySchemas(w, wObj, name);
    if (!readerParts || !writerParts) {
      context.report(unsupportedPatterns(r, w));
      continue;
    }
    if (writerParts.some(isFalse)) continue; // The writer never holds this property.
    const [first, ...more] = writerParts;
    if (!first) continue;
    const writer =
      more.length === 0 ? first : { ...first, schema: { allOf: writerParts.map((part) => part.schema) } };
    const label = propertyLabel(r.label, name);
    for (const reader of readerParts) {
      const findings = context.trial(reader, writer);
      if (findings.length === 0) continue;
      if (
        !Object.hasOwn(writerProperties, name) &&
        more.length === 0 &&
        acceptsEverything(resolveNode(first).schema)
      ) {
        context.report(
          finding(
            "property-added-to-open-model",
            r,
            w,
            (roles) =>
              `property '${label}' is constrained by ${roles.reader} but not declared by ${roles.writer}, whose open content model lets it hold any value, so ${roles.data} that hold another value under that name would be rejected by ${roles.consumers}`,
            suffix,
          ),
        );
      } else if (!Object.hasOwn(readerProperties, name) && isFalse(reader)) {
        context.report(
          finding(
            "property-removed-from-closed-model",
            r,
            w,
            (roles) =>
              `property '${label}' is allowed by ${roles.writer} but not by ${roles.reader}, whose content model is closed, so ${roles.data} that hold it would be rejected by ${roles.consumers}`,
            suffix,
          ),
        );
      } else {
        context.report(...findings);
      }
    }
  }
  if (mostProperties(wObj) > 0) checkUndeclared(context, r, rObj, w, wObj);
  for (const name of strings(rObj.required)) {
    if (writerAlwaysHolds(wObj, name)) continue;
    const label = propertyLabel(r.label, name);
    context.report(
      finding(
        "required-property-added",
        r,
        w,
        (roles) =>
          `property '${label}' is required by ${roles.reader} but not by ${roles.writer}, so ${roles.data} that lack it would be rejected by ${roles.consumers}`,
        `/properties/${escapePointer(name)}`,
      ),
    );
  }
  checkPropertyCount(context, r, rObj, w, wObj);
}

function unsupportedPatterns(r: SchemaNode, w: SchemaNode): Finding {
  return finding(
    "unsupported-change",
    r,
    w,
    (roles) =>
      `a patternProperties pattern of ${subject(r.label)} in ${roles.reader} or ${roles.writer} is not a valid regular expression, so the checker cannot tell which properties it governs and ${roles.data} might be rejected by ${roles.consumers}`,
    "/patternProperties",
  );
}

/**
 * Names neither side declares. A value under such a name comes from the writer's
 * `additionalProperties` or from one of its `patternProperties`; each reader bucket (its
 * `additionalProperties`, each of its patterns) must accept every writer source that may feed it.
 * Patterns are compared by their text, so two different patterns that cover the same names are
 * reported even when the change is harmless.
 */
function checkUndeclared(
  context: InclusionContext,
  r: SchemaNode,
  rObj: SchemaObject,
  w: SchemaNode,
  wObj: SchemaObject,
): void {
  const anyName = propertyLabel(r.label, "*");
  const readerPatterns = Object.keys(record(rObj.patternProperties));
  const writerPatterns = Object.keys(record(wObj.patternProperties));
  const writerAdditional = additionalNode(w, wObj, anyName);
  const writerPattern = (pattern: string) => childNode(w, anyName, "patternProperties", pattern);
  const readerAdditional = additionalNode(r, rObj, anyName);
  const buckets = [
    {
      reader: readerAdditional,
      which: `undeclared properties of ${subject(r.label)}`,
      sources: [
        writerAdditional,
        ...writerPatterns.filter((pattern) => !readerPatterns.includes(pattern)).map(writerPattern),
      ],
    },
    ...readerPatterns.map((pattern) => ({
      reader: childNode(r, anyName, "patternProperties", pattern),
      which: `properties of ${subject(r.label)} whose names match /${pattern}/`,
      sources: writerPatterns.includes(pattern)
        ? [writerPattern(pattern)]
        : [writerAdditional, ...writerPatterns.map(writerPattern)],
    })),
  ];
  for (const { reader, which, sources } of buckets) {
    for (const source of sources) {
      const findings = context.trial(reader, source);
      if (findings.length === 0) continue;
      const fromOpenModel = source === writerAdditional && acceptsEverything(source.schema);
      if (isFalse(reader) && reader === readerAdditional) {
        context.report(
          finding(
            fromOpenModel ? "content-model-closed" : "property-removed-from-closed-model",
            { ...r, path: reader.path },
            { ...w, path: source.path },
            (roles) =>
              `${subject(r.label)} accepts no undeclared properties in ${roles.reader} but ${fromOpenModel ? "accepts any" : "accepts some"} in ${roles.writer}, so ${roles.data} with an extra property would be rejected by ${roles.consumers}`,
          ),
        );
      } else if (fromOpenModel) {
        context.report(
          finding(
            reader === readerAdditional ? "additional-properties-narrowed" : "property-added-to-open-model",
            { ...r, path: reader.path },
            { ...w, path: source.path },
            (roles) =>
              `${which} are constrained by ${roles.reader} but may hold any value in ${roles.writer}, so ${roles.data} with such a property would be rejected by ${roles.consumers}`,
          ),
        );
      } else {
        context.report(...findings);
      }
    }
  }
}

/** How many properties an object the schema accepts may hold at most. */
function mostProperties(schema: SchemaObject): number {
  if (typeof schema.maxProperties === "number") return schema.maxProperties;
  if (schema.additionalProperties !== false || Object.keys(record(schema.patternProperties)).length > 0) {
    return Number.POSITIVE_INFINITY;
  }
  return Object.values(record(schema.properties)).filter((value) => value !== false).length;
}

function checkPropertyCount(
  context: InclusionContext,
  r: SchemaNode,
  rObj: SchemaObject,
  w: SchemaNode,
  wObj: SchemaObject,
): void {
  const writerMin = Math.max(
    typeof wObj.minProperties === "number" ? wObj.minProperties : 0,
    new Set(strings(wObj.required)).size,
  );
  const writerMax = mostProperties(wObj);
  const readerMin = typeof rObj.minProperties === "number" ? rObj.minProperties : 0;
  const readerMax = typeof rObj.maxProperties === "number" ? rObj.maxProperties : Number.POSITIVE_INFINITY;
  if (readerMin <= writerMin && readerMax >= writerMax) return;
  context.report(
    finding(
      "property-count-narrowed",
      r,
      w,
      (roles) =>
        `${subject(r.label)} must have ${describeCount(readerMin, readerMax, "properties")} in ${roles.reader} but may have ${describeCount(writerMin, writerMax, "properties")} in ${roles.writer}, so ${roles.data} with another number of properties would be rejected by ${roles.consumers}`,
    ),
  );
}
