/** The cross-photo evaluation set's sources: disjoint splits, seeded LFW draw, exclusions. */
import { test } from "vitest";
import assert from "node:assert/strict";
import { planLfw } from "../../scripts/face-eval/assemble.ts";
import { LFW_EXCLUDE, LFW_SOURCE, REPO_SOURCES } from "../../scripts/face-eval/sources.ts";

/** A synthetic LFW listing: 300 people with 1-6 photos each, plus people the other sources have. */
function listing(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 300; i++) {
    const person = `Person_${String(i).padStart(3, "0")}`;
    const n = 1 + (i % 6);
    for (let k = 1; k <= n; k++) out.push(`${person}/${person}_${String(k).padStart(4, "0")}.jpg`);
  }
  for (const p of ["Angelina_Jolie", "Barack_Obama", "Jim_Parsons"]) for (const k of [1, 2, 3]) out.push(`${p}/${p}_000${k}.jpg`);
  out.push("README.txt", "Person_000/notes.txt");
  return out;
}

test("planLfw draws the same people every time, disjoint between dev and held-out", () => {
  const a = planLfw(listing());
  assert.deepEqual(planLfw(listing()), a);
  const people = (split: string) => new Set(a.filter((p) => p.split === split).map((p) => p.identity));
  const dev = people("dev"),
    held = people("heldout");
  assert.equal([...dev].filter((x) => held.has(x)).length, 0);
  const multi = (split: string) => [...people(split)].filter((id) => a.filter((p) => p.split === split && p.identity === id).length >= 2).length;
  assert.equal(multi("dev"), LFW_SOURCE.multiPerSplit);
  assert.equal(multi("heldout"), LFW_SOURCE.multiPerSplit);
  assert.equal(dev.size, LFW_SOURCE.multiPerSplit + LFW_SOURCE.singlePerSplit);
  for (const id of [...dev, ...held]) assert.ok(a.filter((p) => p.identity === id).length <= LFW_SOURCE.maxPhotos, id);
  assert.ok(a.every((p) => p.path.startsWith(`${LFW_SOURCE.dir}/`) && p.path.endsWith(".jpg")));
});

test("planLfw leaves out people the other sources already have, so no impostor pair is the same person", () => {
  const ids = new Set(planLfw(listing()).map((p) => p.identity));
  for (const name of ["angelina_jolie", "barack_obama", "jim_parsons"]) {
    assert.ok(LFW_EXCLUDE.has(name), name);
    assert.ok(!ids.has(`lfw_${name}`), name);
  }
});

test("named sources: each split has cross-photo identities, none shared between splits, one file per photograph", () => {
  const bySplit = { dev: new Set<string>(), heldout: new Set<string>() };
  for (const s of REPO_SOURCES) {
    assert.match(s.commit, /^[0-9a-f]{40}$/);
    assert.ok(s.licence.length > 0);
    for (const p of s.photos) bySplit[s.split].add(p.identity);
    const paths = s.photos.map((p) => p.path);
    assert.equal(new Set(paths).size, paths.length, `${s.repo} lists a file twice`);
  }
  assert.equal([...bySplit.dev].filter((x) => bySplit.heldout.has(x)).length, 0);
  for (const split of ["dev", "heldout"] as const) {
    const counts = new Map<string, number>();
    for (const s of REPO_SOURCES.filter((r) => r.split === split)) for (const p of s.photos) counts.set(p.identity, (counts.get(p.identity) ?? 0) + 1);
    assert.ok([...counts.values()].filter((n) => n >= 2).length >= 5, split);
  }
});
