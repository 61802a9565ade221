/**
 * What the real-instrument evaluation set is made of.
 *
 * "dev": songs we write for MMA (Musical MIDI Accompaniment, Debian `mma`, GPL-2; its
 * groove library is played by real-instrument samples: drum kit, bass, piano/guitar
 * comping, strings) in the genres where the analyser failed (rock, funk, swing, country,
 * march, soft rock, reggae one-drop, bossa, tango, ballads, waltzes, 6/8, 12/8). Tempo,
 * key and chords are ours; beats and downbeats are read back from the MIDI MMA writes.
 * These songs may be used to tune the analyser.
 *
 * "heldout": MIDI files we did not write, from Debian packages, never used for tuning:
 * OpenTTD's OpenMSX music set (`openttd-openmsx`, GPL-2, composed for the game by its
 * authors, with drum tracks) and MMA's own example songs (`mma`, GPL-2), plus tempo-scaled
 * re-renders of some of them (labelled `variant`) that widen the tempo range.
 *
 * Meter labels: MMA writes compound grooves with a MIDI quarter per dotted-quarter beat
 * (12/8 grooves carry a 4/4 time-signature event), so for MMA songs the meter and the
 * beat unit come from the groove's documentation below; for the held-out files they come
 * from the MIDI time-signature events.
 */

import fs from "node:fs";
import path from "node:path";
import { mulberry32 } from "./rng.ts";

export type Meter = "4/4" | "3/4" | "6/8" | "12/8";

export interface MmaSongSpec {
  id: string;
  /** MMA groove name (stdlib) or "OneDrop" (defined in the song file, see real-set.ts). */
  groove: string;
  genre: string;
  /** MMA "Tempo": MIDI quarter notes per minute. */
  mmaTempo: number;
  meter: Meter;
  /** MIDI quarter notes per beat (3 for 68swing, whose MIDI quarter is an eighth). */
  quartersPerBeat: number;
  beatsPerBar: number;
  tonic: number;
  mode: "major" | "minor";
  swung: boolean;
  /** One of our tempo variants of a dev song. */
  variant?: boolean;
  /** One of the tempo-sweep renders (mmaSweepSpecs): the "extended dev" rows. */
  sweep?: boolean;
  /** One of the renders of the MMA grooves the dev set does not use (mmaGrooveSpecs). */
  grooveSet?: boolean;
}

const g = (
  id: string,
  groove: string,
  genre: string,
  mmaTempo: number,
  meter: Meter,
  tonic: number,
  mode: "major" | "minor",
  swung = false,
  quartersPerBeat = 1,
): MmaSongSpec => ({
  id,
  groove,
  genre,
  mmaTempo,
  meter,
  quartersPerBeat,
  beatsPerBar: meter === "3/4" ? 3 : meter === "6/8" ? 2 : 4,
  tonic,
  mode,
  swung,
});

/** Beat BPM of a spec (what the analyser should report). */
export const specBpm = (s: MmaSongSpec) => s.mmaTempo / s.quartersPerBeat;

export function mmaSpecs(): MmaSongSpec[] {
  return [
    g("rock-60s-132", "60sRock", "rock", 132, "4/4", 4, "major"),
    g("rock-basic-120", "BasicRock", "rock", 120, "4/4", 9, "minor"),
    g("rock-8beat-104", "8Beat", "rock", 104, "4/4", 2, "major"),
    g("softrock-72", "SoftRock", "soft rock", 72, "4/4", 7, "major"),
    g("softrock-88", "SoftRock2", "soft rock", 88, "4/4", 5, "major"),
    g("funk-100", "BVFunk", "funk", 100, "4/4", 9, "minor"),
    g("funk-112", "BVFunk", "funk", 112, "4/4", 4, "minor"),
    g("swing-160", "Swing", "swing", 160, "4/4", 5, "major", true),
    g("swing-132", "Swing1", "swing", 132, "4/4", 10, "major", true),
    g("country-172", "CountrySwing", "country", 172, "4/4", 7, "major", true),
    g("country-slow-80", "SlowCountry", "country", 80, "4/4", 2, "major"),
    g("westernswing-150", "WesternSwing", "country", 150, "4/4", 0, "major", true),
    g("march-116", "March", "march", 116, "4/4", 10, "major"),
    g("march-sousa-126", "March1", "march", 126, "4/4", 3, "major"),
    g("reggae-onedrop-76", "OneDrop", "reggae", 76, "4/4", 7, "minor"),
    g("reggae-onedrop-92", "OneDrop", "reggae", 92, "4/4", 2, "minor"),
    g("bossa-128", "BossaNova", "bossa", 128, "4/4", 2, "minor"),
    g("tango-120", "Tango", "tango", 120, "4/4", 4, "minor"),
    g("ballad-66", "Ballad", "ballad", 66, "4/4", 0, "major"),
    g("popballad-78", "PopBallad", "ballad", 78, "4/4", 9, "major"),
    g("rockballad-70", "RockBallad", "ballad", 70, "4/4", 3, "major"),
    g("shuffle-120", "ShuffleBoggie", "blues shuffle", 120, "4/4", 7, "major", true),
    g("jive-150", "Jive", "rock'n'roll", 150, "4/4", 0, "major"),
    g("bluegrass-190", "BlueGrass", "bluegrass", 190, "4/4", 7, "major"),
    g("folkrock-112", "FolkRock", "folk rock", 112, "4/4", 2, "major"),
    g("rb-96", "R&B", "r&b", 96, "4/4", 5, "minor", true),
    g("waltz-96", "Waltz", "waltz", 96, "3/4", 5, "major"),
    g("waltz-country-120", "CountryWaltz", "waltz", 120, "3/4", 7, "major"),
    g("waltz-jazz-140", "JazzWaltz", "jazz waltz", 140, "3/4", 10, "minor", true),
    g("waltz-fast-180", "FastWaltz", "waltz", 180, "3/4", 2, "major"),
    g("march68-116", "68March", "6/8 march", 116, "6/8", 10, "major"),
    g("swing68-70", "68Swing", "6/8 swing", 210, "6/8", 0, "major", false, 3),
    g("blues128-62", "Blues128", "12/8 blues", 62, "12/8", 4, "minor"),
    g("rock128-76", "Rock128", "12/8 doo-wop", 76, "12/8", 0, "major"),
    g("ballad128-60", "Ballad128", "12/8 ballad", 60, "12/8", 9, "minor"),
  ];
}

/**
 * Our tempo variants of every dev song (x0.88 and x1.12, transposed up a tone and a
 * fourth): more tempi per groove for fitting the metrical-level model. Labelled as
 * variants; dev set only.
 */
export function mmaVariantSpecs(): MmaSongSpec[] {
  const out: MmaSongSpec[] = [];
  for (const s of mmaSpecs()) {
    for (const [f, tr] of [
      [0.88, 2],
      [1.12, 5],
    ] as const) {
      const bpm = specBpm(s) * f;
      if (bpm < 55 || bpm > 205) continue;
      out.push({ ...s, id: `${s.id}-x${f}`, mmaTempo: Math.round(s.mmaTempo * f), tonic: (s.tonic + tr) % 12, variant: true });
    }
  }
  return out;
}

/**
 * Beat-BPM range of the tempo sweep per meter. Simple meters: 60-200, the range the issue
 * asks the analyser to cover. 12/8: dotted-quarter beats up to 96 (faster, a triplet feel
 * is heard and notated as a 4/4 shuffle: the label rule of meter-grid.ts and the
 * analyser's MAX_TWELVE_EIGHT_BPM), from 50. 6/8: 55-130 (6/8 marches and jigs reach a
 * dotted quarter of about 130).
 */
const SWEEP_RANGE: Record<Meter, [number, number]> = { "4/4": [60, 200], "3/4": [60, 200], "6/8": [55, 130], "12/8": [50, 96] };
/** A sweep tempo closer than this (ratio) to an existing render of the groove is redrawn. */
const SWEEP_MIN_GAP = 1.06;

/**
 * The tempo sweep (session 7): every dev groove rendered at two more tempi drawn with a
 * fixed seed, one in the lower and one in the upper half of its meter's range (log
 * scale), transposed by a drawn number of semitones, mode kept. The x0.88/x1.12 variants
 * keep each groove within 12 % of the one tempo we wrote it at; real songs play the same
 * groove much faster or slower, and the metrical level of a groove far from its usual
 * tempo is what a bigger set has to test. Chosen by rule, not from any held-out file.
 */
export function mmaSweepSpecs(): MmaSongSpec[] {
  const rng = mulberry32(20261204);
  const out: MmaSongSpec[] = [];
  for (const s of mmaSpecs()) {
    const [lo, hi] = SWEEP_RANGE[s.meter];
    const taken = [specBpm(s), specBpm(s) * 0.88, specBpm(s) * 1.12];
    for (const half of [0, 1]) {
      let bpm = 0;
      for (let tries = 0; tries < 50; tries++) {
        const u = (half + rng()) / 2;
        bpm = Math.round(lo * Math.pow(hi / lo, u));
        if (taken.every((t) => Math.max(t / bpm, bpm / t) >= SWEEP_MIN_GAP)) break;
      }
      taken.push(bpm);
      const shift = Math.floor(rng() * 12);
      out.push({
        ...s,
        id: `${s.id}-t${bpm}`,
        mmaTempo: bpm * s.quartersPerBeat,
        tonic: (s.tonic + shift) % 12,
        variant: true,
        sweep: true,
      });
    }
  }
  return out;
}

export interface HeldOutSource {
  id: string;
  file: string;
  pkg: string;
  licence: string;
  /** Tempo factor of a variant (1 = as written). */
  scale: number;
  /** Tick where bar 1 starts (MMA's example files lead in with one silent beat). */
  originTicks?: number;
}

const OPENMSX = "/usr/share/games/openttd/baseset/openmsx";
const MMA_EG = "/usr/share/doc/mma/examples";

/** Held-out MIDI files (drum track, constant or nearly constant tempo, 4/4 or 3/4). */
export function heldOutSources(): HeldOutSource[] {
  const o = (name: string, scale = 1): HeldOutSource => ({
    id: `openmsx-${name.replace(/_/g, "-")}${scale !== 1 ? `-x${scale}` : ""}`,
    file: `${OPENMSX}/${name}.mid`,
    pkg: "openttd-openmsx",
    licence: "GPL-2.0",
    scale,
  });
  const m = (dir: string, name: string, scale = 1): HeldOutSource => ({
    id: `mma-eg-${name}${scale !== 1 ? `-x${scale}` : ""}`,
    file: `${MMA_EG}/${dir}/${name}.mid`,
    pkg: "mma",
    licence: "GPL-2.0",
    scale,
    originTicks: 192,
  });
  return [
    o("be_sharp_bw_redfarn"),
    o("boogi_marabi_redfarn"),
    o("busy_schedule"),
    o("careless_perc_redfarn"),
    o("city_blues_redfarn"),
    o("harp_harmony"),
    o("mighty_giant_run"),
    o("modern_motion"),
    o("mosey_along_redfarn"),
    o("no_work_song_redfarn"),
    o("say_what_redfarn"),
    o("slow_neasy_redfarn"),
    o("the_fast_route"),
    o("ultimate_run"),
    o("flying_scotsman"),
    o("ttsong_iv_imuh3"),
    o("city_blues_redfarn", 0.7),
    o("slow_neasy_redfarn", 0.6),
    o("no_work_song_redfarn", 1.4),
    o("careless_perc_redfarn", 1.5),
    m("triggers", "hits"),
    m("tutorial", "fella2"),
    m("simple", "bill-bailey"),
    m("triggers", "hits", 0.75),
  ];
}

const MMA_STDLIB = "/usr/share/mma/lib/stdlib";

/** Every groove a stdlib file defines (its DefGroove lines, as written) and its time (beats per bar). */
function stdlibGrooves(): { file: string; grooves: string[]; time: number }[] {
  if (!fs.existsSync(MMA_STDLIB)) return [];
  return fs
    .readdirSync(MMA_STDLIB)
    .filter((f) => f.endsWith(".mma"))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(MMA_STDLIB, f), "utf8");
      return {
        file: f,
        grooves: [...text.matchAll(/^\s*DefGroove\s+(\S+)/gim)].map((x) => x[1] as string),
        time: Number(/^\s*Time\s+(\d+)/im.exec(text)?.[1] ?? 0),
      };
    });
}

/** Grooves the held-out MMA example songs play ("Groove X" lines of their song files), lower case. */
export function heldOutGrooves(): Set<string> {
  const out = new Set<string>();
  for (const s of heldOutSources()) {
    if (s.pkg !== "mma") continue;
    const song = s.file.replace(/\.mid$/, ".mma");
    if (!fs.existsSync(song)) continue;
    for (const x of fs.readFileSync(song, "utf8").matchAll(/^\s*Groove\s+(\S+)/gim)) out.add((x[1] as string).toLowerCase());
  }
  return out;
}

/**
 * "dev-grooves" (session 12): every MMA stdlib groove file that shares no groove with the
 * dev songs or with the held-out MMA example songs, in a simple meter (Time 3 or 4, no
 * 6/8, 12/8 or 5/4 file: their beat unit is not written in the file; no metronome file:
 * clicks, not music), rendered twice at
 * tempi drawn from a log-normal around 115 BPM (0.3 octave, kept to 60-190 BPM, the
 * spread of tempi in popular music; Moelants 2002) with a fixed seed. The file's first
 * groove is played. Out of sample for the level model as committed (fitted on synthetic +
 * dev + sweep); chosen by rule, never from a held-out file. Empty when mma is missing.
 */
export function mmaGrooveSpecs(): MmaSongSpec[] {
  const rng = mulberry32(20261205);
  const taken = new Set([...mmaSpecs().map((s) => s.groove.toLowerCase()), ...heldOutGrooves()]);
  const out: MmaSongSpec[] = [];
  for (const f of stdlibGrooves()) {
    const first = f.grooves[0];
    if (
      first === undefined ||
      f.grooves.some((g) => taken.has(g.toLowerCase())) ||
      (f.time !== 3 && f.time !== 4) ||
      /68|128|54/.test(f.file) ||
      f.file.startsWith("metronome")
    )
      continue;
    const name = f.file.replace(/\.mma$/, "");
    const tempi: number[] = [];
    for (let k = 0; k < 2; k++) {
      let bpm = 0;
      for (let tries = 0; tries < 50; tries++) {
        // Box-Muller: a normal draw in log2 tempo.
        const z = Math.sqrt(-2 * Math.log(rng() + 1e-12)) * Math.cos(2 * Math.PI * rng());
        bpm = Math.round(115 * Math.pow(2, 0.3 * z));
        if (bpm >= 60 && bpm <= 190 && tempi.every((t) => Math.max(t / bpm, bpm / t) >= 1.1)) break;
      }
      tempi.push(bpm);
      out.push({
        id: `gr-${name}-t${bpm}`,
        groove: first,
        genre: `mma ${name}`,
        mmaTempo: bpm,
        meter: f.time === 3 ? "3/4" : "4/4",
        quartersPerBeat: 1,
        beatsPerBar: f.time,
        tonic: Math.floor(rng() * 12),
        mode: rng() < 0.3 ? "minor" : "major",
        swung: false,
        variant: true,
        grooveSet: true,
      });
    }
  }
  return out;
}
