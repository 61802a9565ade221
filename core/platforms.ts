/**
 * Where the output-platform presets live (DOMAIN-REFERENCE.md "Platforms"): one data file
 * shared by the prompt enhancer (framing, layout and aspect written into prompts) and video
 * assembly (frame size and rate of the output), so the two can never disagree.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PLATFORMS_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), "data", "platforms.yaml");
