/**
 * ComfyUI workflows as data: model requirements (models.ts), API-format templates
 * (templates/*.json), availability from /object_info (available.ts) and request -> workflow
 * (build.ts).
 */
export { COMFY_MODELS, variantKey, type ComfyMode, type FaceMethod, type ModelRequirements, type NumberRule, type ParamRules } from "./models.ts";
export { availableModels, availableModelsOn, comboOptions, missingFor, type Availability } from "./available.ts";
export { buildWorkflow, findModel, type BuiltWorkflow, type GenerateRequest } from "./build.ts";
export { loadTemplate, TEMPLATE_DIR, type BindableField, type WorkflowTemplate } from "./templates.ts";
