/** The import-cycle check run by npm test (scripts/check-cycles.ts): runtime cycles found, type-only ones not. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "vitest";
import { promisify } from "node:util";
import { cycles, runtimeImports } from "../../scripts/check-cycles.ts";

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, "../../scripts/check-cycles.ts");

function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-cycles-"));
  for (const [name, src] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), src);
  }
  return dir;
}

test("reads runtime imports and leaves type-only ones out", () => {
  const f = "/x/a.ts";
  const src = [
    'import { b } from "./b.ts";',
    'import type { C } from "./c.ts";',
    'import { type D, type E } from "./d.ts";',
    'export { f } from "../f.ts";',
    'export type { G } from "./g.ts";',
    'import "./side.ts";',
    'const h = await import("./h.ts");',
    'import fs from "node:fs";',
  ].join("\n");
  assert.deepEqual(runtimeImports(f, src).sort(), ["/f.ts", "/x/b.ts", "/x/h.ts", "/x/side.ts"]);
});

test("finds each strongly connected group once", () => {
  const g = new Map([
    ["a", ["b"]],
    ["b", ["c"]],
    ["c", ["a"]],
    ["d", ["a"]],
    ["e", ["e"]],
    ["f", []],
  ]);
  assert.deepEqual(
    cycles(g)
      .map((c) => c.join(","))
      .sort(),
    ["a,b,c", "e"],
  );
});

test("the command fails naming a cycle, and passes once the back edge is type-only", async () => {
  const dir = tree({
    "core/a.ts": 'import { b } from "../api/b.ts";\nexport const a = 1 + b;\n',
    "api/b.ts": 'import { a } from "../core/a.ts";\nexport const b = 2;\nexport const c = a;\n',
  });
  try {
    const bad = await run(process.execPath, ["--import", "tsx", SCRIPT, path.join(dir, "core"), path.join(dir, "api")], {
      cwd: path.resolve(import.meta.dirname, "../.."),
    }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    assert.ok(bad, "a cycle must fail the check");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /import cycle among 2 files: \S*api\/b\.ts -> \S*core\/a\.ts -> \S*api\/b\.ts/);
    fs.writeFileSync(path.join(dir, "api/b.ts"), 'import type { A } from "../core/a.ts";\nexport const b = 2;\nexport type C = A;\n');
    const ok = await run(process.execPath, ["--import", "tsx", SCRIPT, path.join(dir, "core"), path.join(dir, "api")], {
      cwd: path.resolve(import.meta.dirname, "../.."),
    });
    assert.match(ok.stdout, /import cycles: none \(2 files\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
