/**
 * Puts faceplugin-fr's weights in place: `npm pack` of the pinned package version (npm
 * checks the tarball against the registry's integrity hash; the npm cache serves repeat
 * runs offline), then only `package/model/fr_feature.onnx` is extracted, its sha256 checked
 * and the file written to <modelsDir>/faceplugin/fr_feature.onnx. Installing the package as a
 * dependency instead would pull its ~670 build-tool dependencies for one 4.9 MB file.
 *
 *   node --import tsx plugins/face/faceplugin/fetch-weights.ts <modelsDir>
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { FACEPLUGIN_FILES } from "./backend.ts";

const run = promisify(execFile);

export const FACEPLUGIN_PACKAGE = "faceplugin-face-recognition-js@0.0.1";
export const FACEPLUGIN_TARBALL_PATH = "package/model/fr_feature.onnx";
export const FACEPLUGIN_SHA256 = "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581";

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Returns the weights' path; does nothing when a file with the right hash is already there. */
export async function fetchFacepluginWeights(modelsDir: string): Promise<string> {
  const dest = path.join(modelsDir, FACEPLUGIN_FILES[0]);
  if (fs.existsSync(dest) && sha256(dest) === FACEPLUGIN_SHA256) return dest;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faceplugin-"));
  try {
    const { stdout } = await run("npm", ["pack", FACEPLUGIN_PACKAGE, "--pack-destination", tmp, "--silent"], { maxBuffer: 16 * 1024 * 1024 });
    const tgz = path.join(tmp, stdout.trim().split("\n").pop()!);
    await run("tar", ["-xzf", tgz, "-C", tmp, FACEPLUGIN_TARBALL_PATH]);
    const got = path.join(tmp, FACEPLUGIN_TARBALL_PATH);
    const hash = sha256(got);
    if (hash !== FACEPLUGIN_SHA256) throw new Error(`${FACEPLUGIN_PACKAGE} ${FACEPLUGIN_TARBALL_PATH}: sha256 ${hash}, expected ${FACEPLUGIN_SHA256}`);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    // Copy then rename: a concurrent reader never sees a half-written model.
    fs.copyFileSync(got, `${dest}.tmp`);
    fs.renameSync(`${dest}.tmp`, dest);
    return dest;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: node --import tsx plugins/face/faceplugin/fetch-weights.ts <modelsDir>");
    process.exit(2);
  }
  console.log(await fetchFacepluginWeights(path.resolve(dir)));
}
