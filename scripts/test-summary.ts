/**
 * Prints what `npm test` ends with: line coverage per top-level folder (from vitest's
 * json-summary coverage report) and the plain line `N passed, N failed` that CI reads.
 * Usage: test-summary.ts <vitest json report> [coverage-summary.json]
 */
import fs from "node:fs";
import path from "node:path";

type Pct = { total: number; covered: number };
type FileSummary = { lines: Pct; statements: Pct; functions: Pct; branches: Pct };

const [reportPath, coveragePath] = process.argv.slice(2);
if (!reportPath) throw new Error("usage: test-summary.ts <vitest json report> [coverage-summary.json]");

if (coveragePath && fs.existsSync(coveragePath)) {
  const summary = JSON.parse(fs.readFileSync(coveragePath, "utf8")) as Record<string, FileSummary>;
  const folders = new Map<string, FileSummary>();
  const root = process.cwd();
  for (const [file, s] of Object.entries(summary)) {
    if (file === "total") continue;
    const rel = path.relative(root, file).split(path.sep);
    const key = rel[0] === "plugins" && rel.length > 2 ? `plugins/${rel[1]}` : (rel[0] ?? file);
    const acc = folders.get(key) ?? { lines: zero(), statements: zero(), functions: zero(), branches: zero() };
    for (const k of ["lines", "statements", "functions", "branches"] as const) {
      acc[k].total += s[k].total;
      acc[k].covered += s[k].covered;
    }
    folders.set(key, acc);
  }
  console.log("\n== coverage (v8) per folder");
  console.log(`${"folder".padEnd(22)} ${"lines".padStart(7)} ${"stmts".padStart(7)} ${"funcs".padStart(7)} ${"branch".padStart(7)}`);
  for (const [key, s] of [...folders].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`${key.padEnd(22)} ${pct(s.lines)} ${pct(s.statements)} ${pct(s.functions)} ${pct(s.branches)}`);
  }
}

// vitest writes no report when it cannot start (a config error): say so, and count it failed.
if (!fs.existsSync(reportPath)) {
  console.log("vitest wrote no report");
  console.log("0 passed, 1 failed");
} else {
  type FileResult = { status: string; assertionResults: { status: string }[] };
  const report = JSON.parse(fs.readFileSync(reportPath, "utf8")) as { numPassedTests: number; numFailedTests: number; testResults: FileResult[] };
  // A file whose hooks or imports failed has no failed test of its own: count it once.
  const brokenFiles = report.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
  console.log(`${report.numPassedTests} passed, ${report.numFailedTests + brokenFiles} failed`);
}

function zero(): Pct {
  return { total: 0, covered: 0 };
}
function pct(p: Pct): string {
  return `${p.total === 0 ? "-" : ((100 * p.covered) / p.total).toFixed(1)}%`.padStart(7);
}
