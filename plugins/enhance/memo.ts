/**
 * A string-keyed memo with a hard size bound. The enhancer analyses the same knowledge-base
 * phrases on every call, so computing their words once pays off; user text (prompts, LLM
 * answers) is unbounded, so the memo is emptied when it reaches its limit instead of growing
 * forever. Emptying everything is crude but cheap, and the knowledge-base entries come back
 * on the next call. Values must be pure functions of the key and must never be mutated.
 */
export class BoundedMemo<V> {
  private readonly map = new Map<string, V>();

  constructor(
    private readonly limit: number,
    private readonly compute: (key: string) => V,
  ) {}

  get(key: string): V {
    let v = this.map.get(key);
    if (v === undefined) {
      if (this.map.size >= this.limit) this.map.clear();
      v = this.compute(key);
      this.map.set(key, v);
    }
    return v;
  }
}

/** Entries kept per memo before it is emptied (a few MB at most). */
export const MEMO_LIMIT = 20_000;
