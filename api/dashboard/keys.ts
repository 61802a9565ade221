/**
 * How a list window's keys travel (see ListSection in protocol.ts): whole, or as the new keys
 * on top plus how many of the previous ones follow. Shared by the server, the page and
 * farmctl watch; no dependencies, so the page's bundle can take it.
 */

/**
 * When `now` is some new keys followed by the first keys of `before` (new jobs on top of a
 * list), the new keys and how many old ones follow; null otherwise.
 */
export function keysShift(before: readonly string[], now: readonly string[]): { head: string[]; keep: number } | null {
  if (now.length === 0) return before.length === 0 ? { head: [], keep: 0 } : null;
  const k = before.length === 0 ? now.length : now.indexOf(before[0]!);
  if (k < 0) return null;
  const keep = now.length - k;
  if (keep > before.length) return null;
  for (let i = 0; i < keep; i++) if (now[k + i] !== before[i]) return null;
  return { head: now.slice(0, k), keep };
}

/** Applies a list section to the keys held before it (client side, and farmctl watch). */
export function keysAfter(before: readonly string[], s: { keys?: string[]; head?: string[]; keep?: number }): string[] {
  return s.keys ?? [...(s.head ?? []), ...before.slice(0, s.keep ?? 0)];
}
