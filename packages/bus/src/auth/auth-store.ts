import type { Grants } from "./grants.js";

/** An API key as stored: never its secret, only the secret's hash. */
export interface StoredApiKey {
  id: string;
  principal: string;
  secretHash: string;
  createdAt: string;
  /** When it was revoked; a revoked key authenticates nothing. */
  revokedAt: string | null;
}

export interface StoredPrincipal {
  name: string;
  grants: Grants;
  createdAt: string;
}

/**
 * Principals, their grants and their API keys, in the store's database. Writes are durable before
 * they resolve; reads see what any bus process committed.
 */
export interface AuthStore {
  /** Creates the principal when new, adds `grants` to its grants, and stores the key. */
  createKey(key: {
    id: string;
    principal: string;
    secretHash: string;
    grants: Grants;
    createdAt: string;
  }): Promise<void>;
  key(id: string): Promise<StoredApiKey | undefined>;
  keys(): Promise<StoredApiKey[]>;
  /** Marks a key revoked; false when there is no such key (or it was revoked already). */
  revokeKey(id: string, at: string): Promise<boolean>;
  principal(name: string): Promise<StoredPrincipal | undefined>;
  principals(): Promise<StoredPrincipal[]>;
  /** Replaces a principal's grants (creating it when new). */
  putPrincipal(name: string, grants: Grants, createdAt: string): Promise<void>;
  /**
   * How many keys were ever created, revoked ones included: with none, the bus runs open. Revoking
   * the last key must not open the bus again.
   */
  countKeys(): Promise<number>;
}
