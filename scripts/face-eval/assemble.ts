/**
 * Copies the cross-photo photographs listed in sources.ts out of local git snapshots of their
 * repositories into eval-set/photos/<split>/<identity>/<file> plus a sources.json per split
 * (the `build.ts --add DIR` layout). No network: the snapshots must already be on disk, one
 * bare git directory per repository, `<mirrors>/<owner>+<name>/repo` by default (what the
 * session tooling's fetch leaves; a `git clone --mirror` named that way works too).
 *
 *   node --import tsx scripts/face-eval/assemble.ts [--mirrors DIR] [--out DIR]
 *
 * Then: build.ts --add eval-set/photos/dev (dev manifest, with the demo variants) and
 * build.ts --no-demo --out eval-set/heldout --add eval-set/photos/heldout (held-out).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { mulberry32 } from "../audio-eval/rng.ts";
import { DEFAULT_SET_DIR } from "./manifest.ts";
import { LFW_EXCLUDE, LFW_SOURCE, REPO_SOURCES, type Split } from "./sources.ts";

interface Planned {
  split: Split;
  identity: string;
  repo: string;
  commit: string;
  path: string;
  licence: string;
}

export const gitDirOf = (mirrors: string, repo: string) => path.join(mirrors, repo.replace("/", "+"), "repo");

const git = (gitDir: string, args: string[]) => execFileSync("git", ["--git-dir", gitDir, ...args], { maxBuffer: 256 * 1024 * 1024 });

/** Fisher-Yates with the set's seeded PRNG: the same people on every machine. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const r = mulberry32(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** LFW people drawn for each split: `lfwFiles` is the LFW tree listing (person/file paths). */
export function planLfw(lfwFiles: readonly string[]): Planned[] {
  const byPerson = new Map<string, string[]>();
  for (const f of lfwFiles) {
    const [person, file] = f.split("/");
    if (!person || !file || !/\.jpe?g$/i.test(file)) continue;
    if (LFW_EXCLUDE.has(person.toLowerCase())) continue;
    byPerson.set(person, [...(byPerson.get(person) ?? []), file]);
  }
  const people = [...byPerson.keys()].sort();
  const multi = shuffled(
    people.filter((p) => byPerson.get(p)!.length >= 2),
    LFW_SOURCE.seed,
  );
  const single = shuffled(
    people.filter((p) => byPerson.get(p)!.length === 1),
    LFW_SOURCE.seed + 1,
  );
  const out: Planned[] = [];
  const take = (split: Split, who: string[], max: number) => {
    for (const person of who) {
      for (const file of byPerson.get(person)!.sort().slice(0, max)) {
        out.push({
          split,
          identity: `lfw_${person.toLowerCase()}`,
          repo: LFW_SOURCE.repo,
          commit: LFW_SOURCE.commit,
          path: `${LFW_SOURCE.dir}/${person}/${file}`,
          licence: LFW_SOURCE.licence,
        });
      }
    }
  };
  const m = LFW_SOURCE.multiPerSplit,
    s = LFW_SOURCE.singlePerSplit;
  take("dev", multi.slice(0, m), LFW_SOURCE.maxPhotos);
  take("heldout", multi.slice(m, 2 * m), LFW_SOURCE.maxPhotos);
  take("dev", single.slice(0, s), 1);
  take("heldout", single.slice(s, 2 * s), 1);
  return out;
}

export function plan(mirrors: string): Planned[] {
  const out: Planned[] = REPO_SOURCES.flatMap((s) =>
    s.photos.map((p) => ({ split: s.split, identity: p.identity, repo: s.repo, commit: s.commit, path: p.path, licence: s.licence })),
  );
  const listing = git(gitDirOf(mirrors, LFW_SOURCE.repo), ["ls-tree", "-r", "--name-only", LFW_SOURCE.commit, "--", `${LFW_SOURCE.dir}/`]).toString("utf8");
  const prefix = `${LFW_SOURCE.dir}/`;
  return [
    ...out,
    ...planLfw(
      listing
        .split("\n")
        .filter((l) => l.startsWith(prefix))
        .map((l) => l.slice(prefix.length)),
    ),
  ];
}

export function assemble(mirrors: string, out: string): Record<Split, number> {
  const counts: Record<Split, number> = { dev: 0, heldout: 0 };
  const sources: Record<Split, Record<string, { source: string; licence: string }>> = { dev: {}, heldout: {} };
  for (const split of ["dev", "heldout"] as const) fs.rmSync(path.join(out, split), { recursive: true, force: true });
  for (const p of plan(mirrors)) {
    const file = path.basename(p.path);
    const rel = `${p.identity}/${file}`;
    if (sources[p.split][rel]) throw new Error(`two photos would be written to ${p.split}/${rel}`);
    const dest = path.join(out, p.split, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, git(gitDirOf(mirrors, p.repo), ["show", `${p.commit}:${p.path}`]));
    sources[p.split][rel] = { source: `github:${p.repo}@${p.commit}:${p.path}`, licence: p.licence };
    counts[p.split]++;
  }
  for (const split of ["dev", "heldout"] as const) fs.writeFileSync(path.join(out, split, "sources.json"), JSON.stringify(sources[split], null, 1));
  return counts;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const mirrors = path.resolve(arg("--mirrors") ?? "/work/.mirror");
  const out = path.resolve(arg("--out") ?? path.join(DEFAULT_SET_DIR, "photos"));
  const missing = [...new Set([...REPO_SOURCES.map((s) => s.repo), LFW_SOURCE.repo])].filter((r) => !fs.existsSync(gitDirOf(mirrors, r)));
  if (missing.length) {
    console.error(`no git snapshot of ${missing.join(", ")} under ${mirrors} (expected ${gitDirOf(mirrors, missing[0]!)})`);
    process.exit(2);
  }
  const c = assemble(mirrors, out);
  console.log(`wrote ${out}: dev ${c.dev} photos, heldout ${c.heldout} photos`);
}
