/**
 * Writes test/fixtures/face-calibration-scores.json: per model, the dev split's genuine pair
 * scores (cross-photo and variant) and the highest impostor scores with the impostor count,
 * which is all calibrate() needs. The photos cannot be committed (their licences are not
 * stated, scripts/face-eval/README.md); these numbers can, so a test checks that the stored
 * thresholds (core/characters/thresholds.ts) are what calibrate() gives on the measured set.
 * Reads the embedding cache (evaluate.ts --cache or the bench fills it).
 *
 *   node --import tsx scripts/face-eval/export-scores.ts [--models face-api,human-faceres,faceplugin-fr,fusion-fr-faceres]
 */
import fs from "node:fs";
import path from "node:path";
import { CACHE_DIR, embedSet, scoreEmbeddings } from "./evaluate.ts";
import { DEFAULT_SET_DIR, readManifest } from "./manifest.ts";

export const SCORES_FIXTURE = path.resolve(import.meta.dirname, "../../test/fixtures/face-calibration-scores.json");

export interface CalibrationScores {
  set: string;
  models: Record<string, { cross_photo: number[]; variant: number[]; impostor_count: number; impostor_top: number[] }>;
}

/** Impostor scores kept: enough for any FMR budget up to 1 % (calibrate() needs the (k+1)-th highest). */
const TOP_SHARE = 0.01;
const r5 = (x: number) => Math.round(x * 1e5) / 1e5;

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const models = (args.includes("--models") ? args[args.indexOf("--models") + 1]! : "face-api,human-faceres,faceplugin-fr,fusion-fr-faceres").split(",");
  const manifest = readManifest();
  if (!manifest) throw new Error(`no evaluation set in ${DEFAULT_SET_DIR}`);
  const out: CalibrationScores = { set: `dev: ${manifest.description}`, models: {} };
  for (const model of models) {
    const emb = await embedSet(model, manifest.images, DEFAULT_SET_DIR, path.join(CACHE_DIR, `${model}.json`));
    const e = scoreEmbeddings(model, manifest.images, emb);
    const imp = [...e.scores.impostor].sort((a, b) => b - a);
    out.models[model] = {
      cross_photo: e.scores.cross_photo.map(r5),
      variant: e.scores.variant.map(r5),
      impostor_count: imp.length,
      impostor_top: imp.slice(0, Math.ceil(TOP_SHARE * imp.length) + 1).map(r5),
    };
  }
  fs.writeFileSync(SCORES_FIXTURE, JSON.stringify(out));
  console.log(`wrote ${SCORES_FIXTURE}`);
}
