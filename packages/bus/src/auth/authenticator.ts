import { TributaryError } from "@tributary/protocol";
import { generateApiKey, parseApiKey, secretMatches } from "./api-keys.js";
import type { AuthStore, StoredApiKey, StoredPrincipal } from "./auth-store.js";
import { type Grants, isValidPattern } from "./grants.js";

/** Who a request is: the principal of its key, with the principal's grants. */
export interface Principal {
  name: string;
  keyId: string;
  grants: Grants;
}

/** A key as listed: never its secret or hash. */
export interface ApiKeyInfo {
  id: string;
  principal: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface Authenticator {
  /** Whether requests need a key: once any key was created in the store (revoked ones count). */
  isRequired(): Promise<boolean>;
  /** The principal of an `Authorization: Bearer <key>` header, or undefined when it proves nothing. */
  authenticate(authorization: string | undefined): Promise<Principal | undefined>;
  /** Stores a new key for a principal (created when new; `grants` added to its grants). */
  createKey(principal: string, grants: Grants): Promise<{ key: string; info: ApiKeyInfo }>;
  revokeKey(id: string): Promise<boolean>;
  listKeys(): Promise<ApiKeyInfo[]>;
  listPrincipals(): Promise<StoredPrincipal[]>;
  /** Replaces a principal's grants, creating the principal when new. */
  putPrincipal(name: string, grants: Grants): Promise<StoredPrincipal>;
}

export interface AuthenticatorOptions {
  store: AuthStore;
  /**
   * How long a looked-up key (and whether any key exists) is trusted from cache. A key revoked or
   * a grant changed through another bus process takes effect here within this time; through this
   * process, at once.
   */
  cacheMs?: number;
}

/** Principal names: like topic names, but upper case and `@` too (service or user names). */
export const principalPattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

function assertPrincipal(name: string): void {
  if (!principalPattern.test(name)) {
    throw new TributaryError("invalid-request", {
      message: "a principal name matches [A-Za-z0-9][A-Za-z0-9._@-]{0,127}",
      details: {
        errors: [{ pointer: "/principal", message: "must match [A-Za-z0-9][A-Za-z0-9._@-]{0,127}" }],
      },
    });
  }
}

export function assertGrants(grants: Grants): void {
  const bad = [...grants.produce, ...grants.consume].filter((pattern) => !isValidPattern(pattern));
  if (bad.length > 0) {
    throw new TributaryError("invalid-request", {
      message: `invalid patterns: ${bad.map((pattern) => JSON.stringify(pattern)).join(", ")}; a pattern is a topic name with * wildcards, or subscription:<name pattern>`,
      details: {
        errors: bad.map((pattern) => ({ pointer: "/grants", message: `invalid pattern ${pattern}` })),
      },
    });
  }
}

const toInfo = (key: StoredApiKey): ApiKeyInfo => ({
  id: key.id,
  principal: key.principal,
  createdAt: key.createdAt,
  revokedAt: key.revokedAt,
});

/** Cached entries at most; past it the cache starts over (keys are few, invalid ids many). */
const maxCachedKeys = 10_000;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { store } = options;
  const cacheMs = options.cacheMs ?? 1000;
  let required: { value: Promise<boolean>; until: number } | undefined;
  /** Key id → the key and its principal's grants (undefined: no such key, or revoked). */
  let keys = new Map<
    string,
    { entry: Promise<{ key: StoredApiKey; grants: Grants } | undefined>; until: number }
  >();
  const forget = () => {
    required = undefined;
    keys = new Map();
  };

  const lookUp = (id: string) => {
    const now = Date.now();
    const cached = keys.get(id);
    if (cached !== undefined && cached.until > now) return cached.entry;
    const entry = (async () => {
      const key = await store.key(id);
      if (key === undefined || key.revokedAt !== null) return undefined;
      const principal = await store.principal(key.principal);
      return { key, grants: principal?.grants ?? { produce: [], consume: [], admin: false } };
    })();
    if (keys.size >= maxCachedKeys) keys = new Map();
    const record = { entry, until: now + cacheMs };
    keys.set(id, record);
    entry.catch(() => {
      if (keys.get(id) === record) keys.delete(id);
    });
    return entry;
  };

  return {
    isRequired() {
      const now = Date.now();
      if (required === undefined || required.until <= now) {
        const value = store.countKeys().then((count) => count > 0);
        const record = { value, until: now + cacheMs };
        required = record;
        value.catch(() => {
          if (required === record) required = undefined;
        });
      }
      return required.value;
    },

    async authenticate(authorization) {
      if (authorization === undefined) return undefined;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      const parsed = match === null ? undefined : parseApiKey(match[1] as string);
      if (parsed === undefined) return undefined;
      const found = await lookUp(parsed.id);
      if (found === undefined || !secretMatches(parsed.secret, found.key.secretHash)) return undefined;
      return { name: found.key.principal, keyId: found.key.id, grants: found.grants };
    },

    async createKey(principal, grants) {
      assertPrincipal(principal);
      assertGrants(grants);
      const generated = generateApiKey();
      const createdAt = new Date().toISOString();
      await store.createKey({
        id: generated.id,
        principal,
        secretHash: generated.secretHash,
        grants,
        createdAt,
      });
      forget();
      return { key: generated.key, info: { id: generated.id, principal, createdAt, revokedAt: null } };
    },

    async revokeKey(id) {
      const revoked = await store.revokeKey(id, new Date().toISOString());
      forget();
      return revoked;
    },

    async listKeys() {
      return (await store.keys()).map(toInfo);
    },

    listPrincipals: () => store.principals(),

    async putPrincipal(name, grants) {
      assertPrincipal(name);
      assertGrants(grants);
      const existing = await store.principal(name);
      const createdAt = existing?.createdAt ?? new Date().toISOString();
      await store.putPrincipal(name, grants, createdAt);
      forget();
      return { name, grants, createdAt };
    },
  };
}
