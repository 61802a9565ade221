/**
 * Whisper's generated tokens (timestamp mode) -> segments and words, in window time.
 *
 * Segments are the text between timestamp tokens (<|t0|> text <|t1|>). Words are the runs of
 * text tokens that start with a space (byte-level BPE marks a word start with a leading
 * space); for languages written without spaces every token that decodes to whole characters
 * is a word, as Whisper's own word splitting does. A word starts at its first token's DTW
 * time and ends where the next token starts (transformers.js gives one start time per
 * token), clamped into its segment.
 */
export interface WhisperTokenizerLike {
  decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string;
}

export interface TokenLayout {
  /** <|endoftext|>: ids below it are text. */
  eot: number;
  /** First timestamp token (<|0.00|>) = <|notimestamps|> + 1. */
  timestampBegin: number;
  /** Seconds per timestamp step (0.02). */
  precision: number;
}

export interface Word {
  word: string;
  start: number;
  end: number;
}

export interface Segment {
  start: number;
  end: number;
  text: string;
  words: Word[];
}

const round = (s: number) => Math.round(s * 1000) / 1000;
const NO_SPACE_LANGS = new Set(["zh", "ja", "th", "lo", "my", "yue"]);

/**
 * @param tokens generated ids after the prompt (the end-of-text token may be included)
 * @param tokenTimes seconds per token (same indexes as `tokens`), or null without word timestamps
 * @param windowEnd the window's length in seconds: nothing ends after it
 */
export function tokensToSegments(
  tokens: readonly number[],
  tokenTimes: readonly number[] | null,
  layout: TokenLayout,
  tok: WhisperTokenizerLike,
  windowEnd: number,
  language?: string,
): Segment[] {
  const segs: Segment[] = [];
  let open: { start: number; ids: number[]; idx: number[] } | null = null;
  let lastTime = 0;
  const close = (end: number) => {
    // Text said to start at or past the window's end is about audio the window does not hold.
    if (open && open.ids.length > 0 && open.start < windowEnd) {
      const start = Math.min(open.start, windowEnd);
      const stop = Math.max(start, Math.min(end, windowEnd));
      const text = tok.decode(open.ids, { skip_special_tokens: true });
      if (text.trim() !== "") {
        segs.push({
          start: round(start),
          end: round(stop),
          text,
          words: tokenTimes ? words(open.ids, open.idx, tokens, tokenTimes, tok, start, stop, language) : [],
        });
      }
    }
    open = null;
  };
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i]!;
    if (id >= layout.timestampBegin) {
      const t = (id - layout.timestampBegin) * layout.precision;
      lastTime = t;
      if (open && open.ids.length > 0) close(t);
      else open = { start: t, ids: [], idx: [] };
    } else if (id < layout.eot) {
      open ??= { start: lastTime, ids: [], idx: [] };
      open.ids.push(id);
      open.idx.push(i);
    }
  }
  // A window that ends mid-sentence has no closing timestamp: the text runs to the window's end.
  close(windowEnd);
  return segs;
}

function words(
  ids: number[],
  idx: number[],
  tokens: readonly number[],
  times: readonly number[],
  tok: WhisperTokenizerLike,
  segStart: number,
  segEnd: number,
  language?: string,
): Word[] {
  const groups: { ids: number[]; first: number; last: number }[] = [];
  const splitEveryToken = language !== undefined && NO_SPACE_LANGS.has(language);
  let pendingIds: number[] = [];
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    const piece = tok.decode([id]);
    const g = groups.at(-1);
    // A token holding part of a multi-byte character decodes to U+FFFD: it joins its neighbours.
    const complete = !tok.decode([...pendingIds, id]).includes("\uFFFD");
    const startsWord = !g || (pendingIds.length === 0 && (splitEveryToken ? complete : /^\s/.test(piece)));
    if (startsWord) groups.push({ ids: [id], first: idx[k]!, last: idx[k]! });
    else {
      g!.ids.push(id);
      g!.last = idx[k]!;
    }
    pendingIds = complete ? [] : [...pendingIds, id];
  }
  const clamp = (t: number) => round(Math.min(segEnd, Math.max(segStart, t)));
  return groups
    .map((g) => {
      const start = times[g.first] ?? segStart;
      // Where the next token starts; past the last token, the segment's end.
      const end = g.last + 1 < tokens.length && g.last + 1 < times.length ? times[g.last + 1]! : segEnd;
      return { word: tok.decode(g.ids, { skip_special_tokens: true }).trim(), start: clamp(start), end: clamp(Math.max(start, end)) };
    })
    .filter((w) => w.word !== "");
}
