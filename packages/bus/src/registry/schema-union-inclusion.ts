import {
  childNode,
  derivedNode,
  isSchemaObject,
  resolveNode,
  type SchemaNode,
  type SchemaObject,
} from "./schema-document.js";
import { schemasEqual } from "./schema-equality.js";
import { finding, type InclusionContext, subject, unsupported } from "./schema-findings.js";
import { describeTypes, type InstanceType, typeSet, typesOverlap } from "./schema-types.js";
import { checkValue, finiteValues } from "./schema-values.js";

const typedPiecesCache = new WeakMap<object, Map<InstanceType, SchemaObject>>();

/** The writer split by instance type, so that each type can meet its own branch of a reader union. */
function typedPieces(w: SchemaNode, wObj: SchemaObject): Array<[InstanceType, SchemaNode]> {
  const types = [...typeSet(wObj)];
  if (types.length === 1 && types[0]) return [[types[0], w]];
  let byType = typedPiecesCache.get(wObj);
  if (!byType) {
    byType = new Map(types.map((type) => [type, { ...wObj, type }]));
    typedPiecesCache.set(wObj, byType);
  }
  return [...byType].map(([type, schema]) => [type, derivedNode(w, schema)]);
}

/** Whether a reader branch may accept values of `type`, by its `type` keyword alone. */
function mayHoldType(branch: SchemaNode, type: InstanceType): boolean {
  const schema = resolveNode(branch).schema;
  if (!isSchemaObject(schema)) return schema === true;
  return typesOverlap(typeSet(schema), new Set([type]));
}

/**
 * A reader `anyOf`/`oneOf`: the writer, split by instance type, must fit one branch with each
 * part; for `oneOf` the other branches must also provably reject that part. A part that only the
 * branches together cover is reported, a sound but incomplete answer. When exactly one branch is
 * of the part's type, its own findings are reported, since they say more than "no branch fits".
 */
export function includeInUnion(
  context: InclusionContext,
  r: SchemaNode,
  rObj: SchemaObject,
  key: "anyOf" | "oneOf",
  w: SchemaNode,
  wObj: SchemaObject,
): void {
  const branches = (rObj[key] as unknown[]).map((_, index) => childNode(r, r.label, key, index));
  const union = { ...r, path: `${r.path}/${key}` };
  const uncovered: string[] = [];
  for (const [type, piece] of typedPieces(w, wObj)) {
    const fitting: SchemaNode[] = [];
    for (const branch of branches) {
      if (context.trial(branch, piece).length > 0) continue;
      fitting.push(branch);
      if (key === "anyOf") break;
    }
    if (fitting.length === 0) {
      const candidates = branches.filter((branch) => mayHoldType(branch, type));
      if (candidates.length === 1 && candidates[0]) context.include(candidates[0], piece);
      else uncovered.push(type);
    } else if (fitting.length > 1) {
      context.report(
        finding(
          "one-of-ambiguous",
          union,
          piece,
          (roles) =>
            `${subject(r.label)} matches more than one branch of the oneOf in ${roles.reader} for every ${type} value allowed by ${roles.writer}, so ${roles.data} there would be rejected by ${roles.consumers}`,
        ),
      );
    } else if (
      key === "oneOf" &&
      branches.some((branch) => branch !== fitting[0] && !disjoint(piece, branch))
    ) {
      context.report(unsupported(union, piece, "a value may match more than one branch of its oneOf"));
    }
  }
  if (uncovered.length > 0) {
    context.report(
      finding(
        "union-narrowed",
        union,
        w,
        (roles) =>
          `no branch of the ${key} at ${subject(r.label)} in ${roles.reader} accepts every ${describeTypes(uncovered)} value allowed by ${roles.writer}, so ${roles.data} with such a value would be rejected by ${roles.consumers}`,
      ),
    );
  }
}

/** A reader `not`: the writer must carry the same `not`, or provably share no value with the negated schema. */
export function includeInNegation(
  context: InclusionContext,
  r: SchemaNode,
  w: SchemaNode,
  wObj: SchemaObject,
): void {
  const negated = childNode(r, r.label, "not");
  if (wObj.not !== undefined && schemasEqual(negated, childNode(w, w.label, "not"))) return;
  if (disjoint(w, negated)) return;
  context.report(unsupported({ ...r, path: `${r.path}/not` }, w, "its 'not' changed"));
}

/**
 * Whether no value satisfies both schemas, as far as their types, finite value sets and a required
 * property with disjoint schemas on both sides (a discriminator) show. False when unsure.
 */
export function disjoint(left: SchemaNode, right: SchemaNode, depth = 0): boolean {
  const a = resolveNode(left);
  const b = resolveNode(right);
  if (a.schema === false || b.schema === false) return true;
  if (!isSchemaObject(a.schema) || !isSchemaObject(b.schema) || depth > 8) return false;
  const aTypes = typeSet(a.schema);
  const bTypes = typeSet(b.schema);
  if (!typesOverlap(aTypes, bTypes)) return true;
  for (const [one, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const values = finiteValues(one, false);
    if (values?.every((value) => checkValue(other, value).outcome === "rejected")) return true;
  }
  const nonObject = (types: Set<InstanceType>) => new Set([...types].filter((type) => type !== "object"));
  if (typesOverlap(nonObject(aTypes), bTypes) || typesOverlap(aTypes, nonObject(bTypes))) return false;
  const aProperties = isSchemaObject(a.schema.properties) ? a.schema.properties : {};
  const bProperties = isSchemaObject(b.schema.properties) ? b.schema.properties : {};
  const required = [a.schema.required, b.schema.required].flatMap((list) =>
    Array.isArray(list) ? list : [],
  );
  return Object.keys(aProperties).some(
    (name) =>
      Object.hasOwn(bProperties, name) &&
      required.includes(name) &&
      disjoint(
        childNode(a, a.label, "properties", name),
        childNode(b, b.label, "properties", name),
        depth + 1,
      ),
  );
}
