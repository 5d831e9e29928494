import { checkArrays } from "./schema-array-inclusion.js";
import {
  acceptsEverything,
  childNode,
  derivedNode,
  isSchemaObject,
  jsonEqual,
  lookupReference,
  resolveNode,
  type SchemaNode,
  type SchemaObject,
  unmodelledKeywordGroups,
  withoutKeys,
} from "./schema-document.js";
import { schemasEqual } from "./schema-equality.js";
import {
  type Finding,
  finding,
  type InclusionContext,
  quoteValues,
  subject,
  unsupported,
} from "./schema-findings.js";
import { intersectSchemas } from "./schema-merge.js";
import { checkObjects } from "./schema-object-inclusion.js";
import { checkNumbers, checkStrings } from "./schema-scalar-inclusion.js";
import { acceptsOnlyIntegers, admitsType, type InstanceType, listWords, typeSet } from "./schema-types.js";
import { includeInNegation, includeInUnion } from "./schema-union-inclusion.js";
import { includeValues } from "./schema-value-inclusion.js";
import { finiteValues } from "./schema-values.js";

/** Deeper than this the checker stops and reports the sub-schema as unsupported. */
const maxDepth = 100;
/** A bound on the work for one pair of documents; past it the rest is reported as unsupported. */
const maxSteps = 20_000;
const emptySchema: SchemaObject = {};

/**
 * Every way in which a value accepted by `writer` may be rejected by `reader`, each document's
 * local `$ref`s resolved against its own root. Empty when the reader provably accepts all the
 * writer's values.
 */
export function findBreaks(reader: unknown, writer: unknown): Finding[] {
  const checker = new InclusionChecker();
  checker.include(
    { schema: reader, root: reader, path: "", label: "" },
    { schema: writer, root: writer, path: "", label: "" },
  );
  const seen = new Set<string>();
  return checker.findings.filter((item) => {
    const key = `${item.kind} ${item.readerPath} ${item.writerPath}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

class InclusionChecker implements InclusionContext {
  findings: Finding[] = [];
  private readonly active = new Map<object, Set<object>>();
  private readonly merged = new WeakMap<object, SchemaObject | false>();
  private readonly branches = new WeakMap<object, SchemaNode[]>();
  private steps = 0;
  private depth = 0;

  report(...findings: Finding[]): void {
    this.findings.push(...findings);
  }

  trial(reader: SchemaNode, writer: SchemaNode): Finding[] {
    const outer = this.findings;
    this.findings = [];
    try {
      this.include(reader, writer);
      return this.findings;
    } finally {
      this.findings = outer;
    }
  }

  include(reader: SchemaNode, writer: SchemaNode): void {
    const r = resolveNode(reader);
    const w = resolveNode(writer);
    if (w.schema === false || acceptsEverything(r.schema) || schemasEqual(r, w)) return;
    if (r.schema === false) {
      this.report(
        finding(
          "type-narrowed",
          r,
          w,
          (roles) =>
            `${roles.reader} accepts no value at all ${r.label === "" ? "" : `for ${subject(r.label)} `}(false), so ${roles.data} would be rejected by ${roles.consumers}`,
        ),
      );
      return;
    }
    if (!isSchemaObject(r.schema) || !(isSchemaObject(w.schema) || w.schema === true)) {
      this.unsupported(r, w, "it is not a valid schema on one side");
      return;
    }
    if (++this.steps > maxSteps) {
      // Reported at the root, so that the many checks cut short collapse into one finding.
      this.unsupported(
        { ...r, path: "", label: "" },
        { ...w, path: "" },
        "the schemas are too large to compare",
      );
      return;
    }
    if (this.depth >= maxDepth) {
      this.unsupported(r, w, "it is nested too deeply to compare");
      return;
    }
    const rObj = r.schema;
    const wObj = w.schema === true ? emptySchema : w.schema;
    let pairs = this.active.get(rObj);
    if (pairs?.has(wObj)) return; // Met again while being compared: assumed compatible (co-induction).
    if (!pairs) {
      pairs = new Set();
      this.active.set(rObj, pairs);
    }
    pairs.add(wObj);
    this.depth++;
    try {
      this.compare(r, rObj, w, wObj);
    } finally {
      this.depth--;
      pairs.delete(wObj);
    }
  }

  private unsupported(r: SchemaNode, w: SchemaNode, why: string, suffix = ""): void {
    this.report(unsupported(r, w, why, suffix));
  }

  /** Takes the writer apart first (intersections, unions, finite value sets), then the reader. */
  private compare(r: SchemaNode, rObj: SchemaObject, w: SchemaNode, wObj: SchemaObject): void {
    if (typeof wObj.$ref === "string" || Array.isArray(wObj.allOf)) {
      this.includeIntersection(r, w, wObj);
      return;
    }
    const union = Array.isArray(wObj.anyOf) ? "anyOf" : Array.isArray(wObj.oneOf) ? "oneOf" : undefined;
    if (union) {
      for (const branch of this.writerBranches(w, wObj, union)) this.include(r, branch);
      return;
    }
    const values = finiteValues(w, rObj.enum !== undefined || rObj.const !== undefined);
    if (values && includeValues(this, r, w, values)) return;
    if (typeof rObj.$ref === "string") {
      const target = lookupReference(r.root, rObj.$ref);
      if (!target) {
        this.unsupported(r, w, `it refers to ${rObj.$ref}, outside the document`);
        return;
      }
      this.include({ ...r, schema: target.schema, path: target.path }, w);
      this.include(derivedNode(r, withoutKeys(rObj, ["$ref"])), w);
      return;
    }
    if (Array.isArray(rObj.allOf)) {
      rObj.allOf.forEach((_, index) => {
        this.include(childNode(r, r.label, "allOf", index), w);
      });
    }
    if (Array.isArray(rObj.anyOf)) includeInUnion(this, r, rObj, "anyOf", w, wObj);
    if (Array.isArray(rObj.oneOf)) includeInUnion(this, r, rObj, "oneOf", w, wObj);
    if (rObj.not !== undefined) includeInNegation(this, r, w, wObj);
    const base = withoutKeys(rObj, ["allOf", "anyOf", "oneOf", "not"]);
    if (!acceptsEverything(base)) this.compareKeywords(r, base, w, wObj);
  }

  /** The writer's `allOf` (and `$ref` with siblings) as one merged schema; see `intersectSchemas`. */
  private includeIntersection(r: SchemaNode, w: SchemaNode, wObj: SchemaObject): void {
    if (typeof wObj.$ref === "string" && !lookupReference(w.root, wObj.$ref)) {
      this.unsupported(r, w, `it refers to ${wObj.$ref}, outside the document`);
      return;
    }
    const parts = conjuncts(w);
    let merged = this.merged.get(wObj);
    if (merged === undefined) {
      const schemas = parts.map((part) => part.schema);
      merged = schemas.includes(false) ? false : intersectSchemas(schemas.filter(isSchemaObject));
      this.merged.set(wObj, merged);
    }
    if (merged === false) return;
    const findings = this.trial(r, derivedNode(w, merged));
    if (findings.length === 0) return;
    // A reader that accepts one conjunct whole accepts the intersection, whatever the merge dropped.
    if (parts.some((part) => this.trial(r, part).length === 0)) return;
    this.report(...findings);
  }

  /** Each branch of the writer's `anyOf`/`oneOf`, merged with the keywords beside it. */
  private writerBranches(w: SchemaNode, wObj: SchemaObject, key: "anyOf" | "oneOf"): SchemaNode[] {
    let branches = this.branches.get(wObj);
    if (branches) return branches;
    const base = withoutKeys(wObj, [key]);
    branches = [];
    (wObj[key] as unknown[]).forEach((_, index) => {
      const branch = childNode(w, w.label, key, index);
      if (acceptsEverything(base)) {
        branches?.push(branch);
        return;
      }
      const schemas = [base, ...conjuncts(branch).map((part) => part.schema)];
      if (schemas.includes(false)) return;
      const merged = intersectSchemas(schemas.filter(isSchemaObject));
      if (merged !== false) branches?.push({ ...branch, schema: merged, root: w.root });
    });
    this.branches.set(wObj, branches);
    return branches;
  }

  /** Keyword by keyword, for a reader without combinators and a writer without unions. */
  private compareKeywords(r: SchemaNode, rObj: SchemaObject, w: SchemaNode, wObj: SchemaObject): void {
    const readerTypes = typeSet(rObj);
    const writerTypes = typeSet(wObj);
    const lost: string[] = [];
    for (const type of writerTypes) {
      if (admitsType(readerTypes, type)) continue;
      if (type === "number" && readerTypes.has("integer")) {
        if (!acceptsOnlyIntegers(wObj)) lost.push("non-integer number");
        continue;
      }
      lost.push(type);
    }
    if (lost.length > 0) {
      this.report(
        finding(
          "type-narrowed",
          r,
          w,
          (roles) =>
            `${subject(r.label)} may be ${listWords(lost.map(withArticle))} in ${roles.writer} but not in ${roles.reader}, so ${roles.data} with such a value there would be rejected by ${roles.consumers}`,
        ),
      );
    }
    const shared = new Set([...writerTypes].filter((type) => admitsType(readerTypes, type)));
    const numeric = (types: Set<InstanceType>) => types.has("number") || types.has("integer");
    const numbersShared = numeric(writerTypes) && numeric(readerTypes);
    if (shared.size === 0 && !numbersShared) return;
    this.compareUnmodelled(r, rObj, w, wObj, shared);
    if (!this.compareEnumerations(r, rObj, w, wObj)) return;
    if (shared.has("string")) checkStrings(this, r, rObj, w, wObj);
    if (numbersShared) {
      checkNumbers(this, r, rObj, w, wObj, acceptsOnlyIntegers(wObj) || !readerTypes.has("number"));
    }
    if (shared.has("object")) checkObjects(this, r, rObj, w, wObj);
    if (shared.has("array")) checkArrays(this, r, rObj, w, wObj);
  }

  /** A reader keyword the checker does not model passes only when the writer has the same. */
  private compareUnmodelled(
    r: SchemaNode,
    rObj: SchemaObject,
    w: SchemaNode,
    wObj: SchemaObject,
    shared: Set<string>,
  ): void {
    for (const group of unmodelledKeywordGroups) {
      const present = group.keywords.find((key) => rObj[key] !== undefined);
      if (!present || (group.appliesTo && !shared.has(group.appliesTo))) continue;
      const comparable = !present.startsWith("unevaluated") && !present.startsWith("$");
      const pick = (schema: SchemaObject) =>
        Object.fromEntries(
          group.keywords.filter((key) => schema[key] !== undefined).map((key) => [key, schema[key]]),
        );
      if (comparable && schemasEqual(derivedNode(r, pick(rObj)), derivedNode(w, pick(wObj)))) continue;
      this.unsupported(
        r,
        w,
        `its '${present}' is not understood by the checker and not identical`,
        `/${present}`,
      );
    }
  }

  /** A reader `enum`/`const` against a writer the checker could not list value by value. */
  private compareEnumerations(r: SchemaNode, rObj: SchemaObject, w: SchemaNode, wObj: SchemaObject): boolean {
    const listed = (schema: SchemaObject) =>
      schema.const !== undefined ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined;
    const readerValues = listed(rObj);
    if (!readerValues) return true;
    const writerValues = listed(wObj);
    const missing = writerValues?.filter(
      (value) => !readerValues.some((allowed) => jsonEqual(allowed, value)),
    );
    if (missing?.length === 0) return true;
    this.report(
      finding("enum-narrowed", r, w, (roles) =>
        missing
          ? `${subject(r.label)} may be ${quoteValues(missing)} in ${roles.writer} but not in ${roles.reader}, so ${roles.data} with ${missing.length === 1 ? "that value" : "those values"} would be rejected by ${roles.consumers}`
          : `${subject(r.label)} is limited to ${quoteValues(readerValues)} in ${roles.reader} but not in ${roles.writer}, so ${roles.data} with any other value there would be rejected by ${roles.consumers}`,
      ),
    );
    return writerValues !== undefined;
  }
}

/** "a string", "an object", "null". */
function withArticle(type: string): string {
  if (type === "null") return "null";
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}

/**
 * A schema with its `$ref` and `allOf` taken apart into the schemas that all apply. A schema met
 * twice is listed once: repeating a conjunct changes nothing, and a schema that is its own conjunct
 * (`allOf: [{ $ref: "#" }]`) would otherwise never end.
 */
function conjuncts(node: SchemaNode, seen = new Set<unknown>()): SchemaNode[] {
  const resolved = resolveNode(node);
  const schema = resolved.schema;
  if (seen.has(schema)) return [];
  if (isSchemaObject(schema)) seen.add(schema);
  if (!isSchemaObject(schema) || (typeof schema.$ref !== "string" && !Array.isArray(schema.allOf))) {
    return [resolved];
  }
  const parts = [derivedNode(resolved, withoutKeys(schema, ["$ref", "allOf"]))];
  if (typeof schema.$ref === "string") {
    const target = lookupReference(resolved.root, schema.$ref);
    if (target) parts.push(...conjuncts({ ...resolved, schema: target.schema, path: target.path }, seen));
  }
  if (Array.isArray(schema.allOf)) {
    schema.allOf.forEach((_, index) => {
      parts.push(...conjuncts(childNode(resolved, resolved.label, "allOf", index), seen));
    });
  }
  return parts;
}
