import {
  acceptsEverything,
  childNode,
  resolveNode,
  type SchemaNode,
  type SchemaObject,
} from "./schema-document.js";
import { finding, type InclusionContext, subject } from "./schema-findings.js";
import { describeCount } from "./schema-scalar-inclusion.js";
import { arrayLayout } from "./schema-values.js";

type Layout = ReturnType<typeof arrayLayout>;

/** The schema for position `index` (a tuple position, else the items after them; `true` when absent). */
function positionNode(
  node: SchemaNode,
  schema: SchemaObject,
  layout: Layout,
  index: number | undefined,
): SchemaNode {
  if (index !== undefined && index < layout.prefix.length) {
    return childNode(node, `${node.label}[${index}]`, layout.prefixKey, index);
  }
  const label = index === undefined ? `${node.label}[]` : `${node.label}[${index}]`;
  if (schema[layout.tailKey] === undefined) {
    return { schema: true, root: node.root, path: `${node.path}/${layout.tailKey}`, label };
  }
  return childNode(node, label, layout.tailKey);
}

function isFalse(node: SchemaNode): boolean {
  return resolveNode(node).schema === false;
}

/**
 * Array keywords. Positions are compared one by one up to the longer tuple (`prefixItems`, or an
 * `items` array before 2020-12), each side using its schema for the items after its tuple where
 * it is shorter; then the schemas for the items after both tuples, the length range and
 * `uniqueItems`.
 */
export function checkArrays(
  context: InclusionContext,
  r: SchemaNode,
  rObj: SchemaObject,
  w: SchemaNode,
  wObj: SchemaObject,
): void {
  const readerLayout = arrayLayout(rObj, r.root);
  const writerLayout = arrayLayout(wObj, w.root);
  const writerTail = positionNode(w, wObj, writerLayout, undefined);
  let writerMax = typeof wObj.maxItems === "number" ? wObj.maxItems : Number.POSITIVE_INFINITY;
  if (isFalse(writerTail)) writerMax = Math.min(writerMax, writerLayout.prefix.length);
  const positions = Math.max(readerLayout.prefix.length, writerLayout.prefix.length);
  for (let index = 0; index < Math.min(positions, writerMax); index++) {
    const writer = positionNode(w, wObj, writerLayout, index);
    if (isFalse(writer)) {
      writerMax = index; // No writer array reaches this position.
      break;
    }
    const reader = positionNode(r, rObj, readerLayout, index);
    const findings = context.trial(reader, writer);
    if (findings.length === 0) continue;
    const label = `${r.label}[${index}]`;
    if (
      index >= writerLayout.prefix.length &&
      index < readerLayout.prefix.length &&
      acceptsEverything(resolveNode(writer).schema)
    ) {
      context.report(
        finding(
          "item-added-to-open-tuple",
          reader,
          writer,
          (roles) =>
            `position ${index} of ${subject(r.label)} is constrained by ${roles.reader} but may hold any value in ${roles.writer}, so ${roles.data} with another value there would be rejected by ${roles.consumers}`,
        ),
      );
    } else if (index >= readerLayout.prefix.length && isFalse(reader)) {
      context.report(
        finding(
          "item-removed-from-closed-tuple",
          { ...r, path: `${r.path}/${readerLayout.prefixKey}/${index}` },
          writer,
          (roles) =>
            `${subject(label)} exists in ${roles.writer} but ${roles.reader} allows no item at that position, so ${roles.data} that have it would be rejected by ${roles.consumers}`,
        ),
      );
    } else {
      context.report(...findings);
    }
  }
  if (writerMax > positions) {
    const readerTail = positionNode(r, rObj, readerLayout, undefined);
    const findings = context.trial(readerTail, writerTail);
    if (findings.length > 0 && isFalse(readerTail)) {
      context.report(
        finding(
          "item-removed-from-closed-tuple",
          readerTail,
          writerTail,
          (roles) =>
            `${subject(r.label)} may have more than ${positions} items in ${roles.writer} but not in ${roles.reader}, so ${roles.data} with more items would be rejected by ${roles.consumers}`,
        ),
      );
    } else {
      context.report(...findings);
    }
  }
  const writerMin = typeof wObj.minItems === "number" ? wObj.minItems : 0;
  const readerMin = typeof rObj.minItems === "number" ? rObj.minItems : 0;
  const readerMax = typeof rObj.maxItems === "number" ? rObj.maxItems : Number.POSITIVE_INFINITY;
  if (readerMin > writerMin || readerMax < writerMax) {
    context.report(
      finding(
        "array-length-narrowed",
        r,
        w,
        (roles) =>
          `${subject(r.label)} must have ${describeCount(readerMin, readerMax, "items")} in ${roles.reader} but may have ${describeCount(writerMin, writerMax, "items")} in ${roles.writer}, so ${roles.data} with another number of items would be rejected by ${roles.consumers}`,
      ),
    );
  }
  if (rObj.uniqueItems === true && wObj.uniqueItems !== true && writerMax > 1) {
    context.report(
      finding(
        "unique-items-added",
        r,
        w,
        (roles) =>
          `the items of ${subject(r.label)} must be unique in ${roles.reader} but not in ${roles.writer}, so ${roles.data} with a repeated item would be rejected by ${roles.consumers}`,
      ),
    );
  }
}
