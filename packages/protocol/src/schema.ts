/**
 * How a new version of a subject's schema must relate to the versions before it (the Confluent
 * Schema Registry's levels). BACKWARD: consumers on the new schema read events written with the
 * previous one (upgrade consumers first). FORWARD: consumers still on the previous schema read
 * events written with the new one (upgrade producers first). FULL: both. The `_TRANSITIVE` forms
 * check against every earlier version instead of the latest only; NONE checks nothing.
 */
export type CompatibilityMode =
  | "BACKWARD"
  | "BACKWARD_TRANSITIVE"
  | "FORWARD"
  | "FORWARD_TRANSITIVE"
  | "FULL"
  | "FULL_TRANSITIVE"
  | "NONE";

/** Every compatibility mode, in the order the docs list them. */
export const compatibilityModes: readonly CompatibilityMode[] = [
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
  "NONE",
];

/** The registry's mode when neither the subject nor the registry has one set. */
export const defaultCompatibility: CompatibilityMode = "BACKWARD";

/**
 * Whether appends to a topic are checked against the registered schemas of their event types:
 * `none` never; `if-registered` (the default) when the event's type has a schema; `required`
 * always, refusing event types without one.
 */
export type ValidationPolicy = "none" | "if-registered" | "required";

export const validationPolicies: readonly ValidationPolicy[] = ["none", "if-registered", "required"];

/** A JSON Schema document: an object, or `true` / `false`. */
export type JsonSchema = boolean | Record<string, unknown>;

/**
 * The registry subject that holds the schemas of one event type of one topic: `<topic>-<type>`
 * (the Confluent TopicRecordNameStrategy shape, so Kafka-world tools find them).
 */
export function subjectOf(topic: string, type: string): string {
  return `${topic}-${type}`;
}

/** One registered version of a subject's schema. */
export interface SchemaVersion {
  subject: string;
  /** 1, 2, 3… per subject, never reused. */
  version: number;
  /** Registry-wide id of the schema: the same schema under two subjects has one id. */
  id: number;
  schema: JsonSchema;
  createdAt: string;
}

/** One way in which a candidate schema breaks an existing version. */
export interface SchemaIncompatibility {
  /** Stable kebab-case kind, e.g. `required-property-added`; docs/schema-compatibility.md lists them. */
  kind: string;
  /** JSON pointer into the candidate schema, `""` for its root. */
  path: string;
  message: string;
  /** The existing version the candidate breaks. */
  version: number;
  /** `backward`: the new schema cannot read old events; `forward`: old schemas cannot read new ones. */
  direction: "backward" | "forward";
}

/** The verdict of a compatibility check. */
export interface CompatibilityReport {
  compatible: boolean;
  compatibility: CompatibilityMode;
  incompatibilities: SchemaIncompatibility[];
}

/** `PUT /v1/schemas/{topic}/{type}`: the result of a registration. */
export interface SchemaRegistration extends SchemaVersion {
  /** False when the same schema was already the subject's version: nothing was added. */
  created: boolean;
}

/** `GET /v1/schemas/{topic}/{type}`: a subject with its versions. */
export interface SchemaSubject {
  subject: string;
  topic: string;
  type: string;
  compatibility: CompatibilityMode;
  latest: SchemaVersion;
  versions: number[];
}
