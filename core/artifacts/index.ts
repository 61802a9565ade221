/**
 * The artifact-store registry: picks the implementation named by `artifacts.kind`.
 *
 * - `fs` (embedded mode default): a `FsArtifactStore` rooted at `paths.data_dir`, so the
 *   key `outputs/videos/x.mp4` is the file `<data_dir>/outputs/videos/x.mp4` and
 *   `uploads/ab/ab…ef.png` is `<data_dir>/uploads/ab/ab…ef.png`. With the default paths
 *   that is exactly `paths.outputs` / `paths.uploads`. When an operator points
 *   `paths.outputs` or `paths.uploads` elsewhere, the store still writes under
 *   `data_dir` (keys are the contract; serve `/outputs` through the store, not from
 *   `paths.outputs`).
 * - `s3` (distributed mode default): a `S3ArtifactStore` on `artifacts.s3`.
 */
import type { ArtifactStore } from "../artifact-store.ts";
import type { FarmConfig } from "../config/schema.ts";
import { FsArtifactStore } from "./fs-store.ts";
import { S3ArtifactStore } from "./s3-store.ts";

export { FsArtifactStore } from "./fs-store.ts";
export { S3ArtifactStore, type S3Settings } from "./s3-store.ts";

/** Build the configured store. Synchronous: an S3 store creates its bucket on first use. */
export function createArtifactStore(config: Pick<FarmConfig, "artifacts" | "paths">): ArtifactStore {
  if (config.artifacts.kind === "s3") return new S3ArtifactStore(config.artifacts.s3);
  return new FsArtifactStore(config.paths.data_dir);
}

/**
 * Build the configured store and make sure it is usable now (for role start-up: an
 * unreachable S3 endpoint is a clear SERVICE_UNAVAILABLE at start, not on the first job).
 */
export async function openArtifactStore(config: Pick<FarmConfig, "artifacts" | "paths">): Promise<ArtifactStore> {
  const store = createArtifactStore(config);
  if (store instanceof S3ArtifactStore) await store.ensureBucket();
  return store;
}
