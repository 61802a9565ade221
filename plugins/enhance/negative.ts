/**
 * The negative prompt: the base list, then the style's additions, without repeats.
 * A term the user's prompt asks for ("a neon sign with text") is left out, because
 * negating what was requested would fight the prompt.
 */
import type { KnowledgeBase, StylePreset } from "./types.ts";
import { singular, words } from "./text.ts";

/** One negative term, trimmed, with its words in the singular form they are compared in. */
interface NegativeTerm {
  text: string;
  words: readonly string[];
}

/**
 * The deduplicated terms for one style (base list first). They depend only on the knowledge
 * base, which is never mutated, so they are worked out once per (knowledge base, style).
 */
const termCache = new WeakMap<KnowledgeBase, WeakMap<StylePreset, readonly NegativeTerm[]>>();

function negativeTerms(style: StylePreset, kb: KnowledgeBase): readonly NegativeTerm[] {
  let byStyle = termCache.get(kb);
  if (!byStyle) termCache.set(kb, (byStyle = new WeakMap()));
  let terms = byStyle.get(style);
  if (!terms) {
    const seen = new Set<string>();
    const list: NegativeTerm[] = [];
    for (const term of [...kb.baseNegatives, ...style.negative]) {
      const key = term.toLowerCase().trim();
      if (seen.has(key)) continue;
      seen.add(key);
      list.push({ text: term.trim(), words: words(term).map(singular) });
    }
    byStyle.set(style, (terms = list));
  }
  return terms;
}

/**
 * `asked` is the prompt's words in singular form, for a caller that already has them
 * (the analysis's tokens); without it they are worked out from `prompt`.
 */
export function buildNegativePrompt(prompt: string, style: StylePreset, kb: KnowledgeBase, asked?: ReadonlySet<string>): string {
  const promptWords = asked ?? new Set(words(prompt).map(singular));
  const out: string[] = [];
  for (const term of negativeTerms(style, kb)) {
    if (term.words.length > 0 && term.words.every((w) => promptWords.has(w))) continue;
    out.push(term.text);
  }
  return out.join(", ");
}
