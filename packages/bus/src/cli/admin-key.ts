import { readFileSync } from "node:fs";
import { hashSecret, parseApiKey, secretMatches } from "../auth/api-keys.js";
import type { AuthStore } from "../auth/auth-store.js";

/** The principal that an admin key given at start belongs to. */
export const bootstrapPrincipal = "admin";

/** Where the admin key given at start comes from: the file it is in, or the environment. */
export type AdminKeySource = { file: string } | { env: "TRIBUTARY_ADMIN_KEY" };

/** How `ensureAdminKey` found the store. */
export type AdminKeyOutcome =
  /** The store had no key: the admin key is now its first. */
  | "created"
  /** The key is in the store already (an earlier start, or another replica starting at once). */
  | "present"
  /** The key is in the store and was revoked: it stays revoked. */
  | "revoked"
  /** The store has other keys and not this one: nothing was created. */
  | "ignored";

const keyShape = "trb_<12 hex digits>_<43 base64url characters>, as `tributary keys generate` prints";

function describe(source: AdminKeySource): string {
  return "file" in source ? `TRIBUTARY_ADMIN_KEY_FILE (${source.file})` : "TRIBUTARY_ADMIN_KEY";
}

/**
 * Reads the admin key from its source and checks its shape. Surrounding white space (the newline
 * of a secret file) is ignored. Throws an Error fit for the terminal that names the source, never
 * what it holds, when the file cannot be read or its content is not a key.
 */
export function readAdminKey(source: AdminKeySource, env: Record<string, string | undefined>): string {
  let text: string;
  if ("file" in source) {
    try {
      text = readFileSync(source.file, "utf8");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw new Error(`cannot read the admin key from ${describe(source)}: ${reason}`);
    }
  } else {
    text = env[source.env] ?? "";
  }
  const key = text.trim();
  if (parseApiKey(key) === undefined) {
    throw new Error(`${describe(source)} does not hold an API key: a key looks like ${keyShape}`);
  }
  return key;
}

/**
 * Makes `key` the store's first API key, for the principal `admin` with the `admin` grant, when the
 * store has no key yet. Idempotent: a key already stored is left as it is, revoked or not, so
 * revoking it holds across restarts; and a store that has other keys gets nothing, so the key only
 * opens a fresh store. Safe when several processes start at once with the same key: one stores it,
 * the others find it. Refuses a key whose id is stored with another secret.
 */
export async function ensureAdminKey(store: AuthStore, key: string): Promise<AdminKeyOutcome> {
  const parsed = parseApiKey(key);
  if (parsed === undefined) throw new Error(`not an API key: a key looks like ${keyShape}`);
  const found = async (): Promise<AdminKeyOutcome | undefined> => {
    const stored = await store.key(parsed.id);
    if (stored === undefined) return undefined;
    if (!secretMatches(parsed.secret, stored.secretHash)) {
      throw new Error(`the store holds another key with the admin key's id ${parsed.id}`);
    }
    return stored.revokedAt === null ? "present" : "revoked";
  };
  const before = await found();
  if (before !== undefined) return before;
  if ((await store.countKeys()) > 0) return "ignored";
  try {
    await store.createKey({
      id: parsed.id,
      principal: bootstrapPrincipal,
      secretHash: hashSecret(parsed.secret),
      grants: { produce: [], consume: [], admin: true },
      createdAt: new Date().toISOString(),
    });
    return "created";
  } catch (error) {
    // Another process starting with the same key stored it first: its insert won the unique id.
    const after = await found();
    if (after !== undefined) return after;
    throw error;
  }
}
