export type { PostgresStoreOptions } from "./postgres-store.js";
export { createPostgresStore } from "./postgres-store.js";
