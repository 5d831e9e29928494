import { type CompatibilityMode, compatibilityModes, type SchemaIncompatibility } from "@tributary/protocol";
import type { JsonSchema } from "./schema-document.js";
import { type Finding, incompatibilityKinds, type Roles } from "./schema-findings.js";
import { findBreaks } from "./schema-inclusion.js";

// The modes and the incompatibility's wire shape are protocol types (the API returns them).
export type { CompatibilityMode, SchemaIncompatibility } from "@tributary/protocol";
export { compatibilityModes } from "@tributary/protocol";
export type { JsonSchema } from "./schema-document.js";

const neutralRoles: Roles = {
  reader: "the reader schema",
  writer: "the writer schema",
  data: "data written with the writer schema",
  consumers: "a reader using the reader schema",
};

/**
 * Every way in which some instance valid under `writer` may be rejected by `reader` (empty: reader
 * accepts all writer data). `version`/`direction` filled by the caller below.
 *
 * Sound rather than complete: an empty answer is a proof that the reader accepts every value the
 * writer accepts, while a reported break may occasionally be one that no real value triggers (two
 * different regular expressions, an `anyOf` whose branches only together cover the writer). A
 * construct the checker cannot reason about is reported as `unsupported-change` unless it is
 * identical on both sides. Each document's local `$ref`s (`#/$defs/…`, `#/definitions/…`,
 * `#anchor`) resolve against its own root; references to other documents are unsupported.
 *
 * Kinds are named for a reader that is the newer schema, as in a BACKWARD check ("type-narrowed":
 * the reader accepts fewer types); `path` points into the reader, or where a property the reader
 * lacks would be. Findings come in schema order, duplicates removed.
 *
 * @example
 * findIncompatibilities({ type: "integer" }, { type: "number" });
 * // [{ kind: "type-narrowed", path: "", message: "the value may be a non-integer number in …" }]
 */
export function findIncompatibilities(
  reader: JsonSchema,
  writer: JsonSchema,
): Array<{ kind: string; path: string; message: string }> {
  return findBreaks(reader, writer).map((item) => ({
    kind: item.kind,
    path: item.readerPath,
    message: item.message(neutralRoles),
  }));
}

function backward(version: number, item: Finding): SchemaIncompatibility {
  const roles = {
    reader: "the new schema",
    writer: `version ${version}`,
    data: `events written with version ${version}`,
    consumers: "consumers on the new schema",
  };
  return {
    kind: item.kind,
    path: item.readerPath,
    message: item.message(roles),
    version,
    direction: "backward",
  };
}

function forward(version: number, item: Finding): SchemaIncompatibility {
  const roles = {
    reader: `version ${version}`,
    writer: "the new schema",
    data: "events written with the new schema",
    consumers: `consumers still on version ${version}`,
  };
  return {
    kind: incompatibilityKinds[item.kind],
    path: item.writerPath,
    message: item.message(roles),
    version,
    direction: "forward",
  };
}

/**
 * Checks a candidate against existing versions (oldest first) under a mode: non-transitive modes
 * check only the latest; BACKWARD: candidate (reader) vs old (writer); FORWARD: old (reader) vs
 * candidate (writer); FULL both; NONE nothing. Returns [] when compatible.
 *
 * Results come version by version in the order given, backward before forward for each. Kinds
 * describe what the candidate changed: a forward break of a candidate that widened a type is
 * "type-widened" where the backward check of the opposite change says "type-narrowed". Paths point
 * into the candidate; for a property the candidate removed, to where it was. With no existing
 * version every candidate is compatible. Throws a TypeError for an unknown mode.
 *
 * @example
 * checkCompatibility("BACKWARD", v3, [{ version: 1, schema: v1 }, { version: 2, schema: v2 }]);
 * // compares v3 with v2 only; "BACKWARD_TRANSITIVE" would compare it with v1 as well
 */
export function checkCompatibility(
  mode: CompatibilityMode,
  candidate: JsonSchema,
  existing: ReadonlyArray<{ version: number; schema: JsonSchema }>,
): SchemaIncompatibility[] {
  if (!compatibilityModes.includes(mode)) throw new TypeError(`unknown compatibility mode: ${String(mode)}`);
  if (mode === "NONE") return [];
  const versions = mode.endsWith("_TRANSITIVE") ? existing : existing.slice(-1);
  const checksBackward = !mode.startsWith("FORWARD");
  const checksForward = !mode.startsWith("BACKWARD");
  return versions.flatMap(({ version, schema }) => [
    ...(checksBackward ? findBreaks(candidate, schema).map((item) => backward(version, item)) : []),
    ...(checksForward ? findBreaks(schema, candidate).map((item) => forward(version, item)) : []),
  ]);
}
