/** Plain-text tables for farmctl's human output. */

/**
 * Columns are as wide as their widest cell; when the table is wider than `maxWidth` (the
 * terminal's width when stdout is a terminal, unlimited when piped, so scripts and `grep`
 * see whole values), the widest columns are shrunk first and their cells cut with "…".
 * Headers are never cut below 4 characters.
 */
export function table(headers: string[], rows: (string | number | null | undefined)[][], maxWidth = terminalWidth()): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  fitWidths(widths, headers, maxWidth);
  const cut = (c: string, w: number) => (c.length <= w ? c : `${c.slice(0, Math.max(0, w - 1))}…`);
  const line = (r: string[]) =>
    r
      .map((c, i) => cut(c, widths[i] ?? 0).padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

function terminalWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : Number.POSITIVE_INFINITY;
}

function fitWidths(widths: number[], headers: string[], maxWidth: number): void {
  const gaps = 2 * Math.max(0, widths.length - 1);
  const floor = (i: number) => Math.min(widths[i]!, Math.max(4, Math.min(headers[i]!.length, 12)));
  let over = widths.reduce((a, b) => a + b, 0) + gaps - maxWidth;
  while (over > 0) {
    // Shrink the widest column that can still give, one character at a time.
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i]! > floor(i) && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) return; // nothing left to give: the terminal wraps what remains
    widths[widest]!--;
    over--;
  }
}

export const mib = (n: number | null | undefined) => (n === null || n === undefined ? "-" : n >= 1024 ? `${(n / 1024).toFixed(1)}G` : `${n}M`);
export const ago = (t: string | number | null | undefined) => {
  if (!t) return "-";
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
};
