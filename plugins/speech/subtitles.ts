/** Segments -> SubRip (.srt) and WebVTT (.vtt) text. */
export interface TimedText {
  start: number;
  end: number;
  text: string;
}

function clock(seconds: number, sep: "," | "."): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

// A blank line ends a cue in both formats, and "-->" opens a timing line in VTT: neither may
// appear inside a cue's text.
const cueText = (t: string) =>
  t
    .trim()
    .replace(/\n\s*\n/g, "\n")
    .replace(/-->/g, "->");

export function toSrt(segments: readonly TimedText[]): string {
  return segments
    .filter((s) => s.text.trim() !== "")
    .map((s, i) => `${i + 1}\n${clock(s.start, ",")} --> ${clock(s.end, ",")}\n${cueText(s.text)}\n`)
    .join("\n");
}

export function toVtt(segments: readonly TimedText[]): string {
  const cues = segments.filter((s) => s.text.trim() !== "").map((s) => `${clock(s.start, ".")} --> ${clock(s.end, ".")}\n${cueText(s.text)}\n`);
  return `WEBVTT\n\n${cues.join("\n")}`;
}
