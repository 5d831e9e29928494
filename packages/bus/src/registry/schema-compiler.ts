import { type JsonSchema, TributaryError } from "@tributary/protocol";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS: its default export arrives wrapped under Node's ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** One failure of an instance against a schema. */
export interface SchemaFailure {
  /** JSON pointer into the validated value, `""` for the value itself. */
  pointer: string;
  message: string;
  keyword: string;
}

export type CompiledSchema = (value: unknown) => SchemaFailure[] | undefined;

/**
 * Ajv instances per JSON Schema draft, made on first use. A schema names its draft with `$schema`;
 * without one it is draft-07, the draft the Confluent registry and most tools assume. `strict` is
 * off because registered schemas often carry annotations Ajv does not know (`x-…`, `javaType`);
 * formats are checked (`ajv-formats`), since a producer relying on `format: email` expects it.
 */
const instances = new Map<string, Ajv>();

function ajvFor(schema: JsonSchema): Ajv {
  const draft = typeof schema === "object" && typeof schema.$schema === "string" ? schema.$schema : "";
  const kind = draft.includes("2020-12") ? "2020" : draft.includes("2019-09") ? "2019" : "07";
  let ajv = instances.get(kind);
  if (ajv === undefined) {
    const options = { strict: false, allErrors: false, validateFormats: true } as const;
    ajv = kind === "2020" ? new Ajv2020(options) : kind === "2019" ? new Ajv2019(options) : new Ajv(options);
    addFormats(ajv);
    instances.set(kind, ajv);
  }
  return ajv;
}

function toFailures(errors: ErrorObject[] | null | undefined): SchemaFailure[] {
  return (errors ?? []).map((error) => ({
    pointer: error.instancePath,
    message: error.message ?? "is invalid",
    keyword: error.keyword,
  }));
}

function withoutId(schema: JsonSchema): JsonSchema {
  if (typeof schema === "boolean" || !("$id" in schema)) return schema;
  const copy = { ...schema };
  delete copy.$id;
  return copy;
}

/**
 * Compiles a schema into a checker that returns the failures of a value, or `undefined` when it
 * is valid. Rejects `invalid-schema` when the schema is not a JSON Schema Ajv can compile: not an
 * object or boolean, against its draft's meta-schema, or with a `$ref` outside the document.
 * Compiled code is not cached by Ajv (schemas have no `$id` here): callers keep what they compile.
 */
export function compileSchema(schema: unknown): CompiledSchema {
  if (
    typeof schema !== "boolean" &&
    (typeof schema !== "object" || schema === null || Array.isArray(schema))
  ) {
    throw new TributaryError("invalid-schema", { message: "a JSON Schema is an object or a boolean" });
  }
  const ajv = ajvFor(schema as JsonSchema);
  let validate: ValidateFunction;
  try {
    if (!ajv.validateSchema(schema as JsonSchema)) {
      const failures = toFailures(ajv.errors);
      const first = failures[0];
      throw new TributaryError("invalid-schema", {
        message: `the schema does not match its draft's meta-schema: ${first === undefined ? "invalid" : `${first.pointer || "the schema"} ${first.message}`}`,
        details: { errors: failures.slice(0, 20) },
      });
    }
    // A schema object with an `$id` would be remembered by the Ajv instance under that id; a copy
    // without it keeps registrations of different subjects from clashing.
    validate = ajv.compile(withoutId(schema as JsonSchema));
  } catch (error) {
    if (error instanceof TributaryError) throw error;
    throw new TributaryError("invalid-schema", {
      message: `the schema cannot be compiled: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  return (value) => (validate(value) ? undefined : toFailures(validate.errors));
}
