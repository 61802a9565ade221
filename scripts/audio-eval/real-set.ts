/**
 * Builds the real-instrument evaluation set (see real-specs.ts for what is in it):
 * MMA song files → MIDI (mma) → audio through the FluidR3 General MIDI soundfont
 * (fluidsynth) → MP3 (ffmpeg), with ground truth read from the MIDI (midi-truth.ts).
 * Writes OUT/<set>/<id>.mp3 + <id>.json and OUT/MANIFEST.md (sources and licences).
 * Needs the Debian packages mma, fluidsynth, fluid-soundfont-gm and openttd-openmsx:
 * `--install` installs the missing ones with apt-get (as root); otherwise it says which.
 * CLI: node --import tsx scripts/audio-eval/real-set.ts OUT [--install]
 */
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { parseMidi, scaleTempo } from "./midi.ts";
import { midiTruth } from "./midi-truth.ts";
import { heldOutSources, mmaGrooveSpecs, mmaSpecs, mmaSweepSpecs, mmaVariantSpecs, specBpm, type Meter, type MmaSongSpec } from "./real-specs.ts";
import { songText } from "./mma-song.ts";
import { beatGrid, notatedMeter } from "./meter-grid.ts";

export const SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
/** Excerpt length: enough for tempo and meter, bounded so the set renders in minutes. */
const MAX_SECONDS = 75;

export interface RealTruth {
  id: string;
  /**
   * "dev-games": packaged game music (game-set.ts), a dev part reported on its own;
   * "dev-grooves": the MMA grooves the dev songs do not use (real-specs.ts mmaGrooveSpecs).
   */
  set: "dev" | "heldout" | "dev-games" | "dev-grooves";
  source: string;
  licence: string;
  genre: string;
  /** A tempo-scaled re-render of a source file (our variant, not the original). */
  variant: boolean;
  /** A tempo-sweep render (real-specs.ts mmaSweepSpecs): in "dev extended" only. */
  sweep?: boolean;
  bpm: number;
  beats: number[];
  downbeats: number[];
  time_signature: Meter;
  /** null where the source states no reliable key (held-out files): not scored. */
  key: string | null;
  swung: boolean;
  duration: number;
}

export interface RealSong {
  truth: RealTruth;
  mp3Path: string;
}

const NEEDS: { pkg: string; check: () => boolean }[] = [
  { pkg: "mma", check: () => spawnSync("sh", ["-c", "command -v mma"]).status === 0 },
  { pkg: "fluidsynth", check: () => spawnSync("sh", ["-c", "command -v fluidsynth"]).status === 0 },
  { pkg: "fluid-soundfont-gm", check: () => fs.existsSync(SOUNDFONT) },
  { pkg: "openttd-openmsx", check: () => fs.existsSync("/usr/share/games/openttd/baseset/openmsx") },
];

/** Missing Debian packages (after installing them when `install` is set and we are root). */
export function ensureTools(install: boolean): string[] {
  let missing = NEEDS.filter((n) => !n.check()).map((n) => n.pkg);
  if (missing.length > 0 && install && process.getuid?.() === 0) {
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    missing = NEEDS.filter((n) => !n.check()).map((n) => n.pkg);
  }
  return missing;
}

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${(r.stderr || r.stdout || r.error?.message || "").slice(-400)}`);
}

/** MIDI → 44.1 kHz stereo WAV (fluidsynth, no audio driver) → MP3 160k, cut at `maxS`. */
export function renderMidi(midPath: string, mp3Path: string, maxS: number): void {
  const wav = mp3Path.replace(/\.mp3$/, ".wav");
  run("fluidsynth", ["-ni", "-q", "-g", "0.5", "-r", "44100", "-F", wav, SOUNDFONT, midPath]);
  run("ffmpeg", ["-v", "error", "-y", "-i", wav, "-t", String(maxS), "-codec:a", "libmp3lame", "-b:a", "160k", mp3Path]);
  fs.rmSync(wav, { force: true });
}

const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

export function buildDev(spec: MmaSongSpec, dir: string): RealSong {
  const mp3Path = path.join(dir, `${spec.id}.mp3`);
  const jsonPath = path.join(dir, `${spec.id}.json`);
  const midPath = path.join(dir, `${spec.id}.mid`);
  // The meter label is checked against the note grid on every load (meter-grid.ts), so a
  // rule change reaches renders made before it.
  const meterOf = (m: ReturnType<typeof parseMidi>, bpm: number) => notatedMeter(spec.meter, beatGrid(m, m.ppq * spec.quartersPerBeat), bpm);
  if (fs.existsSync(mp3Path) && fs.existsSync(jsonPath)) {
    const truth = JSON.parse(fs.readFileSync(jsonPath, "utf8")) as RealTruth;
    if (fs.existsSync(midPath)) truth.time_signature = meterOf(parseMidi(fs.readFileSync(midPath)), truth.bpm);
    return { truth, mp3Path };
  }
  const mmaPath = path.join(dir, `${spec.id}.mma`);
  fs.writeFileSync(mmaPath, songText(spec, MAX_SECONDS));
  run("mma", ["-f", `${spec.id}.mid`, `${spec.id}.mma`], dir);
  const m = parseMidi(fs.readFileSync(midPath));
  const t = midiTruth(m, { quartersPerBeat: spec.quartersPerBeat, beatsPerBar: spec.beatsPerBar, maxSeconds: MAX_SECONDS });
  if (Math.abs(t.bpm - specBpm(spec)) > 0.02 * specBpm(spec)) throw new Error(`${spec.id}: MIDI tempo ${t.bpm} is not the spec's ${specBpm(spec)}`);
  renderMidi(midPath, mp3Path, MAX_SECONDS);
  const truth: RealTruth = {
    id: spec.id,
    set: spec.grooveSet ? "dev-grooves" : "dev",
    source: `our song file for mma, groove ${spec.groove}${spec.groove === "OneDrop" ? " (defined in the song file)" : " (mma stdlib)"}`,
    licence: "ours (rendered with mma, GPL-2, and FluidR3_GM, MIT)",
    genre: spec.genre,
    variant: spec.variant === true,
    sweep: spec.sweep === true,
    bpm: t.bpm,
    beats: t.beats,
    downbeats: t.downbeats,
    time_signature: meterOf(m, t.bpm),
    key: `${NAMES[spec.tonic]} ${spec.mode}`,
    swung: spec.swung,
    duration: t.duration,
  };
  fs.writeFileSync(jsonPath, JSON.stringify(truth));
  return { truth, mp3Path };
}

function buildHeldOut(src: ReturnType<typeof heldOutSources>[number], dir: string): RealSong {
  const mp3Path = path.join(dir, `${src.id}.mp3`);
  const jsonPath = path.join(dir, `${src.id}.json`);
  const scaledPath = path.join(dir, `${src.id}.mid`);
  const meterOf = (m: ReturnType<typeof parseMidi>, label: Meter, bpm: number) =>
    notatedMeter(label, beatGrid(m, m.ppq, src.originTicks ?? m.timeSigs[0]?.tick ?? 0), bpm);
  if (fs.existsSync(mp3Path) && fs.existsSync(jsonPath)) {
    const truth = JSON.parse(fs.readFileSync(jsonPath, "utf8")) as RealTruth;
    const mid = src.scale !== 1 ? scaledPath : src.file;
    const m = parseMidi(fs.readFileSync(mid));
    const ts = m.timeSigs.find((s) => s.tick >= (src.originTicks ?? 0)) ?? m.timeSigs[0] ?? { tick: 0, num: 4, den: 4 };
    truth.time_signature = meterOf(m, `${ts.num}/${ts.den}` as Meter, truth.bpm);
    return { truth, mp3Path };
  }
  let bytes: Buffer = fs.readFileSync(src.file);
  let m = parseMidi(bytes);
  let midPath = src.file;
  if (src.scale !== 1) {
    bytes = scaleTempo(bytes, m, src.scale);
    midPath = scaledPath;
    fs.writeFileSync(midPath, bytes);
    m = parseMidi(bytes);
  }
  const ts = m.timeSigs.find((s) => s.tick >= (src.originTicks ?? 0)) ?? m.timeSigs[0] ?? { tick: 0, num: 4, den: 4 };
  const meter = `${ts.num}/${ts.den}` as Meter;
  if (meter !== "4/4" && meter !== "3/4") throw new Error(`${src.id}: meter ${meter} is outside the set's labels`);
  const t = midiTruth(m, { quartersPerBeat: 1, beatsPerBar: ts.num, originTicks: src.originTicks, maxSeconds: MAX_SECONDS });
  renderMidi(midPath, mp3Path, MAX_SECONDS);
  const truth: RealTruth = {
    id: src.id,
    set: "heldout",
    source: `${src.pkg}: ${src.file}${src.scale !== 1 ? ` with every tempo ×${src.scale} (our variant)` : ""}`,
    licence: src.licence,
    genre: "game / example music",
    variant: src.scale !== 1,
    bpm: t.bpm,
    beats: t.beats,
    downbeats: t.downbeats,
    time_signature: meterOf(m, meter, t.bpm),
    key: null,
    swung: false,
    duration: t.duration,
  };
  fs.writeFileSync(jsonPath, JSON.stringify(truth));
  return { truth, mp3Path };
}

/** `grooves: false` leaves dev-grooves out (not rendered): the level fit reads it only on request. */
export function buildRealSet(outDir: string, which: "dev" | "heldout" | "all" = "all", opts: { grooves?: boolean } = {}): RealSong[] {
  const devDir = path.join(outDir, "dev");
  const hoDir = path.join(outDir, "heldout");
  const groovesDir = path.join(outDir, "dev-grooves");
  fs.mkdirSync(devDir, { recursive: true });
  fs.mkdirSync(groovesDir, { recursive: true });
  fs.mkdirSync(hoDir, { recursive: true });
  const songs: RealSong[] = [];
  if (which !== "heldout") for (const s of [...mmaSpecs(), ...mmaVariantSpecs(), ...mmaSweepSpecs()]) songs.push(buildDev(s, devDir));
  if (which !== "heldout" && opts.grooves !== false) for (const s of mmaGrooveSpecs()) songs.push(buildDev(s, groovesDir));
  if (which !== "dev") for (const s of heldOutSources()) songs.push(buildHeldOut(s, hoDir));
  const lines = ["# Real-instrument evaluation set", "", "| id | set | genre | BPM | meter | key | source | licence |", "|---|---|---|---|---|---|---|---|"];
  for (const { truth: t } of songs)
    lines.push(`| ${t.id} | ${t.set} | ${t.genre} | ${t.bpm} | ${t.time_signature} | ${t.key ?? "-"} | ${t.source} | ${t.licence} |`);
  fs.writeFileSync(path.join(outDir, "MANIFEST.md"), lines.join("\n") + "\n");
  return songs;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: real-set.ts OUT_DIR [--install] [--dev|--heldout]");
    process.exit(2);
  }
  const missing = ensureTools(process.argv.includes("--install"));
  if (missing.length > 0) {
    console.error(`missing Debian packages: ${missing.join(" ")} (apt-get install -y ${missing.join(" ")}, or pass --install as root)`);
    process.exit(3);
  }
  const which = process.argv.includes("--dev") ? "dev" : process.argv.includes("--heldout") ? "heldout" : "all";
  const t0 = Date.now();
  const songs = buildRealSet(out, which);
  for (const s of songs)
    console.log(`${s.truth.set}\t${s.truth.id}\t${s.truth.bpm} BPM\t${s.truth.time_signature}\t${s.truth.key ?? "-"}\t${s.truth.duration}s`);
  console.log(`${songs.length} songs in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${out}`);
}
