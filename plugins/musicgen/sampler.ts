/**
 * Seeded sampling of one codebook's next code from its logits: classifier-free guidance,
 * temperature, top-k, top-p, then one draw. The generator is a private Mersenne Twister
 * instance per job (transformers.js' `random.Random`, Python-compatible), never the
 * library's global one, so concurrent jobs in one process cannot disturb each other's draws
 * and the same seed gives the same codes (on the same execution provider: CUDA and CPU
 * logits differ in the last bits).
 */
/** A uniform [0, 1) generator (one per job). */
export interface Rng {
  random(): number;
}

/**
 * transformers.js' Mersenne Twister seeded for one job. Imported on first use: the library
 * takes seconds to import on a busy machine, and an agent that never runs MusicGen should
 * not pay for it at start.
 */
export async function seededRng(seed: number): Promise<Rng> {
  const { random } = await import("@huggingface/transformers");
  return new random.Random(seed);
}

export interface SamplingParams {
  temperature: number;
  /** Keep the k most likely codes; 0 = no top-k. */
  topK: number;
  /** Keep the smallest set whose probability reaches p; 0 or 1 = off. */
  topP: number;
  /** Classifier-free guidance scale; <= 1 = no unconditional pass. */
  guidanceScale: number;
}

export class CodeSampler {
  private readonly scratch: Float32Array;
  private readonly work: Float32Array;
  private readonly idx: Int32Array;

  constructor(
    private readonly rng: Rng,
    private readonly vocab: number,
    private readonly p: SamplingParams,
  ) {
    this.scratch = new Float32Array(vocab);
    this.work = new Float32Array(vocab);
    this.idx = new Int32Array(vocab);
  }

  /**
   * Draw a code from logits[cond .. cond+vocab) (and the unconditional row at `uncond`,
   * when guidance is on): uncond + scale * (cond - uncond), as transformers'
   * ClassifierFreeGuidanceLogitsProcessor does.
   */
  sample(logits: Float32Array, cond: number, uncond: number | null): number {
    const V = this.vocab;
    const s = this.scratch;
    const t = this.p.temperature;
    if (uncond !== null && this.p.guidanceScale > 1) {
      const g = this.p.guidanceScale;
      for (let i = 0; i < V; i++) {
        const u = logits[uncond + i]!;
        s[i] = (u + g * (logits[cond + i]! - u)) / t;
      }
    } else {
      for (let i = 0; i < V; i++) s[i] = logits[cond + i]! / t;
    }
    const k = this.p.topK > 0 && this.p.topK < V ? this.p.topK : V;
    const threshold = k < V ? kthLargest(s, k, this.work) : -Infinity;
    // Softmax over the kept codes (everything >= the k-th value; ties keep a few more).
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (s[i]! >= threshold && s[i]! > max) max = s[i]!;
    let n = 0;
    let sum = 0;
    for (let i = 0; i < V; i++) {
      if (s[i]! >= threshold) {
        const e = Math.exp(s[i]! - max);
        s[i] = e;
        sum += e;
        this.idx[n++] = i;
      } else s[i] = 0;
    }
    if (this.p.topP > 0 && this.p.topP < 1) {
      // Most likely first; keep until the mass reaches p (the code crossing it included).
      const kept = Array.from(this.idx.subarray(0, n)).sort((a, b) => s[b]! - s[a]! || a - b);
      let mass = 0;
      let cut = kept.length;
      for (let j = 0; j < kept.length; j++) {
        mass += s[kept[j]!]! / sum;
        if (mass >= this.p.topP) {
          cut = j + 1;
          break;
        }
      }
      sum = 0;
      for (let j = 0; j < kept.length; j++) {
        if (j < cut) sum += s[kept[j]!]!;
        else s[kept[j]!] = 0;
      }
      kept.length = cut;
      kept.sort((a, b) => a - b);
      n = cut;
      for (let j = 0; j < n; j++) this.idx[j] = kept[j]!;
    }
    let r = this.rng.random() * sum;
    for (let j = 0; j < n; j++) {
      const i = this.idx[j]!;
      r -= s[i]!;
      if (r < 0) return i;
    }
    return this.idx[n - 1]!;
  }
}

/** The k-th largest value of `v` (quickselect on a copy: O(V), no sort of 2048 logits per step). */
export function kthLargest(v: Float32Array, k: number, work: Float32Array): number {
  const a = work.subarray(0, v.length);
  a.set(v);
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const tmp = a[i]!;
        a[i] = a[j]!;
        a[j] = tmp;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target]!;
}
