/**
 * Small text helpers for the rules engine: word splitting, a stable hash for
 * deterministic choices (never Math.random), and phrase normalisation for dedupe.
 */
import { BoundedMemo, MEMO_LIMIT } from "./memo.ts";

/** Words that carry no meaning on their own; ignored when comparing phrases. */
export const STOP_WORDS = new Set([
  "a",
  "an",
  "the",
  "of",
  "and",
  "or",
  "with",
  "in",
  "on",
  "at",
  "by",
  "for",
  "to",
  "from",
  "into",
  "onto",
  "as",
  "is",
  "are",
  "its",
  "it",
  "their",
  "his",
  "her",
  "like",
  "that",
  "this",
  "through",
  "behind",
  "across",
  "along",
  "over",
  "under",
  "toward",
  "towards",
  "against",
  "all",
  "every",
  "very",
]);

/** Separators between words. */
const WORD_SPLIT = /[\s,;!?()"]+/;
/** Anything but a letter or digit at either end of a word. */
const WORD_EDGES = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu;

/** a-z, A-Z or 0-9: a letter or digit, so nothing needs stripping at that end of a word. */
function isAsciiAlnum(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
}

/** Lower-case words of a text; punctuation around words is dropped, inner marks (16:9, f/1.8, sun-faded) kept. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const part of text.toLowerCase().split(WORD_SPLIT)) {
    // Most words start and end with a plain letter or digit; only the rest need the
    // (comparatively slow) unicode-property regex. An empty part reads NaN and is stripped to "".
    const plain = isAsciiAlnum(part.charCodeAt(0)) && isAsciiAlnum(part.charCodeAt(part.length - 1));
    const w = plain ? part : part.replace(WORD_EDGES, "");
    if (w.length > 0) out.push(w);
  }
  return out;
}

/** Crude singular form so "trees" matches "tree" and "waves" matches "wave". */
export function singular(w: string): string {
  if (w.length > 4 && w.endsWith("ies")) return w.slice(0, -3) + "y";
  if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us")) return w.slice(0, -1);
  return w;
}

/** Meaningful words of a phrase, singular, in order. */
export function contentWords(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) if (!STOP_WORDS.has(w)) out.push(singular(w));
  return out;
}

/** The knowledge base's phrases come back on every call, so their content words are worked out once. */
const contentWordsMemo = new BoundedMemo(MEMO_LIMIT, (text) => Object.freeze(contentWords(text)));

/** contentWords, memoised: a shared frozen array, for callers that only read it. */
export function sharedContentWords(text: string): readonly string[] {
  return contentWordsMemo.get(text);
}

/** Adjacent content-word pairs ("depth of field" -> ["depth field"]). */
export function bigrams(ws: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < ws.length; i++) out.push(`${ws[i - 1]} ${ws[i]}`);
  return out;
}

/** 32-bit FNV-1a: stable across runs and platforms. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Picks one item deterministically from a seed and a salt (each choice gets its own salt). */
export function pick<T>(items: readonly T[], seed: number, salt: string): T {
  if (items.length === 0) throw new Error(`pick: empty list for ${salt}`);
  return items[stableHash(`${seed}:${salt}`) % items.length] as T;
}

/** "a, b and c" */
export function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/** Collapses whitespace, trims stray separators, capitalises the first letter. */
export function cleanSubject(prompt: string): string {
  const s = prompt
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^[,;.\s]+|[,;\s]+$/g, "")
    .replace(/\.+$/, "");
  return s.charAt(0).toUpperCase() + s.slice(1);
}
