import { type EventInput, limits, TributaryError } from "@tributary/protocol";
import { Ajv, type ErrorObject } from "ajv";
import { eventInputSchema } from "./event-schema.js";

export interface ValidationIssue {
  pointer: string;
  message: string;
}

const ajv = new Ajv({ allErrors: false, strict: true, unicodeRegExp: true });
const validateInput = ajv.compile<EventInput>(eventInputSchema);

function describe(error: ErrorObject, base: string): ValidationIssue {
  const pointer = `${base}${error.instancePath}`;
  if (error.keyword === "additionalProperties") {
    const name = (error.params as { additionalProperty: string }).additionalProperty;
    return { pointer: `${pointer}/${name}`, message: "is not an event field" };
  }
  if (error.keyword === "pattern") {
    return { pointer, message: "must not contain control characters or lone surrogates" };
  }
  if (error.keyword === "anyOf")
    return { pointer, message: 'must be "no_stream", "any" or a version number' };
  return { pointer, message: error.message ?? "is invalid" };
}

/** Whether a JSON value nests objects and arrays deeper than `max` (walked without recursion). */
export function exceedsDepth(value: unknown, max: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    const next: unknown[] = [];
    for (const item of level) {
      if (typeof item === "object" && item !== null) {
        if (depth >= max) return true;
        for (const child of Array.isArray(item) ? item : Object.values(item)) {
          if (typeof child === "object" && child !== null) next.push(child);
        }
      }
    }
    level = next;
  }
  return false;
}

/**
 * Checks each input against the event schema. Returns the inputs typed, or throws
 * `invalid-request` listing every invalid event with the JSON pointer of its first problem
 * (`/events/3/type`).
 */
export function validateEvents(inputs: unknown[], pointerBase: (index: number) => string): EventInput[] {
  const issues: ValidationIssue[] = [];
  inputs.forEach((input, index) => {
    if (!validateInput(input)) {
      const error = validateInput.errors?.[0];
      issues.push(
        error ? describe(error, pointerBase(index)) : { pointer: pointerBase(index), message: "is invalid" },
      );
    } else if (exceedsDepth(input, limits.maxJsonDepth + 2)) {
      // +2: the event object and its data/metadata field are not the producer's nesting.
      issues.push({
        pointer: pointerBase(index),
        message: `nests deeper than ${limits.maxJsonDepth} levels`,
      });
    }
  });
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new TributaryError("invalid-request", {
      message: `${first.pointer || "/"} ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ""}`,
      details: { errors: issues.slice(0, 100) },
    });
  }
  return inputs as EventInput[];
}
