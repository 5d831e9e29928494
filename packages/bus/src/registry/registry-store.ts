import type { CompatibilityMode } from "@tributary/protocol";

/** One version of a subject as the store keeps it. */
export interface StoredSchemaVersion {
  subject: string;
  version: number;
  id: number;
  /** The schema's canonical JSON text (keys sorted): equal schemas have equal text and one id. */
  schema: string;
  /** Soft-deleted: hidden from reads and validation, kept for ids and `?deleted=true` reads. */
  deleted: boolean;
  createdAt: string;
}

/** What a registry transaction may read and write; its writes commit together when it returns. */
export interface RegistryTransaction {
  /** The subject's versions, oldest first, soft-deleted ones included. */
  versions(subject: string): Promise<StoredSchemaVersion[]>;
  /** The mode set for the subject, or for the whole registry when `subject` is null. */
  compatibility(subject: string | null): Promise<CompatibilityMode | undefined>;
  /** The id of a canonical schema text: its existing id, or the next free one (stored with it). */
  schemaId(schema: string): Promise<number>;
  insertVersion(version: { subject: string; version: number; id: number; createdAt: string }): Promise<void>;
  /** Soft-deletes (or, with `deleted: false`, restores) versions of a subject. */
  markDeleted(subject: string, versions: number[], deleted: boolean): Promise<void>;
  /** Removes versions for good. The schema texts stay, so their ids keep meaning the same thing. */
  removeVersions(subject: string, versions: number[]): Promise<void>;
  /** Sets the mode of a subject (or of the registry, subject null); `mode` null removes it. */
  setCompatibility(subject: string | null, mode: CompatibilityMode | null): Promise<void>;
}

/**
 * The schema registry's storage port, kept in the same database as the events. Reads see committed
 * state. `transact` runs changes one at a time across every bus process sharing the store, which
 * makes "check compatibility against the latest versions, then add one" safe.
 */
export interface RegistryStore {
  /** Subjects with at least one version (soft-deleted ones too when `deleted`), sorted. */
  subjects(options: { deleted: boolean }): Promise<string[]>;
  /** The subject's versions, oldest first (soft-deleted ones too when `deleted`). */
  versions(subject: string, options: { deleted: boolean }): Promise<StoredSchemaVersion[]>;
  /** A schema text by id, whether or not a live version still uses it. */
  schemaById(id: number): Promise<string | undefined>;
  /** The versions that use a schema id, soft-deleted ones included. */
  versionsOfSchema(id: number): Promise<StoredSchemaVersion[]>;
  compatibility(subject: string | null): Promise<CompatibilityMode | undefined>;
  transact<T>(change: (transaction: RegistryTransaction) => Promise<T>): Promise<T>;
  /**
   * Calls `listener` after a registry change committed, in this process or (PostgreSQL) another
   * one, so that caches of schemas drop what they hold. Returns an unsubscribe.
   */
  onChange(listener: () => void): () => void;
}
