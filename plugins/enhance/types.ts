/**
 * Types shared by the prompt-enhancement plugin: the knowledge base (loaded from
 * data/*.yaml), the normalized request, and the result returned to the API.
 */

/** The seven stages, in pipeline order. */
export const STAGE_NAMES = ["concept", "scene", "visual", "cinematic", "narrative", "technical", "consistency"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export type EnhancementLevel = "quick" | "standard" | "full";
/** quick = stages 1-3, standard = 1-5, full = 1-7. */
export const LEVEL_STAGE_COUNT: Record<EnhancementLevel, number> = { quick: 3, standard: 5, full: 7 };

/** A colour grade: multipliers for saturation/contrast, warmth steps -50 (cool) .. +50 (warm). */
export interface ColorGrade {
  saturation: number;
  contrast: number;
  temperature: number;
}

/** One style preset (core/data/styles.yaml documents each field). */
export interface StylePreset {
  name: string;
  description: string;
  keywords: string[];
  grade: ColorGrade;
  palette: string[];
  lighting: string;
  lighting_extras: string[];
  lens: string;
  movement: string;
  depth: string;
  angle: string[];
  mood: string[];
  times: string[];
  atmosphere: string[];
  setting: string[];
  texture: string;
  composition: string;
  quality: string[];
  negative: string[];
}

/** One output platform (core/data/platforms.yaml, shared with video). */
export interface PlatformSpec {
  name: string;
  width: number;
  height: number;
  aspect_ratio: string;
  fps: number;
  framing: string;
  layout: string;
}

export interface SubjectCategory {
  category: string;
  match: string[];
  shots: string[];
  /** Consistency-stage lock phrase; "" = none for this kind of subject. */
  lock: string;
}

export interface Theme {
  theme: string;
  match: string[];
  moods: string[];
  emotions: string[];
  metaphor: string;
}

export interface SettingEntry {
  place: string;
  match: string[];
  /** When present, one of these words must also appear in the prompt. */
  with?: string[];
  interior: boolean;
  details: string[];
  foreground: string;
  background: string;
}

export interface StoryBeat {
  beat: "setup" | "rising" | "climax" | "falling" | "resolution";
  /** Upper bound of the scene position (0..1] this beat covers. */
  until: number;
  cues: string[];
  emotion: string;
  intensity: number;
  phrases: string[];
}

export interface Vocabulary {
  subjects: SubjectCategory[];
  fallback_subject: SubjectCategory;
  action: { match: string[]; shots: string[] };
  themes: Theme[];
  fallback_theme: Theme;
  settings: SettingEntry[];
  times_of_day: string[];
  beats: StoryBeat[];
  quality: string[];
  environment_lock: string;
}

export interface KnowledgeBase {
  styles: StylePreset[];
  platforms: PlatformSpec[];
  vocabulary: Vocabulary;
  baseNegatives: string[];
}

/** A validated, normalized enhancement request. */
export interface EnhanceInput {
  /** The user's prompt, whitespace-collapsed, 1..2000 chars. */
  prompt: string;
  /** Canonical style preset name. */
  style: string;
  /** Canonical platform name. */
  platform: string;
  enhancement_level: EnhancementLevel;
  include_negative: boolean;
  /** 0-based scene position in a music video; set together with scene_count. */
  scene_index?: number;
  scene_count?: number;
  /** Engine override: "rules" forces the knowledge base; "llm" requires a configured LLM. */
  engine?: "rules" | "llm";
}

export interface StyleDna {
  primary_colors: string[];
  lighting: string;
  mood: string;
  camera: string;
}

export interface TechnicalSpec {
  width: number;
  height: number;
  aspect_ratio: string;
  fps: number;
}

/** The job result (the front door adds job_id). */
export interface EnhanceResult {
  original_prompt: string;
  enhanced_prompt: string;
  /** Present only when include_negative. */
  negative_prompt?: string;
  stages_completed: StageName[];
  style_dna: StyleDna;
  timestamp: string;
  /** Which engine produced each completed stage: "rules", "llm", or "rules (llm failed: <why>)". */
  engines: Partial<Record<StageName, string>>;
  /** The platform's output size and frame rate. */
  technical: TechnicalSpec;
}
