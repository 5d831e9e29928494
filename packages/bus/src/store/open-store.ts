import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { EventStore } from "./event-store.js";
import { createPostgresStore } from "./postgres/index.js";
import { createSqliteStore } from "./sqlite/index.js";
import type { StoreObserver } from "./store-observer.js";

/** The default store of `tributary serve`: an embedded SQLite file under `./data`. */
export const defaultStoreUrl = "sqlite:./data/tributary.db";

export interface OpenStoreOptions {
  /** Hears of the store's failures that nobody waits for (logs, metrics). */
  observer?: StoreObserver;
}

/**
 * Opens the store a URL names: `sqlite:PATH` (a file, created with its folder when missing) or
 * `postgres://…` / `postgresql://…` (an optional `?schema=NAME` picks the schema). The store is not
 * migrated yet.
 */
export function openStore(url: string, options: OpenStoreOptions = {}): EventStore {
  const observer = options.observer === undefined ? {} : { observer: options.observer };
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "") throw new Error("the sqlite store URL needs a path: sqlite:./data/tributary.db");
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    return createSqliteStore({ path, ...observer });
  }
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get("schema") ?? undefined;
    parsed.searchParams.delete("schema");
    return createPostgresStore({
      url: parsed.toString(),
      ...(schema === undefined ? {} : { schema }),
      ...observer,
    });
  }
  throw new Error(`unknown store URL "${url}": use sqlite:PATH or postgres://user@host:port/database`);
}

/** The store URL with any password masked, for logs. */
export function describeStoreUrl(url: string): string {
  if (!url.startsWith("postgres")) return url;
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
