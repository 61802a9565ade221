/**
 * Packs farmctl as a package of its own: one bundled ES module (the CLI, its tables and the
 * `ws` client inside; no dependencies, no TypeScript at run time), so an operator's laptop
 * installs it without the farm:
 *
 *   npm run pack:farmctl                      # -> .farm/farmctl/nano-banana-farmctl-<version>.tgz
 *   npm i -g .farm/farmctl/nano-banana-farmctl-<version>.tgz
 *   farmctl --url http://farm:8000 status
 *
 * Prints the tarball's path on its last line.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.resolve(process.argv[2] ?? path.join(root, ".farm/farmctl"));
const pkgDir = path.join(out, "package");
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(pkgDir, { recursive: true });

const farm = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string; license: string; engines: Record<string, string> };
await build({
  entryPoints: [path.join(root, "cli/farmctl-bin.ts")],
  outfile: path.join(pkgDir, "farmctl.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // ws loads these native speed-ups only if installed; without them it uses plain JS.
  external: ["bufferutil", "utf-8-validate"],
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __farmctlRequire } from 'node:module'; const require = __farmctlRequire(import.meta.url);" },
  logLevel: "warning",
});
fs.chmodSync(path.join(pkgDir, "farmctl.mjs"), 0o755);
fs.writeFileSync(
  path.join(pkgDir, "package.json"),
  JSON.stringify(
    {
      name: "nano-banana-farmctl",
      version: farm.version,
      description: "farmctl: the Nano Banana render farm's operator CLI (status, nodes, jobs, submit --wait, drain, why)",
      license: farm.license,
      type: "module",
      bin: { farmctl: "farmctl.mjs" },
      engines: farm.engines,
    },
    null,
    2,
  ) + "\n",
);
fs.writeFileSync(
  path.join(pkgDir, "README.md"),
  "# farmctl\n\nThe Nano Banana render farm's operator CLI. `farmctl --help` lists the commands; `--url` (or `FARM_URL`) names the farm's API and `--api-key` (or `FARM_API_KEY`) the key.\n",
);
const tgz = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: pkgDir, encoding: "utf8" }).trim().split("\n").pop()!;
process.stdout.write(`${path.join(out, tgz)}\n`);
