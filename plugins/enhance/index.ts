/**
 * Prompt enhancement plugin (job type "enhance.prompt", CPU). The seven-stage pipeline
 * runs on a local knowledge base (data/*.yaml); an OpenAI-compatible LLM can write some
 * or all stages when `plugins.enhance.llm` is configured (see llm-engine.ts).
 */
import { definePlugin } from "../../core/plugin-contract.ts";
import { ENHANCE_PROMPT } from "./job-types.ts";
import { enhancePromptAsync } from "./enhance.ts";
import { knowledgeBase } from "./knowledge-base.ts";
import { parseLlmConfig } from "./llm-engine.ts";

export { enhancePrompt, enhancePromptAsync, type EnhanceParams, type EnhanceOptions, type EnhanceAsyncOptions } from "./enhance.ts";
export { listPlatforms, findStyle, findPlatform } from "./knowledge-base.ts";
export { listStyles } from "../../core/styles.ts";
export { parseEnhanceParams, DEFAULT_STYLE, DEFAULT_PLATFORM, DEFAULT_LEVEL, PROMPT_MAX_CHARS } from "./params.ts";
export { parseLlmConfig, type LlmConfig } from "./llm-engine.ts";
export type { EnhanceInput, EnhanceResult, StageName, StyleDna, TechnicalSpec } from "./types.ts";
export { STAGE_NAMES } from "./types.ts";

export const ENHANCE_JOB_TYPE = ENHANCE_PROMPT.type;

export default definePlugin({
  manifest: {
    name: "enhance",
    version: "1.0.0",
    description: "Seven-stage prompt enhancement: local knowledge base, optional OpenAI-compatible LLM per stage",
    runtime: "cpu",
    // Defined once in job-types.ts (params schema, description), read by the API too.
    job_types: [ENHANCE_PROMPT],
    models: [],
  },
  async init(ctx) {
    // Fail at start, not on the first job: broken data files or LLM config disable the plugin with the reason.
    knowledgeBase();
    const llm = parseLlmConfig(ctx.config);
    if (llm) ctx.logger.info("enhance: LLM engine configured", { base_url: llm.base_url, model: llm.model, stages: llm.stages });
  },
  async run(task, ctx) {
    const llm = parseLlmConfig(ctx.config);
    const result = await enhancePromptAsync(task.params, {
      // The signal only matters to the LLM engine's requests; the rules engine is synchronous.
      ...(llm ? { llm, signal: ctx.signal } : {}),
      onStage: (stage, done, total) => ctx.progress(Math.round((done / total) * 100), `Stage ${done}/${total}: ${stage}`),
    });
    return { ...result };
  },
});
