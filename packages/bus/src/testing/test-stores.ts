import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventStore } from "../store/event-store.js";
import { openStore } from "../store/open-store.js";
import { createTestSchema } from "./postgres-test-schema.js";

export type StoreKind = "sqlite" | "postgres";

export const storeKinds: StoreKind[] = ["sqlite", "postgres"];

export interface TestStoreUrl {
  /** A store URL for `openStore` or `tributary serve --store`. */
  url: string;
  /** Removes the temp file or drops the schema. */
  cleanup(): Promise<void>;
}

/** A fresh, empty store location: a temp SQLite file, or a new PostgreSQL schema. */
export async function createTestStoreUrl(kind: StoreKind): Promise<TestStoreUrl> {
  if (kind === "sqlite") {
    const folder = mkdtempSync(join(tmpdir(), "tributary-test-"));
    return {
      url: `sqlite:${join(folder, "tributary.db")}`,
      cleanup: async () => rmSync(folder, { recursive: true, force: true }),
    };
  }
  const schema = await createTestSchema();
  const url = new URL(schema.url);
  url.searchParams.set("schema", schema.schema);
  return { url: url.toString(), cleanup: () => schema.drop() };
}

export interface TestStore extends TestStoreUrl {
  store: EventStore;
}

/** A fresh migrated store of the given kind; `cleanup` closes it and removes its data. */
export async function createTestStore(kind: StoreKind): Promise<TestStore> {
  const location = await createTestStoreUrl(kind);
  const store = openStore(location.url);
  await store.migrate();
  return {
    ...location,
    store,
    cleanup: async () => {
      await store.close();
      await location.cleanup();
    },
  };
}
