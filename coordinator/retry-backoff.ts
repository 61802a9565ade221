/**
 * How long a retryable failure waits before its job is queued again: exponential in the
 * attempt number, capped, with "equal jitter" (half fixed, half random). Re-queuing at once
 * made a failing provider or a GPU short of memory fail every attempt within a second; the
 * jitter keeps a batch of jobs that failed together from coming back together.
 */
export interface BackoffConfig {
  /** First retry waits about this long (ms); 0 turns backoff off. */
  retry_backoff_ms?: number;
  /** No retry waits longer than this (ms). */
  retry_backoff_max_ms?: number;
}

export function retryDelayMs(attempt: number, cfg: BackoffConfig, random: () => number = Math.random): number {
  const base = cfg.retry_backoff_ms ?? 0;
  if (base <= 0) return 0;
  const cap = cfg.retry_backoff_max_ms ?? 60_000;
  const full = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}
