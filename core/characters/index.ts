/** Character identity: records, pure logic, thresholds and the two stores. */
export * from "./types.ts";
export * from "./logic.ts";
export * from "./thresholds.ts";
export * from "./quality.ts";
export * from "./store.ts";
export { EmbeddedCharacterStore } from "./embedded-store.ts";
export { RedisCharacterStore, type RedisCharacterStoreOptions } from "./redis-store.ts";
export { referencesFromJob, probeFromJob, type ReferencesFromJob } from "./from-jobs.ts";
