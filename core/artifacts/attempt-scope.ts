/**
 * Outputs per attempt (issue 18 item 6). A job's attempt may outlive its lease: a stalled
 * agent wakes after the job was re-run elsewhere and completed. Both attempts compute the
 * same output key from the job id (`outputs/images/<job>.png`), so the late one used to
 * overwrite the file the completed job's result points at.
 *
 * Here every attempt writes its outputs under its own key: the attempt's lease token is
 * put into the file name (`outputs/images/<job>.lease2.png`), and the result the attempt
 * reports names those keys. Publishing is the coordinator accepting that result: it takes
 * only the report of the current lease (fenced by token and node), so the completed job's
 * result always names the files of the attempt that completed it, and a fenced attempt's
 * files are named by nothing (the retention sweep removes them with other old outputs).
 * No copy or rename is needed, and a reader never sees a half-moved file.
 *
 * The first lease (token 1) keeps the plain name: its files are distinct from every later
 * attempt's all the same, and the common case keeps the names clients and docs know.
 * Only `outputs/` keys are scoped; reads of a key this attempt wrote go to its own copy.
 */
import type { ArtifactInfo, ArtifactStore, ByteRange, PutBody, PutOptions } from "../artifact-store.ts";

const OUTPUTS = "outputs/";
const MAX_DEPTH = 12;

/** `outputs/a/b.png` for lease token 3 -> `outputs/a/b.lease3.png`; token <= 1 -> unchanged. */
export function attemptKey(key: string, token: number): string {
  if (!key.startsWith(OUTPUTS) || !(token > 1)) return key;
  const slash = key.lastIndexOf("/");
  const dot = key.lastIndexOf(".");
  const tag = `.lease${Math.floor(token)}`;
  return dot > slash + 1 ? `${key.slice(0, dot)}${tag}${key.slice(dot)}` : `${key}${tag}`;
}

export interface AttemptScope {
  /** The store the attempt's plugin uses. */
  readonly store: ArtifactStore;
  /** The attempt's result with every key it wrote (as `outputs/...` or `/outputs/...`) renamed to its own copy. */
  result<T>(value: T): T;
}

export function attemptScope(base: ArtifactStore, token: number | undefined): AttemptScope {
  if (token === undefined || !(token > 1)) return { store: base, result: (v) => v };
  const written = new Set<string>();
  const scoped = (key: string) => (written.has(key) ? attemptKey(key, token) : key);
  const writing = (key: string) => {
    if (!key.startsWith(OUTPUTS)) return key;
    written.add(key);
    return attemptKey(key, token);
  };
  const unscope = (info: ArtifactInfo, key: string): ArtifactInfo => ({ ...info, key });
  const store: ArtifactStore = {
    kind: base.kind,
    put: async (key: string, body: PutBody, opts?: PutOptions) => unscope(await base.put(writing(key), body, opts), key),
    putFile: async (key: string, filePath: string, contentType?: string) => unscope(await base.putFile(writing(key), filePath, contentType), key),
    get: (key: string, range?: ByteRange) => base.get(scoped(key), range),
    getToFile: (key: string, filePath: string) => base.getToFile(scoped(key), filePath),
    stat: async (key: string) => {
      const info = await base.stat(scoped(key));
      return info ? unscope(info, key) : null;
    },
    delete: async (key: string) => {
      await base.delete(scoped(key));
      written.delete(key);
    },
    list: (prefix: string) => base.list(prefix),
    ...(base.close ? { close: () => base.close!() } : {}),
    ...(base.linkFile
      ? {
          linkFile: (key: string, filePath: string, expect: { dev: number; ino: number }, opts?: PutOptions) => {
            const info = base.linkFile!(writing(key), filePath, expect, opts);
            return info && unscope(info, key);
          },
        }
      : {}),
    ...(base.writer
      ? {
          writer: (key: string, opts?: PutOptions) => {
            const w = base.writer!(writing(key), opts);
            return w && { write: (c: Buffer) => w.write(c), commit: () => unscope(w.commit(), key), abort: () => w.abort() };
          },
        }
      : {}),
  };
  const rename = (s: string): string => {
    if (s.startsWith(OUTPUTS)) return written.has(s) ? attemptKey(s, token) : s;
    if (s.startsWith(`/${OUTPUTS}`)) {
      const key = s.slice(1);
      return written.has(key) ? `/${attemptKey(key, token)}` : s;
    }
    return s;
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === "string") return rename(v);
    if (depth >= MAX_DEPTH || v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x, depth + 1);
    return out;
  };
  return { store, result: <T>(value: T) => (written.size === 0 ? value : (walk(value, 0) as T)) };
}
