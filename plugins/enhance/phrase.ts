/**
 * What the draft needs to know about a phrase to decide whether it repeats the prompt:
 * its content words and their pairs, and how it reads without its first word. All of it depends on the text alone, and the same knowledge-base phrases
 * reach the draft on every call, so each distinct text is analysed once and the facts
 * are shared through a bounded memo (read-only; their word lists are frozen).
 */
import { BoundedMemo, MEMO_LIMIT } from "./memo.ts";
import { bigrams, contentWords, sharedContentWords } from "./text.ts";

export class PhraseFacts {
  /** Adjacent content-word pairs (bigrams of words). */
  readonly pairs: readonly string[];
  readonly hasComma: boolean;
  /** lead, once worked out; null until then. */
  private leadWord: string | undefined | null = null;
  /** rest, once built. */
  private tail: PhraseFacts | undefined;

  /** `words` are the text's content words (contentWords); frozen here. */
  constructor(
    readonly text: string,
    readonly words: readonly string[],
  ) {
    Object.freeze(words);
    this.pairs = Object.freeze(bigrams(words));
    this.hasComma = text.includes(",");
  }

  /**
   * The content word of the first space-separated token when it has exactly one, else
   * undefined. Worked out on first use: only trimRepeatedLead needs it.
   */
  get lead(): string | undefined {
    if (this.leadWord === null) {
      const space = this.text.indexOf(" ");
      const lead = sharedContentWords(space < 0 ? this.text : this.text.slice(0, space));
      this.leadWord = lead.length === 1 ? lead[0] : undefined;
    }
    return this.leadWord;
  }

  /**
   * The text after the first space ("" when there is none), i.e. text.split(" ").slice(1).join(" ").
   * Built on first use: only phrases whose lead word repeats the draft ever need it.
   */
  get rest(): PhraseFacts {
    if (!this.tail) {
      const space = this.text.indexOf(" ");
      this.tail = phraseFacts(space < 0 ? "" : this.text.slice(space + 1));
    }
    return this.tail;
  }
}

const exactMemo = new BoundedMemo(MEMO_LIMIT, (text) => new PhraseFacts(text, contentWords(text)));

/** Facts of a text exactly as given, memoised: for the knowledge base's phrases, which recur. */
export function phraseFacts(text: string): PhraseFacts {
  return exactMemo.get(text);
}

/**
 * Facts of a text that is unlikely to recur (the user's subject): computed fresh, so that
 * one-off texts do not crowd the memo that the knowledge-base phrases live in.
 */
export function oneOffPhraseFacts(text: string): PhraseFacts {
  return new PhraseFacts(text, contentWords(text));
}

/** Facts of a phrase after collapsing runs of whitespace and trimming, memoised on the raw phrase. */
const normalisedMemo = new BoundedMemo(MEMO_LIMIT, (raw) => phraseFacts(raw.replace(/\s+/g, " ").trim()));

export function normalisedPhraseFacts(raw: string): PhraseFacts {
  return normalisedMemo.get(raw);
}
