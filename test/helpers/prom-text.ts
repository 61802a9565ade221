/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it rejects
 * what Prometheus would reject (bad names, bad escapes, a sample before its TYPE, a TYPE
 * given twice, a duplicate series, a sample that does not belong to its family's type)
 * and checks histograms for consistency (cumulative buckets, +Inf bucket equal to _count,
 * a _sum and a _count for every bucket set).
 * Reference: https://prometheus.io/docs/instrumenting/exposition_formats/
 */
export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

export class PromParseError extends Error {}

function parseValue(s: string, line: number): number {
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  // Prometheus reads values with Go's strconv.ParseFloat, which takes NaN in any case; prom-client
  // writes "Nan" (e.g. nodejs_eventloop_lag_mean_seconds before its first sample).
  if (s.toLowerCase() === "nan") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new PromParseError(`line ${line}: bad value '${s}'`);
  return Number(s);
}

/** Parse `{a="x",b="y"}` starting at `i` (at '{'); returns the labels and the index after '}'. */
function parseLabels(text: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    if (text[i] === "}") return [labels, i + 1];
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new PromParseError(`line ${line}: label without '='`);
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name)) throw new PromParseError(`line ${line}: bad label name '${name}'`);
    if (name in labels) throw new PromParseError(`line ${line}: label '${name}' twice`);
    if (text[eq + 1] !== '"') throw new PromParseError(`line ${line}: label value must be quoted`);
    let v = "";
    let j = eq + 2;
    for (; ; j++) {
      const c = text[j];
      if (c === undefined) throw new PromParseError(`line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const n = text[++j];
        if (n === "\\") v += "\\";
        else if (n === '"') v += '"';
        else if (n === "n") v += "\n";
        else throw new PromParseError(`line ${line}: bad escape '\\${n}'`);
      } else v += c;
    }
    labels[name] = v;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new PromParseError(`line ${line}: expected ',' or '}' after a label`);
  }
}

/** Which family a sample name belongs to, given the declared types. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const lines = text.split("\n");
  if (lines[lines.length - 1] !== "") throw new PromParseError("the exposition must end with a newline");
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // an ordinary comment
      const [, kind, name, rest = ""] = m;
      if (!NAME.test(name!)) throw new PromParseError(`line ${line}: bad metric name '${name}'`);
      let f = families.get(name!);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new PromParseError(`line ${line}: bad type '${rest}'`);
        if (f && f.samples.length > 0) throw new PromParseError(`line ${line}: TYPE of ${name} after its samples`);
        if (f && f.type !== "untyped") throw new PromParseError(`line ${line}: TYPE of ${name} given twice`);
        if (!f) families.set(name!, (f = { name: name!, type: rest as MetricType, samples: [] }));
        else f.type = rest as MetricType;
      } else {
        if (f?.help !== undefined) throw new PromParseError(`line ${line}: HELP of ${name} given twice`);
        if (!f) families.set(name!, (f = { name: name!, type: "untyped", samples: [] }));
        f.help = rest;
      }
      return;
    }
    const nameEnd = raw.search(/[{ ]/);
    if (nameEnd <= 0) throw new PromParseError(`line ${line}: no value`);
    const name = raw.slice(0, nameEnd);
    if (!NAME.test(name)) throw new PromParseError(`line ${line}: bad metric name '${name}'`);
    let labels: Record<string, string> = {};
    let i = nameEnd;
    if (raw[i] === "{") [labels, i] = parseLabels(raw, i, line);
    const parts = raw.slice(i).trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === "") throw new PromParseError(`line ${line}: expected 'value [timestamp]'`);
    const value = parseValue(parts[0]!, line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new PromParseError(`line ${line}: bad timestamp`);
    const f = familyOf(name, families);
    if (!f) throw new PromParseError(`line ${line}: sample ${name} has no TYPE before it`);
    if (f.type === "histogram" && name === f.name) throw new PromParseError(`line ${line}: histogram ${f.name} sample without _bucket/_sum/_count`);
    if (name.endsWith("_bucket") && f.type === "histogram" && labels.le === undefined) throw new PromParseError(`line ${line}: bucket without le`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(key)) throw new PromParseError(`line ${line}: duplicate series ${name}${JSON.stringify(labels)}`);
    seen.add(key);
    f.samples.push({ name, labels, value });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

const seriesKey = (labels: Record<string, string>) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== "le")
      .sort(),
  );

function checkHistogram(f: Family): void {
  const sets = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  const get = (k: string) => {
    let s = sets.get(k);
    if (!s) sets.set(k, (s = { buckets: [] }));
    return s;
  };
  for (const s of f.samples) {
    const k = seriesKey(s.labels);
    if (s.name.endsWith("_bucket")) get(k).buckets.push([parseValue(s.labels.le!, 0), s.value]);
    else if (s.name.endsWith("_sum")) get(k).sum = s.value;
    else if (s.name.endsWith("_count")) get(k).count = s.value;
  }
  for (const [k, s] of sets) {
    if (s.sum === undefined || s.count === undefined) throw new PromParseError(`histogram ${f.name}${k}: missing _sum or _count`);
    s.buckets.sort((a, b) => a[0] - b[0]);
    const last = s.buckets[s.buckets.length - 1];
    if (!last || last[0] !== Infinity) throw new PromParseError(`histogram ${f.name}${k}: no +Inf bucket`);
    for (let i = 1; i < s.buckets.length; i++) {
      if (s.buckets[i]![1] < s.buckets[i - 1]![1]) throw new PromParseError(`histogram ${f.name}${k}: buckets are not cumulative`);
    }
    if (last[1] !== s.count) throw new PromParseError(`histogram ${f.name}${k}: +Inf bucket ${last[1]} != _count ${s.count}`);
    if (s.count === 0 && s.sum !== 0) throw new PromParseError(`histogram ${f.name}${k}: empty but _sum ${s.sum}`);
  }
}

/** The value of one series (labels must match exactly the given ones, others ignored if `partial`). */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}, partial = true): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const ok = Object.entries(labels).every(([k, v]) => s.labels[k] === v) && (partial || Object.keys(s.labels).length === Object.keys(labels).length);
      if (ok) return s.value;
    }
  }
  return undefined;
}

/** Sum of every series of `name` whose labels include `labels`. */
export function sumOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const f of families.values())
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
  return total;
}
