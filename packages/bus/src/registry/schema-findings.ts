import type { SchemaNode } from "./schema-document.js";

/**
 * Every kind of incompatibility, named for a reader that is the newer schema (as in a BACKWARD
 * check), with the name the same break takes when the newer schema is the writer (FORWARD): a
 * reader narrower than the writer is a candidate that widened.
 */
export const incompatibilityKinds = {
  "type-narrowed": "type-widened",
  "enum-narrowed": "enum-widened",
  "required-property-added": "property-no-longer-required",
  "property-added-to-open-model": "property-removed-from-open-model",
  "property-removed-from-closed-model": "property-added-to-closed-model",
  "content-model-closed": "content-model-opened",
  "additional-properties-narrowed": "additional-properties-widened",
  "property-count-narrowed": "property-count-widened",
  "string-length-narrowed": "string-length-widened",
  "pattern-narrowed": "pattern-widened",
  "format-added": "format-removed",
  "format-changed": "format-changed",
  "number-range-narrowed": "number-range-widened",
  "multiple-of-narrowed": "multiple-of-widened",
  "array-length-narrowed": "array-length-widened",
  "unique-items-added": "unique-items-removed",
  "item-added-to-open-tuple": "item-removed-from-open-tuple",
  "item-removed-from-closed-tuple": "item-added-to-closed-tuple",
  "union-narrowed": "union-widened",
  "one-of-ambiguous": "one-of-ambiguous",
  "value-rejected": "value-rejected",
  "unsupported-change": "unsupported-change",
} as const;

export type IncompatibilityKind = keyof typeof incompatibilityKinds;

/** How a message names the two schemas, the data at stake and who rejects it. */
export interface Roles {
  /** "the new schema", "version 2", "the reader schema". */
  reader: string;
  writer: string;
  /** "events written with version 2". */
  data: string;
  /** "consumers on the new schema". */
  consumers: string;
}

/**
 * One way in which a value valid under the writer may be rejected by the reader. `readerPath` and
 * `writerPath` are JSON pointers into each document (for a property one side lacks, where it would
 * be); `message` renders one sentence for the given roles.
 */
export interface Finding {
  kind: IncompatibilityKind;
  readerPath: string;
  writerPath: string;
  message: (roles: Roles) => string;
}

/** `the value` for the root, `'address.zip'` elsewhere. */
export function subject(label: string): string {
  return label === "" ? "the value" : `'${label}'`;
}

/** Up to five JSON values, quoted as JSON. */
export function quoteValues(values: readonly unknown[]): string {
  const shown = values.slice(0, 5).map((value) => JSON.stringify(value));
  const rest = values.length > 5 ? ` and ${values.length - 5} more` : "";
  if (shown.length === 1) return `${shown[0]}${rest}`;
  return rest
    ? `${shown.join(", ")}${rest}`
    : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

/** What the per-type checks need from the checker that calls them. */
export interface InclusionContext {
  /** Checks that `reader` accepts every value `writer` accepts, reporting each way it does not. */
  include(reader: SchemaNode, writer: SchemaNode): void;
  /** The same check, returning its findings instead of reporting them. */
  trial(reader: SchemaNode, writer: SchemaNode): Finding[];
  report(...findings: Finding[]): void;
}

/** A finding at `reader` and `writer`, or at `suffix` below both (`/properties/email`). */
export function finding(
  kind: IncompatibilityKind,
  reader: SchemaNode,
  writer: SchemaNode,
  message: (roles: Roles) => string,
  suffix = "",
): Finding {
  return { kind, readerPath: reader.path + suffix, writerPath: writer.path + suffix, message };
}

/** An `unsupported-change`: the two sides differ in a way the checker cannot prove safe, for the reason `why`. */
export function unsupported(reader: SchemaNode, writer: SchemaNode, why: string, suffix = ""): Finding {
  return finding(
    "unsupported-change",
    reader,
    writer,
    (roles) =>
      `${subject(reader.label)} differs between ${roles.writer} and ${roles.reader} in a way the checker cannot prove safe (${why}), so ${roles.data} might be rejected by ${roles.consumers}`,
    suffix,
  );
}
