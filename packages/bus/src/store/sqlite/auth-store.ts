import type { Database } from "better-sqlite3";
import type { AuthStore, StoredApiKey, StoredPrincipal } from "../../auth/auth-store.js";
import type { Grants } from "../../auth/grants.js";
import type { RunWriteOperation } from "./write-operations.js";

interface KeyRow {
  id: string;
  principal: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

interface PrincipalRow {
  name: string;
  grants: string;
  created_at: string;
}

const toKey = (row: KeyRow): StoredApiKey => ({
  id: row.id,
  principal: row.principal,
  secretHash: row.secret_hash,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

const toPrincipal = (row: PrincipalRow): StoredPrincipal => ({
  name: row.name,
  grants: JSON.parse(row.grants) as Grants,
  createdAt: row.created_at,
});

function prepareReads(db: Database) {
  return {
    principal: db.prepare<[string], PrincipalRow>(
      "SELECT name, grants, created_at FROM auth_principals WHERE name = ?",
    ),
    principals: db.prepare<[], PrincipalRow>(
      "SELECT name, grants, created_at FROM auth_principals ORDER BY name",
    ),
    key: db.prepare<[string], KeyRow>("SELECT * FROM auth_keys WHERE id = ?"),
    keys: db.prepare<[], KeyRow>("SELECT * FROM auth_keys ORDER BY created_at, id"),
    countKeys: db.prepare<[], number>("SELECT count(*) FROM auth_keys").pluck(),
  };
}

export interface SqliteAuthStoreOptions {
  /** The store's reading connection. */
  db: Database;
  /** Runs work on the open database, mapping driver failures to store errors. */
  read<T>(work: () => T): Promise<T>;
  /** Runs a write on the store's writing connection. */
  write: RunWriteOperation;
}

/**
 * Principals and keys on SQLite: reads on the store's own connection, each change one durable
 * transaction of the store's writer (the grants of a key's principal are merged inside it).
 */
export function createSqliteAuthStore({ db, read, write }: SqliteAuthStoreOptions): AuthStore {
  let statements: ReturnType<typeof prepareReads> | undefined;
  const prepared = () => {
    statements ??= prepareReads(db);
    return statements;
  };

  return {
    createKey: (key) => write("createKey", key),
    key: (id) =>
      read(() => {
        const row = prepared().key.get(id);
        return row === undefined ? undefined : toKey(row);
      }),
    keys: () => read(() => prepared().keys.all().map(toKey)),
    revokeKey: (id, at) => write("revokeKey", id, at),
    principal: (name) =>
      read(() => {
        const row = prepared().principal.get(name);
        return row === undefined ? undefined : toPrincipal(row);
      }),
    principals: () => read(() => prepared().principals.all().map(toPrincipal)),
    putPrincipal: (name, grants, createdAt) => write("putPrincipal", name, grants, createdAt),
    countKeys: () => read(() => prepared().countKeys.get() ?? 0),
  };
}
