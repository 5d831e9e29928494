/**
 * What a principal may do. Patterns are names with `*` matching any run of characters
 * (`orders.*`, `*`). `produce` patterns match topics; `consume` patterns match topics, or, written
 * `subscription:<pattern>`, subscriptions. `admin` may do everything.
 */
export interface Grants {
  produce: string[];
  consume: string[];
  admin: boolean;
}

/** What a route needs. */
export type Permission =
  | { kind: "produce"; topic: string }
  | { kind: "consume"; topic: string }
  | { kind: "consume-subscription"; subscription: string; topic: string | undefined }
  | { kind: "admin" }
  /** Any valid key: reads of shared, non-event data (topic list, schemas, metrics). */
  | { kind: "authenticated" };

export const subscriptionPatternPrefix = "subscription:";

/** Valid pattern text: the name characters of topics and subscriptions, plus `*`. */
const patternText = /^[A-Za-z0-9._:*-]{1,200}$/;

export function isValidPattern(pattern: string): boolean {
  const bare = pattern.startsWith(subscriptionPatternPrefix)
    ? pattern.slice(subscriptionPatternPrefix.length)
    : pattern;
  return bare.length > 0 && patternText.test(bare) && !bare.includes(":");
}

const compiled = new Map<string, RegExp>();

/** Whether a glob pattern (`*` = any characters) matches the whole name. */
export function matchesPattern(pattern: string, name: string): boolean {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    const source = pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
      .join(".*");
    regex = new RegExp(`^${source}$`);
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, regex);
  }
  return regex.test(name);
}

const topicPatterns = (patterns: string[]) =>
  patterns.filter((p) => !p.startsWith(subscriptionPatternPrefix));
const subscriptionPatterns = (patterns: string[]) =>
  patterns
    .filter((p) => p.startsWith(subscriptionPatternPrefix))
    .map((p) => p.slice(subscriptionPatternPrefix.length));

/**
 * Whether grants allow a permission. A subscription's operations are allowed by a `consume` on its
 * topic (a service reading a topic runs its own consumer groups) or by a `subscription:` pattern
 * matching its name.
 */
export function isAllowed(grants: Grants, permission: Permission): boolean {
  if (grants.admin) return true;
  switch (permission.kind) {
    case "authenticated":
      return true;
    case "admin":
      return false;
    case "produce":
      return grants.produce.some((pattern) => matchesPattern(pattern, permission.topic));
    case "consume":
      return topicPatterns(grants.consume).some((pattern) => matchesPattern(pattern, permission.topic));
    case "consume-subscription":
      return (
        subscriptionPatterns(grants.consume).some((pattern) =>
          matchesPattern(pattern, permission.subscription),
        ) ||
        (permission.topic !== undefined &&
          topicPatterns(grants.consume).some((pattern) =>
            matchesPattern(pattern, permission.topic as string),
          ))
      );
  }
}

/** The permission as words, for a 403's message. */
export function describePermission(permission: Permission): string {
  switch (permission.kind) {
    case "produce":
      return `produce on topic ${permission.topic}`;
    case "consume":
      return `consume on topic ${permission.topic}`;
    case "consume-subscription":
      return `consume on subscription ${permission.subscription}${permission.topic === undefined ? "" : ` or its topic ${permission.topic}`}`;
    case "admin":
      return "admin";
    case "authenticated":
      return "a valid key";
  }
}

/** Grants merged: the union of patterns, admin if either is. */
export function mergeGrants(left: Grants, right: Grants): Grants {
  return {
    produce: [...new Set([...left.produce, ...right.produce])].sort(),
    consume: [...new Set([...left.consume, ...right.consume])].sort(),
    admin: left.admin || right.admin,
  };
}
