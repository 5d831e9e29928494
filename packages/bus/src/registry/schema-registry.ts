import {
  type CompatibilityMode,
  type CompatibilityReport,
  defaultCompatibility,
  hasControlCharacters,
  type JsonSchema,
  limits,
  TributaryError,
} from "@tributary/protocol";
import { canonicalJson } from "../append/canonical-json.js";
import { checkCompatibility } from "./compatibility.js";
import type { RegistryStore, RegistryTransaction, StoredSchemaVersion } from "./registry-store.js";
import { type CompiledSchema, compileSchema } from "./schema-compiler.js";

/** The latest live version of a subject, compiled for validating events. */
export interface SubjectValidator {
  version: number;
  validate: CompiledSchema;
}

/**
 * The schema registry: subjects, versions, compatibility settings and checks, over the store's
 * registry tables. Both the own API (`/v1/schemas`) and the Confluent-compatible one
 * (`/schema-registry`) are views of it. Not-found errors are `schema-not-found` with
 * `details.missing` saying what was missing: `"subject"`, `"version"` or `"schema"`.
 */
export interface SchemaRegistry {
  /**
   * Registers a schema under a subject. The same schema as a live version of the subject returns
   * that version (`created: false`); otherwise it is checked against the subject's compatibility
   * mode and becomes the next version. `invalid-schema` when it does not compile,
   * `schema-incompatible` (with the incompatibilities) when it breaks the mode.
   */
  register(subject: string, schema: unknown): Promise<{ version: StoredSchemaVersion; created: boolean }>;
  /**
   * Checks a schema against the subject's versions as its mode says, or against one version only
   * when `against` is a version number or "latest".
   */
  check(subject: string, schema: unknown, against?: number | "latest"): Promise<CompatibilityReport>;
  /** The live version of the subject whose schema equals `schema`, if any. */
  lookup(subject: string, schema: unknown): Promise<StoredSchemaVersion | undefined>;
  subjects(options?: { deleted?: boolean }): Promise<string[]>;
  /** Oldest first; `schema-not-found` (subject) when none. */
  versions(subject: string, options?: { deleted?: boolean }): Promise<StoredSchemaVersion[]>;
  version(
    subject: string,
    version: number | "latest",
    options?: { deleted?: boolean },
  ): Promise<StoredSchemaVersion>;
  /** A schema's text by its id; `schema-not-found` (schema) when unknown. */
  schemaById(id: number): Promise<string>;
  /** The live versions that use a schema id; `schema-not-found` (schema) when unknown. */
  versionsOfSchema(id: number, options?: { deleted?: boolean }): Promise<StoredSchemaVersion[]>;
  /**
   * Deletes a subject's versions: soft (hidden, number and id kept), or for good with `permanent`,
   * which only removes versions already soft-deleted. Returns the version numbers deleted.
   */
  deleteSubject(subject: string, options?: { permanent?: boolean }): Promise<number[]>;
  deleteVersion(
    subject: string,
    version: number | "latest",
    options?: { permanent?: boolean },
  ): Promise<number>;
  /** The mode in force for a subject (its own, else the registry's, else BACKWARD); null: the registry's. */
  compatibility(subject: string | null): Promise<CompatibilityMode>;
  /** The mode set on the subject itself (or the registry for null), if any. */
  ownCompatibility(subject: string | null): Promise<CompatibilityMode | undefined>;
  setCompatibility(subject: string | null, mode: CompatibilityMode): Promise<void>;
  /** Removes a subject's own mode; returns the one it had. */
  deleteCompatibility(subject: string): Promise<CompatibilityMode | undefined>;
  /** The compiled latest live version of a subject, cached until the registry changes. */
  validatorOf(subject: string): Promise<SubjectValidator | undefined>;
}

/** A topic name, a dash and an event type at their longest. */
const maxSubjectLength = 128 + 1 + limits.maxTypeLength;

/** Subjects are free text (Confluent allows any) but bounded and free of control characters. */
function assertSubject(subject: string): void {
  if (subject.length === 0 || subject.length > maxSubjectLength || hasControlCharacters(subject)) {
    throw new TributaryError("invalid-request", {
      message: "a subject is 1 to 385 characters without control characters",
      details: {
        errors: [{ pointer: "/subject", message: "must be 1 to 385 characters, no control characters" }],
      },
    });
  }
}

function notFound(
  missing: "subject" | "version" | "schema",
  details: Record<string, unknown>,
): TributaryError {
  const message =
    missing === "subject"
      ? `subject ${JSON.stringify(details.subject)} has no schema`
      : missing === "version"
        ? `subject ${JSON.stringify(details.subject)} has no version ${String(details.version)}`
        : `no schema has id ${String(details.id)}`;
  return new TributaryError("schema-not-found", { message, details: { missing, ...details } });
}

/** The schema as the registry keeps it: compiled once to prove it valid, then its canonical text. */
function prepare(schema: unknown): { canonical: string; parsed: JsonSchema } {
  compileSchema(schema);
  const canonical = canonicalJson(schema);
  return { canonical, parsed: JSON.parse(canonical) as JsonSchema };
}

function pickVersion(
  subject: string,
  versions: StoredSchemaVersion[],
  version: number | "latest",
): StoredSchemaVersion {
  const found =
    version === "latest" ? versions[versions.length - 1] : versions.find((v) => v.version === version);
  if (found === undefined) {
    throw versions.length === 0
      ? notFound("subject", { subject })
      : notFound("version", { subject, version });
  }
  return found;
}

async function effectiveMode(
  source: Pick<RegistryTransaction, "compatibility">,
  subject: string | null,
): Promise<CompatibilityMode> {
  return (
    (subject === null ? undefined : await source.compatibility(subject)) ??
    (await source.compatibility(null)) ??
    defaultCompatibility
  );
}

function report(
  mode: CompatibilityMode,
  candidate: JsonSchema,
  existing: StoredSchemaVersion[],
): CompatibilityReport {
  const incompatibilities = checkCompatibility(
    mode,
    candidate,
    existing.map((version) => ({
      version: version.version,
      schema: JSON.parse(version.schema) as JsonSchema,
    })),
  );
  return { compatible: incompatibilities.length === 0, compatibility: mode, incompatibilities };
}

/** Creates the registry over a store's registry tables. */
export function createSchemaRegistry(store: RegistryStore): SchemaRegistry {
  /** Compiled latest versions by subject; `undefined` values remember "no live version". */
  let validators = new Map<string, Promise<SubjectValidator | undefined>>();
  store.onChange(() => {
    validators = new Map();
  });

  const live = async (subject: string, deleted = false) => {
    assertSubject(subject);
    return store.versions(subject, { deleted });
  };

  const registry: SchemaRegistry = {
    async register(subject, schema) {
      assertSubject(subject);
      const { canonical, parsed } = prepare(schema);
      return store.transact(async (transaction) => {
        const all = await transaction.versions(subject);
        const current = all.filter((version) => !version.deleted);
        const same = current.find((version) => version.schema === canonical);
        if (same !== undefined) return { version: same, created: false };
        const mode = await effectiveMode(transaction, subject);
        const verdict = report(mode, parsed, current);
        if (!verdict.compatible) {
          const first = verdict.incompatibilities[0];
          throw new TributaryError("schema-incompatible", {
            message: `the schema breaks ${mode} compatibility of ${subject}: ${first?.message ?? ""}`,
            details: { subject, compatibility: mode, incompatibilities: verdict.incompatibilities },
          });
        }
        const id = await transaction.schemaId(canonical);
        const version = (all[all.length - 1]?.version ?? 0) + 1;
        const createdAt = new Date().toISOString();
        await transaction.insertVersion({ subject, version, id, createdAt });
        return {
          version: { subject, version, id, schema: canonical, deleted: false, createdAt },
          created: true,
        };
      });
    },

    async check(subject, schema, against) {
      const { parsed } = prepare(schema);
      const current = await live(subject);
      const mode = await registry.compatibility(subject);
      if (against === undefined) return report(mode, parsed, current);
      const target = pickVersion(subject, current, against);
      // One named version: the mode's directions, checked against that version alone.
      const directional = mode.replace("_TRANSITIVE", "") as CompatibilityMode;
      return { ...report(directional, parsed, [target]), compatibility: mode };
    },

    async lookup(subject, schema) {
      const { canonical } = prepare(schema);
      return (await live(subject)).find((version) => version.schema === canonical);
    },

    subjects: (options) => store.subjects({ deleted: options?.deleted === true }),

    async versions(subject, options) {
      const versions = await live(subject, options?.deleted === true);
      if (versions.length === 0) throw notFound("subject", { subject });
      return versions;
    },

    async version(subject, version, options) {
      return pickVersion(subject, await live(subject, options?.deleted === true), version);
    },

    async schemaById(id) {
      const schema = Number.isSafeInteger(id) && id > 0 ? await store.schemaById(id) : undefined;
      if (schema === undefined) throw notFound("schema", { id });
      return schema;
    },

    async versionsOfSchema(id, options) {
      await registry.schemaById(id);
      const versions = await store.versionsOfSchema(id);
      return options?.deleted === true ? versions : versions.filter((version) => !version.deleted);
    },

    async deleteSubject(subject, options) {
      assertSubject(subject);
      return store.transact(async (transaction) => {
        const all = await transaction.versions(subject);
        if (all.length === 0) throw notFound("subject", { subject });
        if (options?.permanent === true) {
          const softDeleted = all.filter((version) => version.deleted).map((version) => version.version);
          if (softDeleted.length < all.length) {
            throw new TributaryError("invalid-request", {
              message: `subject ${JSON.stringify(subject)} must be soft-deleted before it is deleted for good`,
            });
          }
          await transaction.removeVersions(subject, softDeleted);
          await transaction.setCompatibility(subject, null);
          return softDeleted;
        }
        const current = all.filter((version) => !version.deleted).map((version) => version.version);
        if (current.length === 0) throw notFound("subject", { subject });
        await transaction.markDeleted(subject, current, true);
        return current;
      });
    },

    async deleteVersion(subject, version, options) {
      assertSubject(subject);
      return store.transact(async (transaction) => {
        const all = await transaction.versions(subject);
        if (all.length === 0) throw notFound("subject", { subject });
        if (options?.permanent === true) {
          const target =
            version === "latest" ? all[all.length - 1] : all.find((entry) => entry.version === version);
          if (target === undefined) throw notFound("version", { subject, version });
          if (!target.deleted) {
            throw new TributaryError("invalid-request", {
              message: `version ${target.version} of ${JSON.stringify(subject)} must be soft-deleted before it is deleted for good`,
            });
          }
          await transaction.removeVersions(subject, [target.version]);
          return target.version;
        }
        const target = pickVersion(
          subject,
          all.filter((entry) => !entry.deleted),
          version,
        );
        await transaction.markDeleted(subject, [target.version], true);
        return target.version;
      });
    },

    compatibility: (subject) => effectiveMode(store, subject),
    ownCompatibility: (subject) => store.compatibility(subject),

    async setCompatibility(subject, mode) {
      if (subject !== null) assertSubject(subject);
      await store.transact((transaction) => transaction.setCompatibility(subject, mode));
    },

    async deleteCompatibility(subject) {
      assertSubject(subject);
      return store.transact(async (transaction) => {
        const previous = await transaction.compatibility(subject);
        if (previous !== undefined) await transaction.setCompatibility(subject, null);
        return previous;
      });
    },

    validatorOf(subject) {
      let validator = validators.get(subject);
      if (validator === undefined) {
        const cache = validators;
        validator = store.versions(subject, { deleted: false }).then((versions) => {
          const latest = versions[versions.length - 1];
          if (latest === undefined) return undefined;
          return { version: latest.version, validate: compileSchema(JSON.parse(latest.schema)) };
        });
        cache.set(subject, validator);
        // A failed read is not remembered: the next append tries again.
        validator.catch(() => {
          if (cache.get(subject) === validator) cache.delete(subject);
        });
      }
      return validator;
    },
  };
  return registry;
}
