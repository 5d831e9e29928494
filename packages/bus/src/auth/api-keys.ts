import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * API keys look like `trb_<id>_<secret>`: the id (12 hex characters) finds the key's row, the
 * secret (32 random bytes, base64url) proves it. The store keeps the id and the SHA-256 of the
 * secret, never the secret. A fast hash is right here, unlike for passwords: a 256-bit random
 * secret cannot be guessed from its hash, so a slow hash would only slow every request.
 */
export interface NewApiKey {
  id: string;
  /** The whole key, to show once. */
  key: string;
  secretHash: string;
}

const keyPattern = /^trb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function generateApiKey(): NewApiKey {
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { id, key: `trb_${id}_${secret}`, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

/** The id and secret of a well-formed key, or undefined. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = keyPattern.exec(key);
  if (match === null) return undefined;
  return { id: match[1] as string, secret: match[2] as string };
}

/** Compares a secret with a stored hash in constant time. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret));
  const expected = Buffer.from(secretHash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
