import { limits, type TopicInfo, type TopicSettings, TributaryError } from "@tributary/protocol";
import type { Database, Statement } from "better-sqlite3";
import { canonicalJson } from "../../append/canonical-json.js";
import { type Grants, mergeGrants } from "../../auth/grants.js";
import type { SqliteStatements } from "./statements.js";
import { insertTopic, toTopicInfo } from "./topic-rows.js";
import type { WriteStatement } from "./writer-protocol.js";

/** A key to store with the grants its principal gains. */
export interface NewApiKey {
  id: string;
  principal: string;
  secretHash: string;
  grants: Grants;
  createdAt: string;
}

/**
 * Every write of a SQLite store besides appends and migrations, each one `BEGIN IMMEDIATE`
 * transaction on the connection that writes: the writer thread's, or the single connection of a
 * `":memory:"` store. Arguments and results cross between threads, so they are plain data.
 */
export interface WriteOperations {
  /**
   * Creates the topic, or sets the retention and validation given for an existing one; the check
   * against its partition count (`topic-conflict`) runs under the write lock, so an append that
   * creates the topic meanwhile is seen.
   */
  putTopic(name: string, settings: TopicSettings): { topic: TopicInfo; created: boolean };
  /** Creates the principal when new, adds the key's grants to its grants, stores the key. */
  createKey(key: NewApiKey): void;
  /** Marks a key revoked; false when there is none, or it was revoked already. */
  revokeKey(id: string, at: string): boolean;
  putPrincipal(name: string, grants: Grants, createdAt: string): void;
  /**
   * Runs fixed statements together (subscription state, registry changes). Not `durable`: the
   * commit does not wait for the disk (`synchronous = NORMAL`), which is for updates that only
   * cause redelivery when lost.
   */
  statements(statements: WriteStatement[], durable: boolean): void;
}

export type WriteOperationName = keyof WriteOperations;

/** One operation as it is sent to the writer thread. */
export type WriteOperation = {
  [Name in WriteOperationName]: { name: Name; args: Parameters<WriteOperations[Name]> };
}[WriteOperationName];

/** Runs an operation by name; resolves with its result once committed, rejects with its error. */
export type RunWriteOperation = <Name extends WriteOperationName>(
  name: Name,
  ...args: Parameters<WriteOperations[Name]>
) => Promise<ReturnType<WriteOperations[Name]>>;

/** Runs a received operation on `operations`. */
export function applyWriteOperation(operations: WriteOperations, operation: WriteOperation): unknown {
  const run = operations[operation.name] as (...args: unknown[]) => unknown;
  return run(...operation.args);
}

/**
 * The write operations on `db`, whose fixed statements are `statements`. The few statements of
 * its own are prepared on first use (the tables exist only after migration), each once; so are
 * the statements of `statements()` requests, by SQL text, of which there are a few dozen.
 */
export function createWriteOperations(db: Database, statements: () => SqliteStatements): WriteOperations {
  let own: ReturnType<typeof prepareOwn> | undefined;
  const prepared = () => {
    own ??= prepareOwn(db);
    return own;
  };
  const bySql = new Map<string, Statement<unknown[]>>();

  const putTopic = db.transaction((name: string, settings: TopicSettings) => {
    const fixed = statements();
    const existing = fixed.selectTopic.get(name);
    if (existing === undefined) {
      const partitions = settings.partitions ?? limits.defaultPartitions;
      insertTopic(
        fixed,
        name,
        partitions,
        JSON.stringify(settings.retention ?? {}),
        new Date().toISOString(),
      );
      if (settings.validation !== undefined) fixed.updateValidation.run(settings.validation, name);
    } else {
      if (settings.partitions !== undefined && settings.partitions !== existing.partitions) {
        throw new TributaryError("topic-conflict", {
          message: `Topic "${name}" exists with ${existing.partitions} partitions, not ${settings.partitions}`,
          details: { topic: name, partitions: existing.partitions, requestedPartitions: settings.partitions },
        });
      }
      if (
        settings.retention !== undefined &&
        canonicalJson(settings.retention) !== canonicalJson(JSON.parse(existing.retention))
      ) {
        fixed.updateRetention.run(JSON.stringify(settings.retention), name);
      }
      if (settings.validation !== undefined && settings.validation !== existing.validation) {
        fixed.updateValidation.run(settings.validation, name);
      }
    }
    const row = fixed.selectTopic.get(name);
    if (row === undefined) throw new Error(`topic "${name}" vanished inside its transaction`);
    return { topic: toTopicInfo(row, fixed.selectHeads.all(name)), created: existing === undefined };
  });

  const createKey = db.transaction((key: NewApiKey) => {
    const own = prepared();
    const existing = own.selectPrincipalGrants.get(key.principal);
    const grants =
      existing === undefined ? key.grants : mergeGrants(JSON.parse(existing.grants) as Grants, key.grants);
    own.upsertPrincipal.run(key.principal, JSON.stringify(grants), existing?.created_at ?? key.createdAt);
    own.insertKey.run(key.id, key.principal, key.secretHash, key.createdAt);
  });

  const runStatements = db.transaction((toRun: WriteStatement[]) => {
    for (const { sql, params } of toRun) {
      let statement = bySql.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        bySql.set(sql, statement);
      }
      statement.run(...params);
    }
  });

  return {
    putTopic: (name, settings) => putTopic.immediate(name, settings),
    createKey: (key) => createKey.immediate(key),
    // A single statement is a transaction of its own; IMMEDIATE adds nothing to it.
    revokeKey: (id, at) => prepared().revokeKey.run(at, id).changes > 0,
    putPrincipal(name, grants, createdAt) {
      prepared().upsertPrincipal.run(name, JSON.stringify(grants), createdAt);
    },
    statements(toRun, durable) {
      if (durable) {
        runStatements.immediate(toRun);
        return;
      }
      db.pragma("synchronous = NORMAL");
      try {
        runStatements.immediate(toRun);
      } finally {
        db.pragma("synchronous = FULL");
      }
    },
  };
}

function prepareOwn(db: Database) {
  return {
    selectPrincipalGrants: db.prepare<[string], { grants: string; created_at: string }>(
      "SELECT grants, created_at FROM auth_principals WHERE name = ?",
    ),
    upsertPrincipal: db.prepare<[string, string, string]>(
      `INSERT INTO auth_principals (name, grants, created_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET grants = excluded.grants`,
    ),
    insertKey: db.prepare<[string, string, string, string]>(
      "INSERT INTO auth_keys (id, principal, secret_hash, created_at) VALUES (?, ?, ?, ?)",
    ),
    revokeKey: db.prepare<[string, string]>(
      "UPDATE auth_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    ),
  };
}
