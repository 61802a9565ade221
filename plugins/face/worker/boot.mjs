// Worker entry: worker threads do not run the parent's `--import tsx`, so register tsx's
// loader here before importing the TypeScript worker (same as plugins/audio).
import { register } from "tsx/esm/api";

register();
await import("./face-worker.ts");
