import type { SchemaNode, SchemaObject } from "./schema-document.js";
import { finding, type InclusionContext, subject } from "./schema-findings.js";
import {
  type Bound,
  describeRange,
  integralLowerBound,
  integralUpperBound,
  isMultipleOf,
  lowerBound,
  upperBound,
} from "./schema-number-bounds.js";

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" ? value : fallback;
}

/** Describes a count range, "between 1 and 5 characters", "any number of items". */
export function describeCount(min: number, max: number, unit: string): string {
  if (min <= 0 && max === Number.POSITIVE_INFINITY) return `any number of ${unit}`;
  if (min <= 0) return `at most ${max} ${unit}`;
  if (max === Number.POSITIVE_INFINITY) return `at least ${min} ${unit}`;
  return min === max ? `exactly ${min} ${unit}` : `between ${min} and ${max} ${unit}`;
}

/** String keywords: the reader's length range must hold the writer's; patterns and formats must match. */
export function checkStrings(
  context: InclusionContext,
  r: SchemaNode,
  rObj: SchemaObject,
  w: SchemaNode,
  wObj: SchemaObject,
): void {
  const readerMin = numberOr(rObj.minLength, 0);
  const readerMax = numberOr(rObj.maxLength, Number.POSITIVE_INFINITY);
  const writerMin = numberOr(wObj.minLength, 0);
  const writerMax = numberOr(wObj.maxLength, Number.POSITIVE_INFINITY);
  if (readerMin > writerMin || readerMax < writerMax) {
    context.report(
      finding(
        "string-length-narrowed",
        r,
        w,
        (roles) =>
          `${subject(r.label)} must have ${describeCount(readerMin, readerMax, "characters")} in ${roles.reader} but may have ${describeCount(writerMin, writerMax, "characters")} in ${roles.writer}, so ${roles.data} with a string of another length there would be rejected by ${roles.consumers}`,
      ),
    );
  }
  if (typeof rObj.pattern === "string" && rObj.pattern !== wObj.pattern) {
    const pattern = rObj.pattern;
    if (wObj.pattern === undefined) {
      context.report(
        finding(
          "pattern-narrowed",
          r,
          w,
          (roles) =>
            `${subject(r.label)} must match /${pattern}/ in ${roles.reader} but has no pattern in ${roles.writer}, so ${roles.data} with a string that does not match would be rejected by ${roles.consumers}`,
        ),
      );
    } else {
      context.report(
        finding(
          "unsupported-change",
          r,
          w,
          (roles) =>
            `the pattern of ${subject(r.label)} differs between ${roles.writer} and ${roles.reader}, and the checker cannot prove that every string matching the old one matches /${pattern}/, so ${roles.data} might be rejected by ${roles.consumers}`,
        ),
      );
    }
  }
  if (rObj.format !== undefined && rObj.format !== wObj.format) {
    const format = String(rObj.format);
    const before = wObj.format === undefined ? "no format" : `format '${String(wObj.format)}'`;
    context.report(
      finding(
        wObj.format === undefined ? "format-added" : "format-changed",
        r,
        w,
        (roles) =>
          `${subject(r.label)} must have format '${format}' in ${roles.reader} but has ${before} in ${roles.writer}, so ${roles.data} with a string of another form there would be rejected by ${roles.consumers}`,
      ),
    );
  }
}

function lowerIsNarrower(reader: Bound | undefined, writer: Bound | undefined): boolean {
  if (!reader) return false;
  if (!writer) return true;
  return (
    reader.value > writer.value || (reader.value === writer.value && reader.exclusive && !writer.exclusive)
  );
}

function upperIsNarrower(reader: Bound | undefined, writer: Bound | undefined): boolean {
  if (!reader) return false;
  if (!writer) return true;
  return (
    reader.value < writer.value || (reader.value === writer.value && reader.exclusive && !writer.exclusive)
  );
}

/**
 * Number keywords: the reader's range must hold the writer's, and the reader's `multipleOf` must
 * divide the writer's. With `integral`, only whole numbers are at stake, so bounds compare after
 * rounding inwards (`exclusiveMinimum: 0` and `minimum: 1` are the same for integers).
 */
export function checkNumbers(
  context: InclusionContext,
  r: SchemaNode,
  rObj: SchemaObject,
  w: SchemaNode,
  wObj: SchemaObject,
  integral: boolean,
): void {
  const round = (bound: Bound | undefined, rounding: (bound: Bound) => Bound) =>
    bound && integral ? rounding(bound) : bound;
  const readerLower = round(lowerBound(rObj), integralLowerBound);
  const readerUpper = round(upperBound(rObj), integralUpperBound);
  const writerLower = round(lowerBound(wObj), integralLowerBound);
  const writerUpper = round(upperBound(wObj), integralUpperBound);
  if (lowerIsNarrower(readerLower, writerLower) || upperIsNarrower(readerUpper, writerUpper)) {
    context.report(
      finding(
        "number-range-narrowed",
        r,
        w,
        (roles) =>
          `${subject(r.label)} must be ${describeRange(readerLower, readerUpper)} in ${roles.reader} but may be ${describeRange(writerLower, writerUpper)} in ${roles.writer}, so ${roles.data} with a number outside the first range would be rejected by ${roles.consumers}`,
      ),
    );
  }
  if (typeof rObj.multipleOf !== "number") return;
  const divisor = rObj.multipleOf;
  const writerStep = typeof wObj.multipleOf === "number" ? wObj.multipleOf : integral ? 1 : undefined;
  if (writerStep !== undefined && isMultipleOf(writerStep, divisor)) return;
  context.report(
    finding(
      "multiple-of-narrowed",
      r,
      w,
      (roles) =>
        `${subject(r.label)} must be a multiple of ${divisor} in ${roles.reader} but ${writerStep === undefined ? "need not be" : `only a multiple of ${writerStep}`} in ${roles.writer}, so ${roles.data} with another number there would be rejected by ${roles.consumers}`,
    ),
  );
}
