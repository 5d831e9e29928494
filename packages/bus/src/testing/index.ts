export type { TestSchema } from "./postgres-test-schema.js";
export { createTestSchema } from "./postgres-test-schema.js";
export type { ProcessExit, SpawnBusOptions, SpawnedBus, TributaryRun } from "./spawn-bus.js";
export { killSpawnedBuses, runTributary, spawnBus, tributaryBin } from "./spawn-bus.js";
export type { StoreConformanceOptions } from "./store-conformance.js";
export { describeStoreConformance } from "./store-conformance.js";
export type { StoreKind, TestStore, TestStoreUrl } from "./test-stores.js";
export { createTestStore, createTestStoreUrl, storeKinds } from "./test-stores.js";
