/**
 * Detection in range (issue 13's target >= 99 %): every photograph of the dev and held-out
 * sets (not the synthetic variants; the face-api demo faces are crops, so their six source
 * group photos stand in for them), the group photos of the same sources, and turned copies
 * (90/180/270, no EXIF) of a fixed sample, through the face.detect job with what the API sends
 * by default (model face-api, the backend's default "fast" detector, landmarks, rotation
 * search on). The range rule and the scoring: count-rule.ts.
 *
 *   node --import tsx scripts/face-eval/detect-count.ts [--mirrors DIR] [--turned N] [--json FILE] [--model M]
 *
 * Group photos come out of the same local git snapshots assemble.ts reads (`--mirrors`,
 * default /work/.mirror) and the face-api npm package; they are cached under
 * eval-set/groups/ (gitignored, never committed: most carry no licence of their own).
 * Prints the markdown table for BENCHMARKS.md "face" (detection count).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import sharp from "sharp";
import facePlugin from "../../plugins/face/index.ts";
import { makeTaskContext } from "../../test/helpers/task-context.ts";
import { gitDirOf } from "./assemble.ts";
import { countTable, expectedFor, scoreCounts, seededSample, turnBack, type CountRange, type CountRow, type LabelFix } from "./count-rule.ts";
import { DEFAULT_SET_DIR, readManifest } from "./manifest.ts";

const require = createRequire(import.meta.url);
const FACE_API_DEMO = path.join(path.dirname(require.resolve("@vladmandic/face-api/package.json")), "demo");

interface GroupPhoto extends CountRange {
  part: "dev" | "held-out";
  /** github:owner/name@commit:path, or npm:<file under @vladmandic/face-api/demo>. */
  source: string;
  licence: string;
  /** What min and max count (by eye, December 2026). */
  note: string;
}

const FR = "ageitgey/face_recognition@2e2dccea9dd0ce730c8d464d0f67c6eebb40c9d1";
const DF = "serengil/deepface@243209fd7b46ecdecf72665cc25219f6e8181f25";
const FAJS = "justadudewhohacks/face-api.js@a86f011d72124e5fb93e59d5c4ab98f699dd5c9c";
const NOT_STATED = "repository: MIT; photo licence not stated (measurement only, not redistributed)";

/** Group photos of the sets' own sources, counted by eye (min: whole faces; max: + partial/background ones). */
export const GROUP_PHOTOS: GroupPhoto[] = [
  ...[3, 3, 3, 4, 5, 4].map((n, i): GroupPhoto => ({
    part: "dev",
    source: `npm:sample${i + 1}.jpg`,
    licence: "MIT (npm @vladmandic/face-api demo/)",
    min: n,
    max: n,
    note: `${n} people, all faces whole`,
  })),
  { part: "dev", source: `github:${FR}:examples/two_people.jpg`, licence: NOT_STATED, min: 2, max: 2, note: "two portraits side by side" },
  {
    part: "dev",
    source: `github:${FR}:examples/knn_examples/test/obama_and_biden.jpg`,
    licence: NOT_STATED,
    min: 2,
    max: 4,
    note: "2 whole; a girl looking down and a woman cut by the right edge",
  },
  {
    part: "dev",
    source: `github:${FR}:examples/knn_examples/test/kit_with_rose.jpg`,
    licence: NOT_STATED,
    min: 2,
    max: 3,
    note: "2 whole; a person cut by the right edge",
  },
  { part: "dev", source: `github:${DF}:tests/unit/dataset/couple.jpg`, licence: NOT_STATED, min: 2, max: 2, note: "two faces, close" },
  {
    part: "dev",
    source: `github:${DF}:tests/unit/dataset/selfie-many-people.jpg`,
    licence: NOT_STATED,
    min: 4,
    max: 7,
    note: "4 whole; 3 cut by the frame (bottom-left woman, top-right man, the selfie taker)",
  },
  { part: "held-out", source: `github:${FAJS}:examples/images/bbt1.jpg`, licence: NOT_STATED, min: 4, max: 4, note: "4 people on a sofa" },
  {
    part: "held-out",
    source: `github:${FAJS}:examples/images/bbt2.jpg`,
    licence: NOT_STATED,
    min: 2,
    max: 4,
    note: "2 in front (one three-quarter); a man at the left edge and one turned away behind",
  },
  { part: "held-out", source: `github:${FAJS}:examples/images/bbt3.jpg`, licence: NOT_STATED, min: 5, max: 5, note: "5 standing" },
  { part: "held-out", source: `github:${FAJS}:examples/images/bbt4.jpg`, licence: NOT_STATED, min: 6, max: 6, note: "6, two rows" },
  { part: "held-out", source: `github:${FAJS}:examples/images/bbt5.jpg`, licence: NOT_STATED, min: 5, max: 5, note: "5, some turned slightly" },
];

/**
 * Portraits whose photo shows other people's faces (count-rule.ts: 1..1+others), set by eye
 * on every portrait face.detect counted more than one face in (December 2026; the first run
 * counted all portraits as 1). Only other people's faces a viewer sees, whole or partial, are
 * counted: a second box on a photo of one person (scarlett_johansson/img49) stays a miss.
 * Key: the manifest's photo_id.
 */
export const LABELS: Record<string, LabelFix> = {
  "ext:jennifer_aniston/img54.jpg": { min: 1, max: 4, why: "a crowd behind her, small faces" },
  "ext:lfw_ahmet_demir/Ahmet_Demir_0001.jpg": { min: 1, max: 4, why: "three men behind" },
  "ext:lfw_heather_mills/Heather_Mills_0002.jpg": { min: 1, max: 2, why: "a woman beside her" },
  "ext:lfw_jeremy_greenstock/Jeremy_Greenstock_0001.jpg": { min: 1, max: 3, why: "a woman behind, a man at the left edge" },
  "ext:lfw_kate_hudson/Kate_Hudson_0002.jpg": { min: 1, max: 4, why: "three women behind, partly hidden" },
  "ext:lfw_neri_marcore/Neri_Marcore_0002.jpg": { min: 1, max: 2, why: "a woman beside him" },
  "ext:lfw_abdel_nasser_assidi/Abdel_Nasser_Assidi_0001.jpg": { min: 1, max: 3, why: "a woman and a man behind" },
  "ext:lfw_abdel_nasser_assidi/Abdel_Nasser_Assidi_0002.jpg": { min: 1, max: 3, why: "a woman behind, a man at the right edge" },
  "ext:lfw_andrew_niccol/Andrew_Niccol_0001.jpg": { min: 1, max: 2, why: "a woman beside him" },
  "ext:lfw_andrew_weissmann/Andrew_Weissmann_0002.jpg": { min: 1, max: 3, why: "men behind at both edges" },
  "ext:lfw_andrew_weissmann/Andrew_Weissmann_0003.jpg": { min: 1, max: 3, why: "men behind at both edges" },
  "ext:lfw_charlotte_rampling/Charlotte_Rampling_0002.jpg": { min: 1, max: 2, why: "a woman beside her" },
  "ext:lfw_guido_westerwelle/Guido_Westerwelle_0002.jpg": { min: 1, max: 3, why: "a man behind, a head at the bottom left" },
  "ext:lfw_michael_caine/Michael_Caine_0001.jpg": { min: 1, max: 3, why: "a man on the right, a person at the left edge" },
  "ext:lfw_lee_soo-hyuck/Lee_Soo-hyuck_0001.jpg": {
    min: 1,
    max: 3,
    why: "a man behind on the right and a woman at the left edge, both in view (seen 2026-12-05)",
  },
  "ext:lfw_ratna_sari_dewi_sukarno/Ratna_Sari_Dewi_Sukarno_0001.jpg": {
    min: 1,
    max: 3,
    why: "a man behind her on the right, a crowd at the left (seen 2026-12-05, once found at the right turn)",
  },
};

/** Copies per sampled photograph: turned clockwise by these degrees, EXIF dropped. */
const TURNS = [90, 180, 270] as const;

function groupFile(g: GroupPhoto, cacheDir: string, mirrors: string): string {
  const name = g.source.replace(/^npm:/, "faceapi-demo-").replace(/^github:([^/]+)\/([^@]+)@[0-9a-f]+:.*\/([^/]+)$/, "$2-$3");
  const dest = path.join(cacheDir, name);
  if (fs.existsSync(dest)) return dest;
  fs.mkdirSync(cacheDir, { recursive: true });
  if (g.source.startsWith("npm:")) fs.copyFileSync(path.join(FACE_API_DEMO, g.source.slice(4)), dest);
  else {
    const [, repo, commit, file] = /^github:([^@]+)@([0-9a-f]+):(.+)$/.exec(g.source)!;
    fs.writeFileSync(dest, execFileSync("git", ["--git-dir", gitDirOf(mirrors, repo!), "show", `${commit}:${file}`], { maxBuffer: 64 * 1024 * 1024 }));
  }
  return dest;
}

export interface DetectCountOptions {
  /** Local git snapshots of the group photos' repositories (assemble.ts's layout). */
  mirrors?: string;
  /** Photographs per split that get turned copies. */
  turned?: number;
  /** A face model other than the API's default (face-api), for comparison. */
  model?: string;
}

/** Runs every job and returns the rows and the report (a header line and countTable's markdown). */
export async function detectCount(opts: DetectCountOptions = {}): Promise<{ rows: CountRow[]; report: string }> {
  const mirrors = path.resolve(opts.mirrors ?? "/work/.mirror");
  const perSplit = opts.turned ?? 20;
  const sets: { part: "dev" | "held-out"; dir: string }[] = [
    { part: "dev", dir: DEFAULT_SET_DIR },
    { part: "held-out", dir: path.join(DEFAULT_SET_DIR, "heldout") },
  ];
  const jobs: { part: string; image: string; file: string; expected: CountRange; applied?: number }[] = [];
  for (const s of sets) {
    const m = readManifest(s.dir);
    if (!m) throw new Error(`no evaluation set in ${s.dir} (scripts/face-eval/README.md builds it)`);
    // Real photographs only: the demo faces are crops of the group photos below.
    const photos = m.images.filter((i) => i.kind === "photo" && i.file.startsWith("ext/"));
    for (const p of photos) jobs.push({ part: s.part, image: p.photo_id, file: path.join(s.dir, p.file), expected: expectedFor(p.photo_id, LABELS) });
    for (const p of seededSample(photos, perSplit, s.part === "dev" ? 13 : 1313)) {
      for (const t of TURNS)
        jobs.push({ part: "turned", image: `${p.photo_id} +${t}`, file: path.join(s.dir, p.file), expected: expectedFor(p.photo_id, LABELS), applied: t });
    }
  }
  const cacheDir = path.join(DEFAULT_SET_DIR, "groups");
  const missing: string[] = [];
  for (const g of GROUP_PHOTOS) {
    let file: string;
    try {
      file = groupFile(g, cacheDir, mirrors);
    } catch {
      missing.push(g.source); // no snapshot of that repository here: said in the report, not counted
      continue;
    }
    jobs.push({ part: `group (${g.part})`, image: g.source, file, expected: { min: g.min, max: g.max } });
  }

  const ctx = makeTaskContext();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "face-count-"));
  await facePlugin.init!({ logger: ctx.logger, modelsDir: ctx.modelsDir, config: {}, gpus: [] });
  const rows: CountRow[] = [];
  let n = 0;
  try {
    for (const j of jobs) {
      let file = j.file;
      if (j.applied !== undefined) {
        // Upright first (EXIF applied), then turned; sharp writes no EXIF, so the turn is in the pixels only.
        const upright = await sharp(j.file).rotate().toBuffer();
        file = path.join(tmp, `t${n}.jpg`);
        await sharp(upright).rotate(j.applied).jpeg({ quality: 92 }).toFile(file);
      }
      const key = `count/${++n}${path.extname(file)}`;
      await ctx.artifacts.putFile(key, file);
      const row: CountRow = { part: j.part, image: j.image, expected: j.expected, found: 0 };
      // A photo as stored must be answered at turn 0 too: a false turn (an upright face taken
      // for upside down) is a miss, even when the count is right (counted since 2026-12-05).
      row.wantRotation = j.applied === undefined ? 0 : turnBack(j.applied);
      try {
        // What POST /api/v1/face/detect sends with no options: rotation search on, landmarks on, model and detector defaulted.
        const r = await facePlugin.run(
          {
            job_id: `c${n}`,
            type: "face.detect",
            params: { image: key, return_landmarks: true, rotation_search: true, ...(opts.model ? { model: opts.model } : {}) },
            attempt: 1,
          },
          ctx,
        );
        row.found = r.face_count as number;
        row.rotation = r.rotation as number;
      } catch (e) {
        row.error = e instanceof Error ? e.message : String(e);
      }
      rows.push(row);
      if (n % 100 === 0) console.error(`detect-count: ${n}/${jobs.length}`);
    }
  } finally {
    ctx.cleanup();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const header =
    `Detection count (scripts/face-eval/detect-count.ts; range rule in count-rule.ts): face.detect with the API's defaults (${opts.model ? `but model ${opts.model}` : "model face-api, detector fast"}, landmarks, rotation search on) ` +
    `on every photograph of dev and held-out, ${GROUP_PHOTOS.length - missing.length} group photos of the same sources (counted by eye), and turned copies without EXIF (${perSplit} photos per split, seeded, x ${TURNS.join("/")}; in range and the turn back reported; photos as stored must report turn 0).`;
  const skipped = missing.length ? ` Group photos not found (no snapshot under ${mirrors}): ${missing.join(", ")}.` : "";
  return { rows, report: `${header}${skipped}\n\n${countTable(scoreCounts(rows))}` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (k: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : undefined);
  const { rows, report } = await detectCount({
    mirrors: arg("--mirrors"),
    turned: arg("--turned") === undefined ? undefined : Number(arg("--turned")),
    model: arg("--model"),
  });
  const out = arg("--json");
  if (out) fs.writeFileSync(out, JSON.stringify(rows, null, 1));
  console.log(report);
}
