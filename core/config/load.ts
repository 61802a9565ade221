/**
 * Load farm.config.yaml, apply environment overrides, validate against the schema,
 * derive paths, and freeze. Problems are collected and reported all at once.
 *
 * Environment overrides: FARM_<SECTION>__<KEY>=value (double underscore between levels),
 * e.g. FARM_API__PORT=9000, FARM_MODE=distributed, FARM_MESH__TRANSPORTER=nats://h:4222.
 * Values are parsed as YAML scalars (numbers, booleans, JSON arrays). FARM_CONFIG names
 * the file (default ./farm.config.yaml).
 */
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import { Ajv } from "ajv";
import YAML from "yaml";
import { configSchema, type FarmConfig } from "./schema.ts";
import { meshSecurityProblems } from "./mesh-security.ts";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid farm config:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(configSchema);

export interface LoadOptions {
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Deep-merged over the file and env (tests and role launchers). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): FarmConfig {
  const env = opts.env ?? process.env;
  const file = opts.file === undefined ? (env.FARM_CONFIG ?? "farm.config.yaml") : opts.file;
  let raw: Record<string, unknown> = {};
  if (file) {
    if (fs.existsSync(file)) {
      const parsed = parseYamlFile(file);
      if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed))) {
        throw new ConfigError([`${file}: top level must be a mapping`]);
      }
      raw = (parsed as Record<string, unknown>) ?? {};
    } else if (env.FARM_CONFIG) {
      throw new ConfigError([`FARM_CONFIG: file ${file} does not exist`]);
    }
  }
  applyEnv(raw, env);
  if (opts.overrides) deepMerge(raw, structuredClone(opts.overrides));
  return buildConfig(raw);
}

/**
 * Parses the config file, turning YAML syntax errors into a ConfigError that names the file,
 * line and column of each problem: a stack trace and exit 1 would make systemd restart the
 * process every 2 s, while ConfigError exits 78 (EX_CONFIG), which the units do not restart.
 */
function parseYamlFile(file: string): unknown {
  const text = fs.readFileSync(file, "utf8");
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        const where = at ? `${file}:${at.line}:${at.col}` : file;
        // The first line of the parser's message is the reason (its own " at line L, column C:"
        // suffix dropped, the position leads instead); the rest is a code excerpt.
        const reason = (e.message.split("\n")[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, "");
        return `${where}: YAML syntax error: ${reason}`;
      }),
    );
  }
  return doc.toJS() as unknown;
}

export function buildConfig(raw: Record<string, unknown>): FarmConfig {
  const cfg = structuredClone(raw);
  if (!validate(cfg)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = (e.instancePath || "/").slice(1).replace(/\//g, ".") || "(root)";
      if (e.keyword === "additionalProperties") {
        return `${key === "(root)" ? "" : key + "."}${String(e.params.additionalProperty)}: unknown key`;
      }
      const got = valueAt(cfg, e.instancePath);
      return `${key}: expected ${describeExpected(e)}, got ${JSON.stringify(got)}`;
    });
    throw new ConfigError(problems);
  }
  const c = cfg as unknown as FarmConfig;
  const meshProblems = meshSecurityProblems(c.mesh);
  if (meshProblems.length > 0) throw new ConfigError(meshProblems);
  const p = c.paths;
  p.data_dir = path.resolve(p.data_dir);
  p.uploads = path.resolve(p.uploads ?? path.join(p.data_dir, "uploads"));
  p.outputs = path.resolve(p.outputs ?? path.join(p.data_dir, "outputs"));
  p.cache = path.resolve(p.cache ?? path.join(p.data_dir, "cache"));
  p.models = path.resolve(p.models ?? path.join(p.data_dir, "models"));
  p.state = path.resolve(p.state ?? path.join(p.data_dir, "state"));
  p.allowed_input_dirs = p.allowed_input_dirs.map((d) => path.resolve(d));
  c.artifacts.kind ??= c.mode === "distributed" ? "s3" : "fs";
  c.agent.work_dir = path.resolve(c.agent.work_dir ?? path.join(os.tmpdir(), "nb-farm-work"));
  return deepFreeze(c);
}

function describeExpected(e: { keyword: string; params: Record<string, unknown>; message?: string }): string {
  switch (e.keyword) {
    case "type":
      return String(e.params.type);
    case "enum":
      return `one of ${JSON.stringify(e.params.allowedValues)}`;
    case "minimum":
      return `>= ${String(e.params.limit)}`;
    case "maximum":
      return `<= ${String(e.params.limit)}`;
    case "pattern":
      return `a string matching ${String(e.params.pattern)}`;
    case "required":
      return `key '${String(e.params.missingProperty)}'`;
    default:
      return e.message ?? e.keyword;
  }
}

function valueAt(obj: unknown, pointer: string): unknown {
  let cur: unknown = obj;
  for (const part of pointer.split("/").slice(1)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("FARM_") || name === "FARM_CONFIG" || value === undefined) continue;
    const keys = name.slice(5).toLowerCase().split("__");
    let cur = raw;
    for (const k of keys.slice(0, -1)) {
      if (typeof cur[k] !== "object" || cur[k] === null) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    // Only scalars and flow collections are parsed ("nb:" must stay a string, not a map).
    let parsed: unknown = value;
    if (/^\s*(true|false|-?\d+(\.\d+)?([eE][-+]?\d+)?|\[.*\]|\{.*\})\s*$/s.test(value)) {
      try {
        parsed = YAML.parse(value);
      } catch {
        /* keep the string */
      }
    }
    cur[keys[keys.length - 1]!] = parsed ?? value;
  }
}

export function deepMerge(target: Record<string, unknown>, src: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(src)) {
    const t = target[k];
    if (v && typeof v === "object" && !Array.isArray(v) && t && typeof t === "object" && !Array.isArray(t)) {
      deepMerge(t as Record<string, unknown>, v as Record<string, unknown>);
    } else target[k] = v;
  }
  return target;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
