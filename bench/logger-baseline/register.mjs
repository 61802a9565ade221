// `node --import ./bench/logger-baseline/register.mjs ...`: every import of core/logger.ts
// resolves to the hand-written baseline logger instead (bench/logger.bench.ts, "json" runs).
import { register } from "node:module";

register(new URL("./resolve-hook.mjs", import.meta.url));
