/**
 * Small waits shared by tests: the error a promise rejects with, and a poll on a condition
 * with a generous deadline (a test waits on what it needs, never on a fixed sleep).
 */

/** The error `p` rejects with; throws when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

/** Polls `cond` every 5 ms until it holds; fails only after a generous deadline. */
export async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
