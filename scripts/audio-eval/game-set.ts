/**
 * The "dev-games" part of the real-instrument evaluation set (issue 12, session 9): game
 * music neither we nor MMA wrote, with exact MIDI ground truth, from Debian packages that
 * share no source with the held-out set (OpenMSX, MMA examples):
 *  - Freedoom 0.12.1 (`freedoom`, BSD-3-Clause, "freedoom-license" in its copyright file):
 *    the music lumps (D_*) of freedoom1.wad and freedoom2.wad, composed by many
 *    contributors (CREDITS) in many styles; read with wad.ts;
 *  - Planet Blupi's MIDI music (`planetblupi-music-midi`, GPL-3+, 1997 Daniel Roux,
 *    EPSITEC SA & Denis Dumoulin).
 * Every track goes through one rule (track-rule.ts: steady tempo, a known meter, notes on
 * the beat grid, drums in most bars); duplicates (the same bytes twice) are read once.
 * Kept tracks are rendered as the other real sets are (fluidsynth with FluidR3_GM, MP3,
 * 75 s; renderExcerpt) and their truth read from the MIDI (midi-truth.ts). Keys are
 * not labelled (null: not scored): game MIDI key signatures are absent or unreliable.
 * These are dev songs: the level model may be fitted on them.
 *
 * The packages are not installed (freedoom would pull in a Doom engine): `--install`
 * fetches the two .deb files with `apt-get download` and unpacks them under OUT/.pkgs.
 * CLI: node --import tsx scripts/audio-eval/game-set.ts OUT [--install]
 * Writes OUT/dev-games/<id>.mp3 + <id>.json and OUT/MANIFEST-games.md (kept and dropped tracks).
 */
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import { parseMidi, scaleTempo, type MidiFile } from "./midi.ts";
import { midiTruth, type MidiTruth } from "./midi-truth.ts";
import { beatGrid, notatedMeter } from "./meter-grid.ts";
import { judgeTrack, type TrackVerdict } from "./track-rule.ts";
import type { Meter } from "./real-specs.ts";
import { musicFormat, musicLumps, readWad } from "./wad.ts";
import { SOUNDFONT, type RealSong, type RealTruth } from "./real-set.ts";

const MAX_SECONDS = 75;

interface Package {
  pkg: string;
  licence: string;
  /** Files inside the package holding the music. */
  files: string[];
}

const PACKAGES: Package[] = [
  { pkg: "freedoom", licence: "BSD-3-Clause (Freedoom)", files: ["/usr/share/games/doom/freedoom1.wad", "/usr/share/games/doom/freedoom2.wad"] },
  {
    pkg: "planetblupi-music-midi",
    licence: "GPL-3.0-or-later (Planet Blupi, EPSITEC SA)",
    files: Array.from({ length: 10 }, (_, i) => `/usr/share/planetblupi/music/music${String(i).padStart(3, "0")}.mid`),
  },
];

/**
 * MIDI → MP3 of the first `maxS` seconds. Game tracks run to several minutes (Planet
 * Blupi's to 28): fluidsynth's raw output is piped into ffmpeg, which stops reading at
 * `maxS`, so the rest is never synthesised (real-set.ts renderMidi writes the whole WAV
 * first, fine for its 75 s MMA songs). Same soundfont, gain, rate and encoder settings.
 */
export function renderExcerpt(midPath: string, mp3Path: string, maxS: number): void {
  const q = (x: string) => `'${x.replace(/'/g, "'\\''")}'`;
  const cmd =
    `fluidsynth -ni -q -g 0.5 -r 44100 -T raw -O s16 -o audio.file.endian=little -F - ${q(SOUNDFONT)} ${q(midPath)} 2>/dev/null | ` +
    `ffmpeg -v error -y -f s16le -ar 44100 -ac 2 -i - -t ${maxS} -codec:a libmp3lame -b:a 160k ${q(mp3Path)}`;
  // The pipeline's status is ffmpeg's: fluidsynth ends on SIGPIPE once ffmpeg has its excerpt.
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
  if (r.status !== 0 || !fs.existsSync(mp3Path)) throw new Error(`render of ${midPath} failed (${r.status}): ${(r.stderr || "").slice(-400)}`);
}

export interface GameTrack {
  id: string;
  pkg: string;
  licence: string;
  /** Where the bytes come from (file, and lump for a WAD). */
  origin: string;
  midi: Buffer;
}

/** Where a package's files are: installed, or unpacked under `pkgDir` (fetched when `fetch`). */
function packageRoot(p: Package, pkgDir: string, fetch: boolean): string | null {
  if (p.files.every((f) => fs.existsSync(f))) return "";
  const root = path.join(pkgDir, p.pkg);
  if (p.files.every((f) => fs.existsSync(root + f))) return root;
  if (!fetch) return null;
  fs.mkdirSync(root, { recursive: true });
  const dl = spawnSync("apt-get", ["download", p.pkg], { cwd: pkgDir, encoding: "utf8" });
  const deb = fs.readdirSync(pkgDir).find((f) => f.startsWith(`${p.pkg}_`) && f.endsWith(".deb"));
  if (!deb) throw new Error(`apt-get download ${p.pkg} failed: ${(dl.stderr || dl.stdout || "").slice(-300)}`);
  const x = spawnSync("dpkg-deb", ["-x", path.join(pkgDir, deb), root], { encoding: "utf8" });
  if (x.status !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${x.stderr}`);
  return p.files.every((f) => fs.existsSync(root + f)) ? root : null;
}

/** Every music track of the packages, duplicates (same bytes) removed; `missing` names absent packages. */
export function gameTracks(pkgDir: string, fetch: boolean): { tracks: GameTrack[]; missing: string[] } {
  const tracks: GameTrack[] = [];
  const missing: string[] = [];
  const seen = new Set<string>();
  const add = (t: GameTrack) => {
    const h = crypto.createHash("sha1").update(t.midi).digest("hex");
    if (seen.has(h)) return;
    seen.add(h);
    tracks.push(t);
  };
  for (const p of PACKAGES) {
    const root = packageRoot(p, pkgDir, fetch);
    if (root === null) {
      missing.push(p.pkg);
      continue;
    }
    for (const f of p.files) {
      const bytes = fs.readFileSync(root + f);
      const base = path.basename(f).replace(/\.(wad|mid)$/, "");
      if (f.endsWith(".wad")) {
        for (const l of musicLumps(readWad(bytes))) {
          // MUS lumps would need a MUS → MIDI conversion; Freedoom 0.12 has none.
          if (musicFormat(l.data) !== "midi") continue;
          const id = `${base.replace("freedoom", "fd")}-${l.name.slice(2).toLowerCase().replace(/_/g, "-")}`;
          add({ id, pkg: p.pkg, licence: p.licence, origin: `${f} lump ${l.name}`, midi: Buffer.from(l.data) });
        }
      } else add({ id: `blupi-${base}`, pkg: p.pkg, licence: p.licence, origin: f, midi: bytes });
    }
  }
  return { tracks, missing };
}

/**
 * Tempo scales a kept track is rendered at. Session 9 also tried our ×0.88 / ×1.12
 * re-renders (as for the MMA dev songs): the level model's cross-validated accuracy on the
 * same 231 songs did not improve (81.0 % with them in the fit, 81.4 % without; dev-games
 * 77.1 vs 74.3 %, the MMA sweep 68.6 vs 71.4 %), so only the tracks as written are built.
 * Variant ids would end in -x<scale> (one groove for cross-validation, fit-tempo-level.ts).
 */
const SCALES = [1];

/**
 * The rule's verdict on a track's first `maxS` seconds and, when kept, its ground truth
 * (beats from the first time signature on). Shared by the set builder and the regression
 * test that renders a dev-games track from a fixture.
 */
export function gameTruth(m: MidiFile, maxS = MAX_SECONDS): { reason: string } | { verdict: TrackVerdict; meter: Meter; truth: MidiTruth; origin: number } {
  const v = judgeTrack(m, maxS);
  if (!v.keep || v.meter === null) return { reason: v.reason };
  const origin = m.timeSigs[0]?.tick ?? 0;
  const truth = midiTruth(m, { quartersPerBeat: v.quartersPerBeat, beatsPerBar: v.beatsPerBar, originTicks: origin, maxSeconds: maxS });
  return { verdict: v, meter: v.meter, truth, origin };
}

/** One render of a kept track at a tempo scale; a variant whose excerpt fails the rule is dropped. */
function buildOne(t: GameTrack, scale: number, id: string, dir: string): RealSong | { reason: string } {
  const mp3Path = path.join(dir, `${id}.mp3`);
  const jsonPath = path.join(dir, `${id}.json`);
  if (fs.existsSync(mp3Path) && fs.existsSync(jsonPath)) return { truth: JSON.parse(fs.readFileSync(jsonPath, "utf8")) as RealTruth, mp3Path };
  const original = parseMidi(t.midi);
  const bytes = scale === 1 ? t.midi : scaleTempo(t.midi, original, scale);
  const m = scale === 1 ? original : parseMidi(bytes);
  // A faster variant's excerpt holds more of the song (a later tempo change may enter it).
  const g = gameTruth(m);
  if ("reason" in g) return g;
  const { verdict: v, meter, truth, origin } = g;
  const midPath = path.join(dir, `${id}.mid`);
  fs.writeFileSync(midPath, bytes);
  renderExcerpt(midPath, mp3Path, MAX_SECONDS);
  const rt: RealTruth = {
    id,
    set: "dev-games",
    source: `${t.pkg}: ${t.origin}${scale !== 1 ? ` with every tempo ×${scale} (our variant)` : ""}`,
    licence: t.licence,
    genre: "game music",
    variant: scale !== 1,
    bpm: truth.bpm,
    beats: truth.beats,
    downbeats: truth.downbeats,
    time_signature: notatedMeter(meter, beatGrid(m, m.ppq * v.quartersPerBeat, origin), truth.bpm),
    key: null,
    swung: false,
    duration: truth.duration,
  };
  fs.writeFileSync(jsonPath, JSON.stringify(rt));
  return { truth: rt, mp3Path };
}

export interface GameSetResult {
  songs: RealSong[];
  dropped: { id: string; reason: string }[];
  missing: string[];
}

export function buildGameSet(outDir: string, fetch = false): GameSetResult {
  const dir = path.join(outDir, "dev-games");
  fs.mkdirSync(dir, { recursive: true });
  const { tracks, missing } = gameTracks(path.join(outDir, ".pkgs"), fetch);
  const songs: RealSong[] = [];
  const dropped: { id: string; reason: string }[] = [];
  for (const t of tracks) {
    const v = judgeTrack(parseMidi(t.midi), MAX_SECONDS);
    if (!v.keep || v.meter === null) {
      dropped.push({ id: t.id, reason: v.reason });
      continue;
    }
    for (const scale of SCALES) {
      const id = scale === 1 ? t.id : `${t.id}-x${scale}`;
      const song = buildOne(t, scale, id, dir);
      if ("reason" in song) dropped.push({ id, reason: song.reason });
      else songs.push(song);
    }
  }
  const lines = [
    "# Real-instrument evaluation set, dev-games part",
    "",
    "Rule: scripts/audio-eval/track-rule.ts. Keys are not labelled.",
    "",
    "| id | BPM | meter | source | licence |",
    "|---|---|---|---|---|",
    ...songs.map(({ truth: x }) => `| ${x.id} | ${x.bpm} | ${x.time_signature} | ${x.source} | ${x.licence} |`),
    "",
    "Dropped by the rule:",
    "",
    ...dropped.map((d) => `- ${d.id}: ${d.reason}`),
  ];
  fs.writeFileSync(path.join(outDir, "MANIFEST-games.md"), lines.join("\n") + "\n");
  return { songs, dropped, missing };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: game-set.ts OUT_DIR [--install]");
    process.exit(2);
  }
  const t0 = Date.now();
  const r = buildGameSet(out, process.argv.includes("--install"));
  if (r.missing.length > 0) console.error(`missing Debian packages: ${r.missing.join(" ")} (pass --install to fetch them with apt-get download)`);
  for (const s of r.songs) console.log(`${s.truth.id}\t${s.truth.bpm} BPM\t${s.truth.time_signature}\t${s.truth.duration}s`);
  for (const d of r.dropped) console.log(`dropped ${d.id}: ${d.reason}`);
  console.log(`${r.songs.length} songs kept, ${r.dropped.length} dropped, in ${((Date.now() - t0) / 1000).toFixed(1)} s → ${out}`);
}
