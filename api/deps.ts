/** What the front door is built from; injected so tests can build a server around any farm. */
import type { Redis } from "ioredis";
import type { FarmConfig } from "../core/config/schema.ts";
import type { ArtifactStore } from "../core/artifact-store.ts";
import type { Logger } from "../core/logger.ts";
import type { FarmClient } from "./farm-client.ts";
import type { CharacterStore } from "../core/characters/store.ts";
import type { RemoteMetrics } from "../core/metrics/metrics-service.ts";

export interface ApiDeps {
  config: FarmConfig;
  farm: FarmClient;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Shared rate-limit counters in distributed mode. */
  redis?: Redis;
  characters?: CharacterStore;
  /** Whether this process's mesh transporter is connected (distributed mode), for readiness. */
  meshConnected?: () => boolean;
  /** Metrics kept by the coordinator and other API processes, for GET /metrics (mesh: core/metrics/metrics-service.ts). */
  remoteMetrics?: () => Promise<RemoteMetrics>;
}
