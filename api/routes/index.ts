/** The spec's endpoint families, one file each. */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { enhanceRoutes } from "./enhance.ts";
import { generateRoutes } from "./generate.ts";
import { videoRoutes } from "./video.ts";
import { audioRoutes } from "./audio.ts";
import { musicRoutes } from "./music.ts";
import { faceRoutes } from "./face.ts";
import { uploadRoutes } from "./uploads.ts";

export async function specRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await enhanceRoutes(app, deps);
  await generateRoutes(app, deps);
  await videoRoutes(app, deps);
  await audioRoutes(app, deps);
  await musicRoutes(app, deps);
  await faceRoutes(app, deps);
  await uploadRoutes(app, deps);
}
