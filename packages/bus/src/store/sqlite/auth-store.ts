import type { Database } from "better-sqlite3";
import type { AuthStore, StoredApiKey, StoredPrincipal } from "../../auth/auth-store.js";
import { type Grants, mergeGrants } from "../../auth/grants.js";

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

export interface SqliteAuthStoreOptions {
  db: Database;
  /** Runs work on the open database, mapping driver failures to store errors. */
  run<T>(work: () => T): Promise<T>;
}

/**
 * Principals and keys on SQLite, on the store's own connection: a few rows written rarely, each
 * change one synchronous IMMEDIATE transaction, durable when it returns.
 */
export function createSqliteAuthStore({ db, run }: SqliteAuthStoreOptions): AuthStore {
  const principalOf = (name: string) =>
    db.prepare("SELECT name, grants, created_at FROM auth_principals WHERE name = ?").get(name) as
      | PrincipalRow
      | undefined;
  const writePrincipal = (name: string, grants: Grants, createdAt: string) =>
    db
      .prepare(
        `INSERT INTO auth_principals (name, grants, created_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET grants = excluded.grants`,
      )
      .run(name, JSON.stringify(grants), createdAt);

  return {
    createKey: (key) =>
      run(() =>
        db
          .transaction(() => {
            const existing = principalOf(key.principal);
            const grants =
              existing === undefined ? key.grants : mergeGrants(toPrincipal(existing).grants, key.grants);
            writePrincipal(key.principal, grants, existing?.created_at ?? key.createdAt);
            db.prepare(
              "INSERT INTO auth_keys (id, principal, secret_hash, created_at) VALUES (?, ?, ?, ?)",
            ).run(key.id, key.principal, key.secretHash, key.createdAt);
          })
          .immediate(),
      ),
    key: (id) =>
      run(() => {
        const row = db.prepare("SELECT * FROM auth_keys WHERE id = ?").get(id) as KeyRow | undefined;
        return row === undefined ? undefined : toKey(row);
      }),
    keys: () =>
      run(() => (db.prepare("SELECT * FROM auth_keys ORDER BY created_at, id").all() as KeyRow[]).map(toKey)),
    revokeKey: (id, at) =>
      run(
        () =>
          db.prepare("UPDATE auth_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(at, id)
            .changes > 0,
      ),
    principal: (name) =>
      run(() => {
        const row = principalOf(name);
        return row === undefined ? undefined : toPrincipal(row);
      }),
    principals: () =>
      run(() =>
        (
          db
            .prepare("SELECT name, grants, created_at FROM auth_principals ORDER BY name")
            .all() as PrincipalRow[]
        ).map(toPrincipal),
      ),
    putPrincipal: (name, grants, createdAt) =>
      run(() => {
        db.transaction(() => writePrincipal(name, grants, createdAt)).immediate();
      }),
    countKeys: () => run(() => (db.prepare("SELECT count(*) AS n FROM auth_keys").get() as { n: number }).n),
  };
}
