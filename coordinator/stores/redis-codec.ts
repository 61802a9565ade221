/**
 * JobRecord <-> Redis hash fields. Every field is JSON except `status` and `type` (raw, so
 * Lua can compare and index them without decoding), and the lease, kept as raw `_ln`,
 * `_lt`, `_le` so the fencing check is a plain string compare. Lua never decodes JSON, so
 * user params (including empty arrays, which Redis's cjson would turn into objects)
 * round-trip exactly.
 */
import type { JobHistoryEntry, JobRecord } from "../../core/job.ts";
import type { JobPatch, UnsettableField } from "../job-store.ts";

const RAW = new Set(["status", "type"]);

export function encodeField(key: string, value: unknown): string {
  return RAW.has(key) ? String(value) : JSON.stringify(value);
}

/** Field/value pairs for a new record (history and lease are stored apart). */
export function encodeRecord(rec: JobRecord): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(rec)) {
    if (v === undefined || k === "history" || k === "lease") continue;
    out.push(k, encodeField(k, v));
  }
  if (rec.lease) out.push("_ln", rec.lease.node_id, "_lt", String(rec.lease.token), "_le", String(rec.lease.expires_at), "_seq", String(rec.lease.token));
  return out;
}

export function encodePatch(patch: JobPatch): { sets: string[]; unsets: string[] } {
  const sets: string[] = [];
  const unsets: string[] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) unsets.push(k);
    else sets.push(k, encodeField(k, v));
  }
  return { sets, unsets };
}

export function unsetFields(fields: readonly UnsettableField[]): string[] {
  return fields.flatMap((f) => (f === "lease" ? ["_ln", "_lt", "_le"] : [f]));
}

/** Rebuild a record from HGETALL's flat [field, value, ...] array and the history list. */
export function decodeRecord(flat: readonly string[], hist: readonly string[]): JobRecord | null {
  if (flat.length === 0) return null;
  const out: Record<string, unknown> = {};
  let ln: string | undefined;
  let lt: string | undefined;
  let le: string | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!;
    const v = flat[i + 1]!;
    if (k === "_ln") ln = v;
    else if (k === "_lt") lt = v;
    else if (k === "_le") le = v;
    else if (k.startsWith("_")) continue;
    else out[k] = RAW.has(k) ? v : JSON.parse(v);
  }
  if (ln !== undefined && lt !== undefined && le !== undefined) out.lease = { node_id: ln, token: Number(lt), expires_at: Number(le) };
  out.history = hist.map((h) => JSON.parse(h) as JobHistoryEntry);
  return out as unknown as JobRecord;
}
