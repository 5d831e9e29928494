import type { SchemaObject } from "./schema-document.js";

/** A numeric bound; `exclusive` when the bound itself is not allowed. */
export interface Bound {
  value: number;
  exclusive: boolean;
}

/**
 * The effective lower bound from `minimum` and `exclusiveMinimum`, the tighter of the two. Reads
 * both the numeric `exclusiveMinimum` (draft 6 on) and the boolean one of draft 4.
 */
export function lowerBound(schema: SchemaObject): Bound | undefined {
  return tighter(schema.minimum, schema.exclusiveMinimum, (left, right) => left > right);
}

/** The effective upper bound from `maximum` and `exclusiveMaximum`; see {@link lowerBound}. */
export function upperBound(schema: SchemaObject): Bound | undefined {
  return tighter(schema.maximum, schema.exclusiveMaximum, (left, right) => left < right);
}

function tighter(
  inclusive: unknown,
  exclusive: unknown,
  isTighter: (left: number, right: number) => boolean,
): Bound | undefined {
  const plain = typeof inclusive === "number" ? inclusive : undefined;
  if (typeof exclusive === "boolean") {
    return plain === undefined ? undefined : { value: plain, exclusive };
  }
  const strict = typeof exclusive === "number" ? exclusive : undefined;
  if (strict === undefined) return plain === undefined ? undefined : { value: plain, exclusive: false };
  if (plain === undefined || !isTighter(plain, strict)) return { value: strict, exclusive: true };
  return { value: plain, exclusive: false };
}

/** The same bound for integers only: inclusive, on a whole number. */
export function integralLowerBound(bound: Bound): Bound {
  return { value: bound.exclusive ? Math.floor(bound.value) + 1 : Math.ceil(bound.value), exclusive: false };
}

export function integralUpperBound(bound: Bound): Bound {
  return { value: bound.exclusive ? Math.ceil(bound.value) - 1 : Math.floor(bound.value), exclusive: false };
}

/** Whether `value` is a whole multiple of `divisor`, allowing for binary floating point (0.3 of 0.1). */
export function isMultipleOf(value: number, divisor: number): boolean {
  if (divisor <= 0) return false;
  const quotient = value / divisor;
  return Math.abs(quotient - Math.round(quotient)) < 1e-9;
}

export function describeRange(lower: Bound | undefined, upper: Bound | undefined): string {
  const low = lower && `${lower.exclusive ? "above" : "at least"} ${lower.value}`;
  const high = upper && `${upper.exclusive ? "below" : "at most"} ${upper.value}`;
  if (low && high) return `${low} and ${high}`;
  return low ?? high ?? "any value";
}
