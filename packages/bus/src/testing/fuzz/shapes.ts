import type { Random } from "./random.js";
import { controlCharacters, printableText } from "./values.js";

/**
 * What one part of a request accepts, as far as the fuzzer needs to know it: a value the route
 * takes (`edge` leans to the extremes: longest, largest, oddest) and one it refuses whatever the
 * rest of the request holds. Refusals avoid what Fastify's Ajv (`coerceTypes`) would coerce into
 * something valid: a number or `null` for a string, `null` or a boolean for a number.
 */
export interface Shape {
  valid(random: Random, edge: boolean): unknown;
  invalid(random: Random): unknown;
}

const notScalar = [{}, [], [1], { a: 1 }];
const notObject = ["x", 5, [], [{}]];
const notArray = ["x", 5, {}, { 0: "a" }];

export interface TextOptions {
  min?: number;
  max: number;
  /** Valid values, when the field has a pattern (default: printable text). */
  make?: (random: Random, edge: boolean) => string;
  /** Refused values beyond the generic ones (a pattern's refusals). */
  refused?: (random: Random) => string;
  /** Whether control characters are refused (default true). */
  isPrintable?: boolean;
}

export function text(options: TextOptions): Shape {
  const { min = 1, max } = options;
  return {
    valid: (random, edge) => options.make?.(random, edge) ?? printableText(random, max, edge),
    invalid(random) {
      const choices: (() => unknown)[] = [
        () => random.pick(notScalar),
        () => "x".repeat(max + random.between(1, 50)),
      ];
      if (min > 0) choices.push(() => "");
      if (options.isPrintable !== false) choices.push(() => `a${random.pick(controlCharacters)}b`);
      if (options.refused !== undefined) choices.push(() => options.refused?.(random));
      return random.pick(choices)();
    },
  };
}

/**
 * An integer from `min` to `max` (unbounded when absent). Valid values stay at or below `validCap`
 * when given: a long-poll `wait` that is valid but long would only slow the run down.
 */
export function integer(min: number, max?: number, validCap?: number): Shape {
  return {
    valid(random, edge) {
      const top = validCap ?? max;
      if (!edge) return random.between(min, Math.min(top ?? min + 10, min + 10));
      return random.pick([min, top ?? 2 ** 53 - 1, top ?? 1e300, top ?? 2 ** 63]);
    },
    invalid(random) {
      const refused: unknown[] = [min - 1, min + 0.5, "x", "1x", "", ...notScalar];
      if (max !== undefined) refused.push(max + 1, 1e300, "Infinity");
      return random.pick(refused);
    },
  };
}

export function boolean(): Shape {
  return {
    valid: (random) => random.chance(0.5),
    invalid: (random) => random.pick(["yes", 5, ...notScalar]),
  };
}

export function oneOf(values: readonly unknown[]): Shape {
  return {
    valid: (random) => random.pick(values),
    invalid: (random) => random.pick(["nope", "", 5, ...notScalar]),
  };
}

export function array(items: Shape, options: { min?: number; max: number }): Shape {
  const { min = 0, max } = options;
  return {
    valid(random, edge) {
      const count = edge && random.chance(0.3) ? max : random.between(Math.max(min, 1), Math.min(max, 3));
      return Array.from({ length: count }, () => items.valid(random, edge));
    },
    invalid(random) {
      const choices: (() => unknown)[] = [
        () => random.pick(notArray),
        () => Array.from({ length: max + 1 }, () => items.valid(random, false)),
        () => {
          const valid = Array.from({ length: random.between(1, 3) }, () => items.valid(random, false));
          valid[random.between(0, valid.length - 1)] = items.invalid(random);
          return valid;
        },
      ];
      if (min > 0) choices.push(() => []);
      return random.pick(choices)();
    },
  };
}

export interface ObjectOptions {
  required?: string[];
  /** Whether unknown fields are refused (default true). */
  isClosed?: boolean;
}

export function object(fields: Record<string, Shape>, options: ObjectOptions = {}): Shape {
  const required = options.required ?? [];
  const isClosed = options.isClosed ?? true;
  const valid = (random: Random, edge: boolean) => {
    const value: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(fields)) {
      if (required.includes(name) || random.chance(edge ? 0.8 : 0.4)) value[name] = field.valid(random, edge);
    }
    return value;
  };
  return {
    valid,
    invalid(random) {
      const value = valid(random, false);
      const names = Object.keys(fields);
      const choices: (() => unknown)[] = [() => random.pick(notObject)];
      if (names.length > 0) {
        choices.push(() => {
          const name = random.pick(names);
          value[name] = (fields[name] as Shape).invalid(random);
          return value;
        });
      }
      if (required.length > 0) {
        choices.push(() => {
          delete value[random.pick(required)];
          return value;
        });
      }
      if (isClosed) choices.push(() => ({ ...value, [random.pick(["zz", "offset", "Type", "admin "])]: 1 }));
      return random.pick(choices)();
    },
  };
}

/** Exactly `value` when valid; `refused` lists what the route refuses there. */
export function constant(value: unknown, refused: unknown[]): Shape {
  return { valid: () => value, invalid: (random) => random.pick(refused) };
}

/** A shape with more ways to refuse it than its own (a handler's checks beyond the schema). */
export function refusing(shape: Shape, refusals: ((random: Random) => unknown)[]): Shape {
  return {
    valid: shape.valid,
    invalid: (random) => (random.chance(0.5) ? shape.invalid(random) : random.pick(refusals)(random)),
  };
}

/** One of several shapes; `refused` lists values that none of them takes. */
export function anyOf(shapes: Shape[], refused: unknown[]): Shape {
  return {
    valid: (random, edge) => random.pick(shapes).valid(random, edge),
    invalid: (random) => random.pick(refused),
  };
}

/** Any JSON, up to `maxDepth` objects deep at the edge; refused: `refusedDepth` or deeper. */
export function anyJson(maxDepth: number, refusedDepth = maxDepth + 1): Shape {
  const leaf = (random: Random) =>
    random.pick<unknown>([null, true, 0, -1.5, 1e300, "", "text", "💥", "\ud800", "\u0000", { "": 1 }]);
  const make = (random: Random, depth: number): unknown => {
    if (depth <= 1 || random.chance(0.5)) return leaf(random);
    return random.chance(0.5)
      ? [make(random, depth - 1)]
      : { [random.pick(["a", "key", "日本", "", "$ref", "toString"])]: make(random, depth - 1) };
  };
  const nest = (depth: number) => {
    let value: unknown = 1;
    for (let level = 0; level < depth; level++) value = { a: value };
    return value;
  };
  return {
    valid: (random, edge) => (edge && random.chance(0.3) ? nest(maxDepth) : make(random, 6)),
    invalid: (random) => nest(refusedDepth + random.between(0, 20)),
  };
}
