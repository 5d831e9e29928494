import type { SchemaNode } from "./schema-document.js";
import { type InclusionContext, type IncompatibilityKind, quoteValues, subject } from "./schema-findings.js";
import { checkValue } from "./schema-values.js";

/** The kind of break a value rejected by a reader keyword stands for. */
const kindOfKeyword: Record<string, IncompatibilityKind> = {
  type: "type-narrowed",
  enum: "enum-narrowed",
  const: "enum-narrowed",
  minLength: "string-length-narrowed",
  maxLength: "string-length-narrowed",
  pattern: "pattern-narrowed",
  minimum: "number-range-narrowed",
  maximum: "number-range-narrowed",
  multipleOf: "multiple-of-narrowed",
  required: "required-property-added",
  additionalProperties: "property-removed-from-closed-model",
  minProperties: "property-count-narrowed",
  maxProperties: "property-count-narrowed",
  minItems: "array-length-narrowed",
  maxItems: "array-length-narrowed",
  uniqueItems: "unique-items-added",
  items: "item-removed-from-closed-tuple",
  additionalItems: "item-removed-from-closed-tuple",
  prefixItems: "item-removed-from-closed-tuple",
  anyOf: "union-narrowed",
  oneOf: "union-narrowed",
};

/**
 * Checks a writer that accepts few values (an `enum`, a `const`, booleans, a short integer range)
 * by validating each value against the reader, which is exact whatever the reader's shape. Reports
 * one finding per rejecting keyword and location, listing the values. Returns false, reporting
 * nothing, when the reader cannot decide some value (a `format`, say): the caller then compares the
 * schemas keyword by keyword instead.
 */
export function includeValues(
  context: InclusionContext,
  r: SchemaNode,
  w: SchemaNode,
  values: unknown[],
): boolean {
  const groups = new Map<
    string,
    { kind: IncompatibilityKind; keyword: string; path: string; label: string; values: unknown[] }
  >();
  for (const value of values) {
    const verdict = checkValue(r, value);
    if (verdict.outcome === "undecided") return false;
    if (verdict.outcome === "accepted") continue;
    const kind = kindOfKeyword[verdict.keyword] ?? "value-rejected";
    const key = `${kind} ${verdict.path}`;
    const group = groups.get(key) ?? {
      kind,
      keyword: verdict.keyword,
      path: verdict.path,
      label: verdict.label,
      values: [],
    };
    group.values.push(value);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    const one = group.values.length === 1;
    const them = one ? "that value" : "those values";
    const where = group.label === w.label ? "" : ` (at ${subject(group.label)})`;
    const how = group.kind === "enum-narrowed" ? "not allowed by" : `rejected by the '${group.keyword}' of`;
    context.report({
      kind: group.kind,
      readerPath: group.path,
      writerPath: w.path,
      message: (roles) =>
        `${subject(w.label)} may be ${quoteValues(group.values)} in ${roles.writer} but ${them} ${one ? "is" : "are"} ${how} ${roles.reader}${where}, so ${roles.data} with ${them} would be rejected by ${roles.consumers}`,
    });
  }
  return true;
}
