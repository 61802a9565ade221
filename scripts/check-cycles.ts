/**
 * Import-cycle check, run by `npm test` (scripts/test.sh) with the lint.
 *
 * A cycle of runtime imports makes module start-up order decide whether a value exists
 * when it is read (an exported const is `undefined`, a class "is not a constructor"),
 * and it means two folders no longer say which one builds on the other. Type-only imports
 * (`import type`, `export type`) vanish at run time and are not counted.
 *
 * It reads the static `import ... from` / `export ... from` / `import "x"` / `import("x")`
 * specifiers of every .ts file under the project's source folders, resolves the relative
 * ones, and reports each strongly connected group of files (Tarjan) with one cycle through
 * it. Exit code 1 when any cycle exists. A dozen lines of regex instead of a dependency:
 * the project writes imports one way (relative, with the .ts extension).
 *
 *   node --import tsx scripts/check-cycles.ts [folder ...]
 */
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const DEFAULT_DIRS = ["api", "bench", "cli", "coordinator", "core", "deploy", "mesh", "models", "node-agent", "plugins", "scripts", "test"];
const SKIP = new Set(["node_modules", "ui", "data"]);

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

// `import x from "y"`, `import { a, type b } from "y"`, `export { a } from "y"`, `export * from "y"`,
// `import "y"`, `import("y")`; the leading keyword tells type-only ones apart.
const STATIC = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*["']([^"']+)["']/gm;
const BARE = /^\s*import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Runtime imports of one file (relative specifiers only), as absolute paths. */
export function runtimeImports(file: string, src: string): string[] {
  const out: string[] = [];
  const add = (spec: string) => {
    if (!spec.startsWith(".")) return;
    const target = path.resolve(path.dirname(file), spec);
    out.push(fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, "index.ts") : target);
  };
  for (const m of src.matchAll(STATIC)) {
    if (m[2]) continue; // import type / export type
    const clause = m[3] ?? "";
    // `import { type A, type B } from` imports nothing at run time either.
    const names = /^\{([^}]*)\}$/.exec(clause.trim());
    if (
      names &&
      names[1]!
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith("type "))
    )
      continue;
    add(m[4]!);
  }
  for (const m of src.matchAll(BARE)) add(m[1]!);
  for (const m of src.matchAll(DYNAMIC)) add(m[1]!);
  return out;
}

/** Strongly connected components of size > 1 (or a file importing itself), each as a list of files. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** One concrete cycle inside a component: a path from its first file back to itself. */
function oneCycle(comp: readonly string[], graph: ReadonlyMap<string, readonly string[]>): string[] {
  const inComp = new Set(comp);
  const start = comp[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const cycle = [v];
        for (let u = v; u !== start; u = prev.get(u)!) cycle.push(prev.get(u)!);
        return [...cycle.reverse(), start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

function main(): void {
  const dirs = process.argv.slice(2);
  const files = (dirs.length > 0 ? dirs : DEFAULT_DIRS).flatMap((d) => tsFiles(path.resolve(ROOT, d)));
  const graph = new Map<string, string[]>();
  for (const f of files) graph.set(f, runtimeImports(f, fs.readFileSync(f, "utf8")));
  const found = cycles(graph);
  const rel = (f: string) => path.relative(ROOT, f);
  if (found.length === 0) {
    console.log(`import cycles: none (${files.length} files)`);
    return;
  }
  for (const comp of found) {
    console.error(`import cycle among ${comp.length} files: ${oneCycle(comp, graph).map(rel).join(" -> ")}`);
  }
  console.error(`${found.length} import cycle(s); break them (move the shared part down a layer, or import only types)`);
  process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
