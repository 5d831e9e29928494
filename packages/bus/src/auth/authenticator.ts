import { TributaryError } from "@tributary/protocol";
import { generateApiKey, parseApiKey, secretMatches } from "./api-keys.js";
import type { AuthStore, StoredApiKey, StoredPrincipal } from "./auth-store.js";
import { type Grants, isValidPattern } from "./grants.js";
import { LruCache } from "./lru-cache.js";
import { createFailureLimiter, defaultFailureLimits, type FailureLimits } from "./rate-limiter.js";

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
  /**
   * The principal of an `Authorization: Bearer <key>` header, or undefined when it proves nothing.
   * A header that fails (malformed, unknown or revoked key, wrong secret) counts against `client`'s
   * budget of failures (its address); over it, the attempt rejects `rate-limited`, before any store
   * lookup. A valid key gives its token back; a key found valid lately is looked up again without
   * one. No header costs nothing. Rejects `store-unavailable` when the store is needed and down.
   */
  authenticate(authorization: string | undefined, client: string): Promise<Principal | undefined>;
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
   * How long a looked-up key, an unknown key id, and whether any key exists are trusted from cache
   * (default 1000). A key created, revoked or a grant changed through another bus process takes
   * effect here within this time; through this process, at once.
   */
  cacheMs?: number;
  /** Failed authentications per client address (default `defaultFailureLimits`). */
  failureLimits?: FailureLimits;
}

const principalOf = (found: { key: StoredApiKey; grants: Grants }): Principal => ({
  name: found.key.principal,
  keyId: found.key.id,
  grants: found.grants,
});

const overFailureBudget = (retryAfterMs: number) =>
  new TributaryError("rate-limited", {
    message: `too many failed authentications from this address; retry in ${retryAfterMs} ms`,
    details: { retryAfterMs },
  });

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

/** A key found valid, with its principal's grants. */
interface KnownKey {
  key: StoredApiKey;
  grants: Grants;
  /** Trusted without asking the store until then (epoch ms); after it, looked up again first. */
  until: number;
}

/** Keys known valid, at most; past it the least recently used is forgotten. */
const maxKnownKeys = 10_000;
/** Key ids known to be unknown or revoked, at most; past it the least recently used is forgotten. */
const maxUnknownKeys = 10_000;

const noGrants: Grants = { produce: [], consume: [], admin: false };

/**
 * API keys checked against the store, cached so that a request rarely costs a lookup: keys found
 * valid are trusted for `cacheMs`, then looked up again; ids found unknown or revoked are answered
 * from memory for `cacheMs`. Each cache holds 10,000 entries and, when full, forgets the least
 * recently used one. Failed authentications are limited per client address (`failureLimits`), so
 * a flood of random keys costs the store at most an address's budget.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { store } = options;
  const cacheMs = options.cacheMs ?? 1000;
  const failures = createFailureLimiter(options.failureLimits ?? defaultFailureLimits);
  let required: { value: Promise<boolean>; until: number } | undefined;
  const known = new LruCache<string, KnownKey>(maxKnownKeys);
  /** Key id → until when it is taken as unknown without asking the store (epoch ms). */
  const unknown = new LruCache<string, number>(maxUnknownKeys);
  /** Lookups under way: concurrent requests with one key id share one. */
  const inFlight = new Map<string, Promise<KnownKey | undefined>>();
  /** Moves on each change made here: a lookup that began before it must not fill the caches. */
  let generation = 0;

  /** After a change made through this process: every key is looked up again before its next use. */
  const forget = () => {
    required = undefined;
    generation += 1;
    inFlight.clear();
    // Still known to have been valid (see `authenticate`), just no longer trusted without a lookup.
    for (const entry of known.values()) entry.until = 0;
  };

  const lookUp = (id: string): Promise<KnownKey | undefined> => {
    const pending = inFlight.get(id);
    if (pending !== undefined) return pending;
    const startedIn = generation;
    const lookup: Promise<KnownKey | undefined> = (async () => {
      const key = await store.key(id);
      if (key === undefined || key.revokedAt !== null) return undefined;
      const principal = await store.principal(key.principal);
      return { key, grants: principal?.grants ?? noGrants, until: 0 };
    })()
      .then((found) => {
        if (generation === startedIn) {
          const until = Date.now() + cacheMs;
          if (found === undefined) {
            known.delete(id);
            unknown.set(id, until);
          } else {
            found.until = until;
            known.set(id, found);
          }
        }
        return found;
      })
      .finally(() => {
        if (inFlight.get(id) === lookup) inFlight.delete(id);
      });
    inFlight.set(id, lookup);
    return lookup;
  };

  /** Takes a token for a failure of `client`'s; over its budget, the failure is a 429. */
  const charge = (client: string) => {
    const taken = failures.take(client);
    if (!taken.ok) throw overFailureBudget(taken.retryAfterMs);
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

    async authenticate(authorization, client) {
      if (authorization === undefined) return undefined;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      const parsed = match === null ? undefined : parseApiKey(match[1] as string);
      if (parsed === undefined) {
        charge(client);
        return undefined;
      }
      const now = Date.now();
      const cached = known.get(parsed.id);
      let found: KnownKey | undefined;
      if (cached !== undefined && cached.until > now) {
        found = cached;
      } else if (cached !== undefined) {
        // A key valid lately is looked up again without a token: an address that others flood with
        // random keys (a shared NAT) keeps its working keys working. One lookup per id and cacheMs.
        found = await lookUp(parsed.id);
      } else if ((unknown.get(parsed.id) ?? 0) > now) {
        found = undefined;
      } else {
        // A store lookup for a key nobody has seen: the token is taken first, so an address over its
        // budget costs the store nothing, and given back if the key proves valid.
        charge(client);
        try {
          found = await lookUp(parsed.id);
        } catch (error) {
          failures.giveBack(client);
          throw error;
        }
        if (found !== undefined && secretMatches(parsed.secret, found.key.secretHash)) {
          failures.giveBack(client);
          return principalOf(found);
        }
        return undefined;
      }
      if (found !== undefined && secretMatches(parsed.secret, found.key.secretHash))
        return principalOf(found);
      charge(client);
      return undefined;
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
      unknown.delete(generated.id);
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
