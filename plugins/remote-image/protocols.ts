/**
 * The three provider wire formats: how one image request is sent and where the image is
 * in the answer. Shapes are the providers' documented ones:
 *
 * - `openrouter-chat`: OpenRouter (and other OpenAI-compatible gateways that return
 *   images from chat, e.g. Vercel AI Gateway). POST `<base>/chat/completions`,
 *   `Authorization: Bearer <key>`, body `{model, messages, modalities: ["image","text"]}`;
 *   the image is `choices[0].message.images[i].image_url.url`, a `data:image/...;base64,`
 *   URL (openrouter.ai/docs/features/multimodal/image-generation).
 * - `openai-images`: OpenAI's Images API and compatibles. POST `<base>/images/generations`,
 *   body `{model, prompt, size: "WxH", n: 1, response_format: "b64_json"}`; the image is
 *   `data[0].b64_json`; `data[0].revised_prompt` may come along.
 * - `gemini`: Google's Gemini API. POST `<base>/models/<model>:generateContent`, header
 *   `x-goog-api-key`, body `{contents: [{parts: [{text}]}], generationConfig:
 *   {responseModalities: ["TEXT","IMAGE"]}}`; the image is the first
 *   `candidates[0].content.parts[i].inlineData {mimeType, data}`.
 *
 * All three answer errors as `{error: {message, ...}}` (OpenAI adds type/code, OpenRouter
 * code/metadata, Google code/status); `errorMessage` reads that message.
 */
import type { Protocol, ProviderConfig } from "./config.ts";

export interface ImageRequest {
  prompt: string;
  negative_prompt?: string;
  width: number;
  height: number;
  seed?: number;
  /** Reference images sent with the prompt (chat and gemini protocols only). */
  references?: { mime: string; base64: string }[];
}

/** Protocols that take reference images with the prompt. */
export const TAKES_REFERENCES: ReadonlySet<Protocol> = new Set(["openrouter-chat", "gemini"]);

export interface HttpCall {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** What a provider answered: the image bytes (base64) or why there is none. */
export type Parsed = { ok: true; base64: string; mime?: string; seed: number | null; note?: string } | { ok: false; reason: string };

/** Text prompt for providers that take no separate size/negative fields. */
function chatPrompt(r: ImageRequest): string {
  let text = r.prompt;
  if (r.negative_prompt) text += `\nAvoid: ${r.negative_prompt}`;
  return `${text}\nImage size: ${r.width}x${r.height} pixels.`;
}

export function buildCall(p: ProviderConfig, providerModel: string, r: ImageRequest): HttpCall {
  const json = { "content-type": "application/json" };
  switch (p.protocol) {
    case "openrouter-chat":
      return {
        url: `${p.base_url}/chat/completions`,
        headers: { ...json, authorization: `Bearer ${p.api_key}` },
        body: {
          model: providerModel,
          messages: [
            {
              role: "user",
              content: r.references?.length
                ? [
                    { type: "text", text: chatPrompt(r) },
                    ...r.references.map((x) => ({ type: "image_url", image_url: { url: `data:${x.mime};base64,${x.base64}` } })),
                  ]
                : chatPrompt(r),
            },
          ],
          modalities: ["image", "text"],
          ...(r.seed !== undefined ? { seed: r.seed } : {}),
        },
      };
    case "openai-images":
      return {
        url: `${p.base_url}/images/generations`,
        headers: { ...json, authorization: `Bearer ${p.api_key}` },
        body: {
          model: providerModel,
          prompt: r.negative_prompt ? `${r.prompt}\nAvoid: ${r.negative_prompt}` : r.prompt,
          size: `${r.width}x${r.height}`,
          n: 1,
          response_format: "b64_json",
        },
      };
    case "gemini":
      return {
        url: `${p.base_url}/models/${encodeURIComponent(providerModel)}:generateContent`,
        headers: { ...json, "x-goog-api-key": p.api_key },
        body: {
          contents: [
            { role: "user", parts: [{ text: chatPrompt(r) }, ...(r.references ?? []).map((x) => ({ inlineData: { mimeType: x.mime, data: x.base64 } }))] },
          ],
          generationConfig: { responseModalities: ["TEXT", "IMAGE"], ...(r.seed !== undefined ? { seed: r.seed } : {}) },
        },
      };
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const DATA_URL = /^data:(image\/[A-Za-z0-9.+-]+);base64,(.+)$/s;

export function parseAnswer(protocol: Protocol, body: unknown): Parsed {
  if (!isObj(body)) return { ok: false, reason: "answer is not a JSON object" };
  switch (protocol) {
    case "openrouter-chat": {
      const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
      const msg = isObj(choice) && isObj(choice.message) ? choice.message : undefined;
      if (!msg) return { ok: false, reason: "answer has no choices[0].message" };
      const images = Array.isArray(msg.images) ? msg.images : [];
      for (const im of images) {
        const url = isObj(im) && isObj(im.image_url) ? im.image_url.url : undefined;
        const m = typeof url === "string" ? DATA_URL.exec(url) : null;
        if (m) return { ok: true, mime: m[1]!, base64: m[2]!, seed: null, ...(typeof msg.content === "string" && msg.content ? { note: msg.content } : {}) };
      }
      const text = typeof msg.content === "string" && msg.content ? `; the model answered text only: "${msg.content.slice(0, 200)}"` : "";
      return { ok: false, reason: `answer has no image in choices[0].message.images${text}` };
    }
    case "openai-images": {
      const first = Array.isArray(body.data) ? body.data[0] : undefined;
      if (!isObj(first) || typeof first.b64_json !== "string" || first.b64_json.length === 0) return { ok: false, reason: "answer has no data[0].b64_json" };
      return {
        ok: true,
        base64: first.b64_json,
        seed: typeof first.seed === "number" ? first.seed : null,
        ...(typeof first.revised_prompt === "string" ? { note: first.revised_prompt } : {}),
      };
    }
    case "gemini": {
      const cand = Array.isArray(body.candidates) ? body.candidates[0] : undefined;
      const parts = isObj(cand) && isObj(cand.content) && Array.isArray(cand.content.parts) ? cand.content.parts : undefined;
      if (!parts) {
        const block =
          isObj(body.promptFeedback) && typeof body.promptFeedback.blockReason === "string" ? `; prompt blocked: ${body.promptFeedback.blockReason}` : "";
        const finish = isObj(cand) && typeof cand.finishReason === "string" ? `; finishReason ${cand.finishReason}` : "";
        return { ok: false, reason: `answer has no candidates[0].content.parts${block}${finish}` };
      }
      for (const part of parts) {
        const d = isObj(part) && isObj(part.inlineData) ? part.inlineData : undefined;
        if (d && typeof d.data === "string" && d.data.length > 0)
          return { ok: true, base64: d.data, ...(typeof d.mimeType === "string" ? { mime: d.mimeType } : {}), seed: null };
      }
      return { ok: false, reason: "answer has no inlineData image part" };
    }
  }
}

/** The provider's own error message from an error body, if it has one. */
export function errorMessage(body: unknown): string | undefined {
  if (!isObj(body)) return undefined;
  const e = body.error;
  if (typeof e === "string") return e;
  if (isObj(e) && typeof e.message === "string") return e.message;
  if (typeof body.message === "string") return body.message;
  return undefined;
}
