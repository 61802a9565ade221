/**
 * The negative prompt: the base list, then the style's additions, without repeats.
 * A term the user's prompt asks for ("a neon sign with text") is left out, because
 * negating what was requested would fight the prompt.
 */
import type { KnowledgeBase, StylePreset } from "./types.ts";
import { singular, words } from "./text.ts";

export function buildNegativePrompt(prompt: string, style: StylePreset, kb: KnowledgeBase): string {
  const asked = new Set(words(prompt).map(singular));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const term of [...kb.baseNegatives, ...style.negative]) {
    const key = term.toLowerCase().trim();
    if (seen.has(key)) continue;
    seen.add(key);
    const ws = words(term).map(singular);
    if (ws.length > 0 && ws.every((w) => asked.has(w))) continue;
    out.push(term.trim());
  }
  return out.join(", ");
}
