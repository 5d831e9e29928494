import type { Sql } from "postgres";
import type { AuthStore, StoredApiKey, StoredPrincipal } from "../../auth/auth-store.js";
import { type Grants, mergeGrants } from "../../auth/grants.js";
import { withTransaction } from "./transaction.js";

interface KeyRow {
  id: string;
  principal: string;
  secret_hash: string;
  created_at: Date;
  revoked_at: Date | null;
}

interface PrincipalRow {
  name: string;
  grants: Grants;
  created_at: Date;
}

const toKey = (row: KeyRow): StoredApiKey => ({
  id: row.id,
  principal: row.principal,
  secretHash: row.secret_hash,
  createdAt: row.created_at.toISOString(),
  revokedAt: row.revoked_at?.toISOString() ?? null,
});

const toPrincipal = (row: PrincipalRow): StoredPrincipal => ({
  name: row.name,
  grants: row.grants,
  createdAt: row.created_at.toISOString(),
});

/** Principals and keys on PostgreSQL. A key's creation locks its principal's row for the merge. */
export function createPostgresAuthStore(run: <T>(work: (sql: Sql) => Promise<T>) => Promise<T>): AuthStore {
  return {
    createKey: (key) =>
      run((pool) =>
        withTransaction(pool, async (sql) => {
          await sql`
            INSERT INTO auth_principals (name, grants, created_at)
            VALUES (${key.principal}, ${JSON.stringify({ produce: [], consume: [], admin: false })}::text::jsonb, ${key.createdAt})
            ON CONFLICT (name) DO NOTHING`;
          const [row] = await sql<PrincipalRow[]>`
            SELECT name, grants, created_at FROM auth_principals WHERE name = ${key.principal} FOR UPDATE`;
          const grants = mergeGrants((row as PrincipalRow).grants, key.grants);
          await sql`
            UPDATE auth_principals SET grants = ${JSON.stringify(grants)}::text::jsonb WHERE name = ${key.principal}`;
          await sql`
            INSERT INTO auth_keys (id, principal, secret_hash, created_at)
            VALUES (${key.id}, ${key.principal}, ${key.secretHash}, ${key.createdAt})`;
        }),
      ),
    key: (id) =>
      run(async (sql) => {
        const [row] = await sql<KeyRow[]>`SELECT * FROM auth_keys WHERE id = ${id}`;
        return row === undefined ? undefined : toKey(row);
      }),
    keys: () =>
      run(async (sql) => (await sql<KeyRow[]>`SELECT * FROM auth_keys ORDER BY created_at, id`).map(toKey)),
    revokeKey: (id, at) =>
      run(async (sql) => {
        const result =
          await sql`UPDATE auth_keys SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`;
        return result.count > 0;
      }),
    principal: (name) =>
      run(async (sql) => {
        const [row] = await sql<PrincipalRow[]>`
          SELECT name, grants, created_at FROM auth_principals WHERE name = ${name}`;
        return row === undefined ? undefined : toPrincipal(row);
      }),
    principals: () =>
      run(async (sql) =>
        (await sql<PrincipalRow[]>`SELECT name, grants, created_at FROM auth_principals ORDER BY name`).map(
          toPrincipal,
        ),
      ),
    putPrincipal: (name, grants, createdAt) =>
      run(async (sql) => {
        await sql`
          INSERT INTO auth_principals (name, grants, created_at)
          VALUES (${name}, ${JSON.stringify(grants)}::text::jsonb, ${createdAt})
          ON CONFLICT (name) DO UPDATE SET grants = excluded.grants`;
      }),
    countKeys: () =>
      run(async (sql) => {
        const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM auth_keys`;
        return Number(row?.n ?? 0);
      }),
  };
}
