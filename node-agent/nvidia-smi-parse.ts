/**
 * Parser for `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` output.
 *
 * Kept separate from the probe so it can be tested on captured output from real
 * machines. Drivers print `[N/A]`, `[Not Supported]`, blanks or padded values for
 * fields a board does not expose (utilisation on some vGPUs / MIG slices, temperature
 * on passive boards); those become null instead of NaN or a crash.
 */
import type { GpuInfo } from "../core/telemetry.ts";

/** The fields we query, in order. Changing this list changes the parser's column map. */
export const NVIDIA_SMI_FIELDS = ["index", "uuid", "name", "memory.total", "memory.used", "utilization.gpu", "temperature.gpu"] as const;

export const NVIDIA_SMI_ARGS = [`--query-gpu=${NVIDIA_SMI_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];

/** A number, or null for `[N/A]`, `[Not Supported]`, `N/A`, blank and other non-numbers. */
export function parseSmiNumber(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const v = raw.trim();
  if (v === "" || v.startsWith("[") || /^n\/?a$/i.test(v)) return null;
  // "nounits" should strip units, but older drivers still append them ("81559 MiB", "35 %").
  const m = /^(-?\d+(?:\.\d+)?)/.exec(v);
  return m ? Number(m[1]) : null;
}

/**
 * Parse the whole output. Lines that do not have the expected column count or a usable
 * index are skipped (and listed in `skipped`) rather than failing the whole probe:
 * one odd board must not hide the others.
 */
export function parseNvidiaSmi(output: string): { gpus: GpuInfo[]; skipped: string[] } {
  const gpus: GpuInfo[] = [];
  const skipped: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    // GPU names never contain commas (nvidia-smi would quote them otherwise); split plainly.
    const cols = line.split(",").map((c) => c.trim());
    if (cols.length !== NVIDIA_SMI_FIELDS.length) {
      skipped.push(line);
      continue;
    }
    const [idx, uuid, name, total, used, util, temp] = cols as [string, string, string, string, string, string, string];
    const index = parseSmiNumber(idx);
    if (index === null || !Number.isInteger(index) || index < 0) {
      skipped.push(line);
      continue;
    }
    gpus.push({
      index,
      uuid,
      name,
      memory_total_mb: parseSmiNumber(total) ?? 0,
      memory_used_mb: parseSmiNumber(used) ?? 0,
      utilization_pct: parseSmiNumber(util),
      temperature_c: parseSmiNumber(temp),
      simulated: false,
    });
  }
  gpus.sort((a, b) => a.index - b.index);
  return { gpus, skipped };
}
