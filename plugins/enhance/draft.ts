/**
 * The prompt being built. Stages add phrases to sections; the draft refuses any phrase
 * that would repeat what is already there (same meaningful words, or a shared word pair),
 * so the final prompt never says the same thing twice. Sections print in the order a
 * prompt writer uses: subject, setting, lighting, camera, mood, quality.
 */
import { bigrams, contentWords } from "./text.ts";

export const SECTIONS = ["subject", "setting", "lighting", "camera", "mood", "quality"] as const;
export type Section = (typeof SECTIONS)[number];

export class PromptDraft {
  private readonly parts = new Map<Section, string[]>(SECTIONS.map((s) => [s, []]));
  private readonly usedWords = new Set<string>();
  private readonly usedPairs = new Set<string>();
  private readonly usedPhrases = new Set<string>();

  /** The subject goes in as written: it is the user's own words and is never deduped away. */
  setSubject(subject: string): void {
    this.parts.set("subject", [subject]);
    this.remember(subject);
  }

  /**
   * Adds a phrase unless it repeats the draft. Returns whether it was added.
   * Rejected: empty, the same phrase, all its meaningful words already present,
   * or any adjacent meaningful-word pair already present.
   */
  add(section: Section, phrase: string): boolean {
    const text = this.trimRepeatedLead(phrase.replace(/\s+/g, " ").trim());
    if (!text) return false;
    const key = text.toLowerCase();
    const ws = contentWords(text);
    if (this.usedPhrases.has(key) || ws.length === 0) return false;
    if (ws.every((w) => this.usedWords.has(w))) return false;
    if (bigrams(ws).some((b) => this.usedPairs.has(b))) return false;
    this.parts.get(section)!.push(text);
    this.remember(text);
    return true;
  }

  /**
   * Drops a leading modifier the prompt already used ("warm contrasty color grade" after
   * "warm tones" becomes "contrasty color grade"). Only when three meaningful words remain,
   * never in a list ("sky blue, sakura pink ..."), and never "shot" (as in "shot on 35mm lens").
   */
  private trimRepeatedLead(text: string): string {
    if (text.includes(",")) return text;
    let ws = text.split(" ");
    for (;;) {
      const first = ws[0] ?? "";
      const lead = contentWords(first);
      if (lead.length !== 1 || lead[0] === "shot" || !this.usedWords.has(lead[0]!)) break;
      if (contentWords(ws.slice(1).join(" ")).length < 3) break;
      ws = ws.slice(1);
    }
    return ws.join(" ");
  }

  private remember(text: string): void {
    this.usedPhrases.add(text.toLowerCase());
    const ws = contentWords(text);
    for (const w of ws) this.usedWords.add(w);
    for (const b of bigrams(ws)) this.usedPairs.add(b);
  }

  /** The phrases of one section, in insertion order. */
  section(section: Section): readonly string[] {
    return this.parts.get(section)!;
  }

  /** The prompt as it stands: sections in order, phrases joined with ", ". */
  compose(): string {
    return SECTIONS.flatMap((s) => this.parts.get(s)!).join(", ");
  }
}
