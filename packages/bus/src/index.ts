export { prepareEvent } from "./append/prepare-event.js";
export type {
  AppendResult,
  Bus,
  BusLog,
  BusOptions,
  QueryRequest,
  ReadKeyRequest,
  ReadPartitionOptions,
} from "./bus.js";
export { createBus } from "./bus.js";
export type { AppOptions } from "./http/app.js";
export { createApp } from "./http/app.js";
export type { RunningServer, ServerOptions } from "./server.js";
export { startServer } from "./server.js";
export type {
  AppendCommand,
  AppendGroupOptions,
  AppendOutcome,
  CommitNotice,
  EventStore,
  PreparedEvent,
  QueryFilter,
  ReadKeyOptions,
} from "./store/event-store.js";
export type { OpenStoreOptions } from "./store/open-store.js";
export { defaultStoreUrl, openStore } from "./store/open-store.js";
export type { PostgresStoreOptions } from "./store/postgres/index.js";
export { createPostgresStore } from "./store/postgres/index.js";
export type { SqliteStoreOptions } from "./store/sqlite/index.js";
export { createSqliteStore } from "./store/sqlite/index.js";
export type { StoreObserver } from "./store/store-observer.js";
