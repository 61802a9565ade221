/**
 * The enhancement pipeline. `enhancePrompt` is the pure, synchronous rules engine
 * (deterministic: same input and options give the same output, except `timestamp`);
 * `enhancePromptAsync` adds the optional LLM engine stage by stage, with a recorded
 * fallback to the rules whenever the LLM fails.
 */
import { FarmError } from "../../core/errors.ts";
import { analyzePrompt, type PromptAnalysis } from "./analysis.ts";
import { PromptDraft } from "./draft.ts";
import { knowledgeBase } from "./knowledge-base.ts";
import { runLlmStage, type LlmConfig } from "./llm-engine.ts";
import { buildNegativePrompt } from "./negative.ts";
import { parseEnhanceRequest } from "./params.ts";
import { RULES_STAGES, STAGE_BRIEF, STAGE_SECTION } from "./rules-stages.ts";
import { cleanSubject } from "./text.ts";
import { LEVEL_STAGE_COUNT, STAGE_NAMES, type EnhanceInput, type EnhanceResult, type StageName } from "./types.ts";

/** The request as callers write it (API_SPEC §1 body plus scene position and engine). */
export interface EnhanceParams {
  prompt: string;
  style?: string;
  platform?: string;
  enhancement_level?: "quick" | "standard" | "full";
  include_negative?: boolean;
  scene_index?: number;
  scene_count?: number;
  engine?: "rules" | "llm";
}

export interface EnhanceOptions {
  /** Clock for `timestamp` (tests inject one). Default: new Date(). */
  now?: () => Date;
  /** Called after each stage (the plugin turns it into job progress). */
  onStage?: (stage: StageName, done: number, total: number) => void;
}

export interface EnhanceAsyncOptions extends EnhanceOptions {
  /** The LLM engine config (see llm-engine.ts); absent = rules only. */
  llm?: LlmConfig;
  /** The job's signal: aborting it cancels (JOB_CANCELLED), it never falls back. */
  signal?: AbortSignal;
  /** fetch to use (default global fetch). */
  fetch?: typeof fetch;
}

interface Pipeline {
  input: EnhanceInput;
  original: string;
  analysis: PromptAnalysis;
  draft: PromptDraft;
  stages: StageName[];
  engines: Partial<Record<StageName, string>>;
}

function begin(params: EnhanceParams | Record<string, unknown>): Pipeline {
  const raw = params as Record<string, unknown>;
  const { input, style, platform } = parseEnhanceRequest(raw);
  const analysis = analyzePrompt(input, style, platform, knowledgeBase());
  const draft = new PromptDraft();
  draft.setSubject(cleanSubject(input.prompt));
  return {
    input,
    original: String(raw["prompt"]),
    analysis,
    draft,
    stages: STAGE_NAMES.slice(0, LEVEL_STAGE_COUNT[input.enhancement_level]),
    engines: {},
  };
}

/**
 * Adds one stage: its pinned phrases always, then the LLM's phrases or the rules' own.
 * Returns how many of the LLM's phrases survived the dedupe (0 for a rules stage).
 */
function apply(p: Pipeline, stage: StageName, llmPhrases?: string[]): number {
  const phrases = RULES_STAGES[stage](p.analysis);
  for (const ph of phrases) if (ph.pinned) p.draft.add(ph.section, ph.text);
  if (!llmPhrases) {
    for (const ph of phrases) if (!ph.pinned) p.draft.add(ph.section, ph.text);
    return 0;
  }
  return llmPhrases.filter((text) => p.draft.add(STAGE_SECTION[stage], text)).length;
}

function finish(p: Pipeline, opts: EnhanceOptions): EnhanceResult {
  const { style, platform, moods, kb } = p.analysis;
  const result: EnhanceResult = {
    original_prompt: p.original,
    enhanced_prompt: p.draft.compose(),
    stages_completed: [...p.stages],
    style_dna: { primary_colors: [...style.palette], lighting: style.lighting, mood: moods.join(", "), camera: style.lens },
    timestamp: (opts.now ?? (() => new Date()))().toISOString(),
    engines: p.engines,
    technical: { width: platform.width, height: platform.height, aspect_ratio: platform.aspect_ratio, fps: platform.fps },
  };
  if (p.input.include_negative) result.negative_prompt = buildNegativePrompt(p.input.prompt, style, kb, p.analysis.tokens);
  return result;
}

/**
 * Rules-only enhancement, in process and synchronous. Throws VALIDATION_ERROR for bad
 * params and CAPABILITY_UNAVAILABLE for engine "llm" (use enhancePromptAsync with a config).
 */
export function enhancePrompt(params: EnhanceParams | Record<string, unknown>, opts: EnhanceOptions = {}): EnhanceResult {
  const p = begin(params);
  if (p.input.engine === "llm") {
    throw new FarmError("CAPABILITY_UNAVAILABLE", "engine 'llm' needs an LLM endpoint (plugins.enhance.llm); enhancePrompt runs the rules engine only");
  }
  p.stages.forEach((stage, i) => {
    apply(p, stage);
    p.engines[stage] = "rules";
    opts.onStage?.(stage, i + 1, p.stages.length);
  });
  return finish(p, opts);
}

/**
 * Enhancement with the optional LLM engine. Stages listed in `llm.stages` go to the LLM
 * unless params.engine is "rules"; a stage whose LLM call fails runs on the rules and its
 * engines entry says why. After a transport failure (timeout, network, HTTP error) later
 * stages skip the endpoint, saying so, instead of waiting out the same failure again.
 */
export async function enhancePromptAsync(params: EnhanceParams | Record<string, unknown>, opts: EnhanceAsyncOptions = {}): Promise<EnhanceResult> {
  const p = begin(params);
  const llm = opts.llm;
  if (p.input.engine === "llm" && !llm) {
    throw new FarmError("CAPABILITY_UNAVAILABLE", "engine 'llm' requested but this node has no LLM endpoint configured (plugins.enhance.llm)");
  }
  const useLlm = llm !== undefined && p.input.engine !== "rules";
  let endpointDown: string | undefined;
  const subject = p.draft.section("subject")[0] ?? p.input.prompt;
  for (const [i, stage] of p.stages.entries()) {
    if (opts.signal?.aborted) throw new FarmError("JOB_CANCELLED", "prompt enhancement cancelled");
    if (!useLlm || !llm.stages.includes(stage)) {
      apply(p, stage);
      p.engines[stage] = "rules";
    } else if (endpointDown) {
      apply(p, stage);
      p.engines[stage] = `rules (llm failed: skipped after earlier failure: ${endpointDown})`;
    } else {
      const { style, platform } = p.analysis;
      const outcome = await runLlmStage(
        llm,
        {
          stage,
          brief: STAGE_BRIEF[stage],
          style: { name: style.name, description: style.description, keywords: style.keywords },
          platform: `${platform.name}, ${platform.width}x${platform.height}`,
          subject,
          draft: p.draft.compose(),
        },
        opts.signal,
        opts.fetch,
      );
      if (outcome.ok) {
        const added = apply(p, stage, outcome.phrases);
        if (added > 0) p.engines[stage] = "llm";
        else {
          // An answer that only repeated the prompt adds nothing; the stage still owes its part.
          apply(p, stage);
          p.engines[stage] = "rules (llm failed: no new phrases, every one repeated the prompt)";
        }
      } else {
        apply(p, stage);
        p.engines[stage] = `rules (llm failed: ${outcome.reason})`;
        if (outcome.transport) endpointDown = outcome.reason;
      }
    }
    opts.onStage?.(stage, i + 1, p.stages.length);
  }
  return finish(p, opts);
}
