import {
  type EventInput,
  limits,
  subjectOf,
  TributaryError,
  type ValidationPolicy,
} from "@tributary/protocol";
import type { SchemaRegistry, SubjectValidator } from "./schema-registry.js";

/** Checks appended events against their types' registered schemas, as their topic's policy says. */
export interface EventValidation {
  /**
   * Validates each event's `data` against the latest schema of `<topic>-<type>` and returns, per
   * event, the schema version it was checked against (`undefined` when it was not checked).
   * Rejects `schema-violation` with every failing event's JSON pointers (into the request, via
   * `pointer`), or `schema-required` under a `required` policy for a type without a schema.
   */
  check(
    topic: string,
    events: readonly EventInput[],
    pointer: (index: number) => string,
  ): Promise<(number | undefined)[]>;
  /** Forgets the cached policy of a topic (after this process changed it). */
  forgetPolicy(topic: string): void;
}

export interface EventValidationOptions {
  registry: SchemaRegistry;
  /** The topic's policy; `if-registered` for a topic that does not exist yet (appends create it). */
  policyOf(topic: string): Promise<ValidationPolicy>;
  /**
   * How long a topic's policy is trusted from cache. A policy changed by another bus process takes
   * effect here within this time; schema changes are heard at once (the registry's change feed).
   */
  policyTtlMs?: number;
}

/** Failures listed in one `schema-violation`, at most. */
const maxReportedFailures = 100;

export function createEventValidation(options: EventValidationOptions): EventValidation {
  const ttl = options.policyTtlMs ?? 1000;
  const policies = new Map<string, { policy: Promise<ValidationPolicy>; until: number }>();

  const policyOf = (topic: string): Promise<ValidationPolicy> => {
    const now = Date.now();
    const cached = policies.get(topic);
    if (cached !== undefined && cached.until > now) return cached.policy;
    const policy = options.policyOf(topic);
    const entry = { policy, until: now + ttl };
    policies.set(topic, entry);
    policy.catch(() => {
      if (policies.get(topic) === entry) policies.delete(topic);
    });
    if (policies.size > limits.maxPartitions * 16) policies.clear();
    return policy;
  };

  return {
    async check(topic, events, pointer) {
      const policy = await policyOf(topic);
      if (policy === "none") return events.map(() => undefined);
      const types = [...new Set(events.map((event) => event.type))];
      const validators = new Map<string, SubjectValidator | undefined>();
      await Promise.all(
        types.map(async (type) => {
          validators.set(type, await options.registry.validatorOf(subjectOf(topic, type)));
        }),
      );
      const failures: { pointer: string; message: string; schemaVersion?: number }[] = [];
      const versions = events.map((event, index) => {
        const validator = validators.get(event.type);
        if (validator === undefined) {
          if (policy === "required") {
            throw new TributaryError("schema-required", {
              message: `${pointer(index) || "the event"}: topic ${topic} requires a registered schema, and type ${JSON.stringify(event.type)} has none`,
              details: {
                topic,
                type: event.type,
                subject: subjectOf(topic, event.type),
                pointer: pointer(index),
              },
            });
          }
          return undefined;
        }
        const problems = validator.validate(event.data === undefined ? null : event.data);
        if (problems !== undefined && failures.length < maxReportedFailures) {
          for (const problem of problems) {
            failures.push({
              pointer: `${pointer(index)}/data${problem.pointer}`,
              message: problem.message,
              schemaVersion: validator.version,
            });
          }
        }
        return validator.version;
      });
      if (failures.length > 0) {
        const first = failures[0] as (typeof failures)[number];
        throw new TributaryError("schema-violation", {
          message: `${first.pointer}: ${first.message} (schema version ${first.schemaVersion})`,
          details: { errors: failures.slice(0, maxReportedFailures), schemaVersion: first.schemaVersion },
        });
      }
      return versions;
    },
    forgetPolicy(topic) {
      policies.delete(topic);
    },
  };
}
