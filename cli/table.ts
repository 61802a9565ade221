/** Plain-text tables for farmctl's human output. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

export const mib = (n: number | null | undefined) => (n === null || n === undefined ? "-" : n >= 1024 ? `${(n / 1024).toFixed(1)}G` : `${n}M`);
export const ago = (t: string | number | null | undefined) => {
  if (!t) return "-";
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
};
