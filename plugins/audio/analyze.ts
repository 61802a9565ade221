/**
 * analyzePcm: the whole analysis of mono PCM in TypeScript. Pipeline:
 * onset envelope → global tempo (prior-weighted ACF) → local tempo curve → DP beat
 * tracking → chroma → meter/downbeats → key → beat-synchronous structure → energy.
 * Each stage runs only when the requested analysis_type needs it.
 *
 * With a beat network's activation (opts.activation, beat-net/model.ts; the worker runs the
 * network, since onnxruntime answers asynchronously) the beats are tracked on the
 * activation instead of the onset envelope, and the metrical level is chosen among the
 * network's octaves (tempo-level.ts chooseLevel).
 */
import { frameFeatures, type FrameFeatures } from "./dsp/features.ts";
import { estimateTempo, localTempoCurve } from "./dsp/tempo.ts";
import { thinToMaxBpm, trackBeats, trimSilentBeats } from "./dsp/beat-track.ts";
import { chromagram, type Chromagram } from "./dsp/chroma.ts";
import { estimateKey } from "./dsp/key.ts";
import { estimateMeter, type MeterEstimate } from "./dsp/downbeats.ts";
import { analyzeStructure, MAX_UNITS } from "./dsp/segments.ts";
import { capUnits, sampleAt, syncFeatures } from "./dsp/beat-sync.ts";
import { energyCurve } from "./dsp/energy.ts";
import { percussiveOnsets, type PercussiveOnsets } from "./dsp/percussive.ts";
import { chooseLevel, levelEvidence, MAX_BPM } from "./dsp/tempo-level.ts";
import { isCompound, MAX_TWELVE_EIGHT_BPM } from "./dsp/subdivision.ts";
import { barCues } from "./dsp/bar-cues.ts";
import { checkBeatPhase } from "./dsp/beat-phase.ts";
import { drumAlternation, MIN_COMPOUND_ALTERNATION, splitInThree } from "./dsp/triple-bar.ts";
import type { BeatActivation } from "./beat-net/model.ts";
import type { AnalyzeOptions, AudioAnalysis, TimeSignature } from "./types.ts";

/** Below this the audio is treated as silence (-70 dBFS RMS). */
const SILENCE_RMS = 10 ** (-70 / 20);
/** Shorter clips hold too few beats for a tempo: bpm is null (documented behaviour). */
export const MIN_RHYTHM_SECONDS = 2;
/** Onset-envelope periodicity below this is "no pulse" (noise, speech): no beats. */
const MIN_PERIODICITY = 0.12;
/** Frames whose RMS is this far below the loudest count as silent for beat trimming. */
const ACTIVE_DB = -45;

interface Beats {
  times: number[];
  bpm: number | null;
  /** The runner-up metrical level, BPM (null when none). */
  alternative: number | null;
  tempoConfidence: number;
  beatConfidence: number;
  perc: PercussiveOnsets | null;
  /** Onset autocorrelation (for the beat's subdivision). */
  acf: Float32Array | null;
  /** Tracked on the beat network's activation (else on the onset envelope). */
  network: boolean;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

export function analyzePcm(samples: Float32Array, sr: number, opts: AnalyzeOptions = {}): AudioAnalysis {
  const type = opts.analysisType ?? "full";
  const progress = opts.onProgress ?? (() => {});
  const signal = opts.signal;
  const duration = r3(samples.length / sr);
  const out: AudioAnalysis = { analysis_type: type, duration };
  const silent = rms(samples) < SILENCE_RMS;

  const wantRhythm = type !== "key";
  const wantKey = type === "full" || type === "key";
  const wantStructure = type === "full" || type === "structure";
  const wantBeatsOut = type === "full" || type === "beats";

  // Chroma serves key, structure, downbeats and the choice of the beat's metrical level.
  let chroma: Chromagram | null = null;
  if (!silent) {
    progress(5, "chroma");
    chroma = chromagram(samples, sr, signal);
  }
  let feats: FrameFeatures | null = null;
  let beats: Beats = { times: [], bpm: null, alternative: null, tempoConfidence: 0, beatConfidence: 0, perc: null, acf: null, network: false };
  if (wantRhythm && !silent) {
    throwIfAborted(signal);
    progress(20, "onset envelope");
    feats = opts.features ?? frameFeatures(samples, sr, {}, signal);
    progress(35, "tempo");
    if (duration >= MIN_RHYTHM_SECONDS) beats = findBeats(feats, chroma, opts.activation);
    progress(50, "beats");
  }
  // Meter and downbeats: reported for beats, and used by structure to snap boundaries to bars;
  // run for the tempo too, since a compound beat may turn out to be a bar of three beats.
  const wantTempo = type === "full" || type === "beats" || type === "tempo";
  let meter: MeterEstimate | null = null;
  let compound = false;
  if ((wantBeatsOut || wantStructure || wantTempo) && feats && chroma && beats.times.length >= 6) {
    progress(65, "downbeats");
    const perc = beats.perc ?? percussiveOnsets(feats);
    compound = beats.acf ? isCompound(feats.onset, feats.frameRate, beats.acf, beats.times) : false;
    const cues = barCues(feats, perc, chroma, beats.times);
    const alternation = compound ? drumAlternation(cues) : Infinity;
    if (beats.bpm !== null && beats.bpm * 3 <= MAX_BPM && alternation < MIN_COMPOUND_ALTERNATION) {
      // A compound beat whose drums do not alternate is a bar of a fast triple meter
      // (triple-bar.ts): its thirds are the beats, the tracked beats the bar lines.
      const bars = beats.times;
      beats = { ...beats, times: splitInThree(bars), bpm: Math.round(beats.bpm * 30) / 10, alternative: beats.bpm };
      compound = false;
      const sure = clamp01(1 - alternation / MIN_COMPOUND_ALTERNATION);
      meter = { beatsPerBar: 3, downbeatIdx: bars.map((_, i) => 3 * i), confidence: sure, meterConfidence: sure };
    } else
      meter = estimateMeter(
        cues,
        compound,
        beats.network && opts.activation ? Float64Array.from(sampleAt(opts.activation.downbeat, feats.frameRate, beats.times, 0)) : undefined,
      );
    // Four triplet-divided beats per bar at a fast beat: a 4/4 shuffle, not 12/8.
    if (compound && meter?.beatsPerBar === 4 && (beats.bpm ?? 0) > MAX_TWELVE_EIGHT_BPM) compound = false;
  }
  if (wantTempo) {
    out.bpm = beats.bpm;
    out.bpm_alternative = beats.alternative;
    out.tempo_confidence = r3(beats.tempoConfidence);
  }
  if (wantTempo || wantBeatsOut) out.beat_tracker = beats.network ? "network" : "dsp";
  const downbeats = meter ? meter.downbeatIdx.map((i) => r3(beats.times[i] as number)) : [];
  if (wantBeatsOut) {
    out.beats = beats.times.map(r3);
    out.beat_confidence = r3(beats.beatConfidence);
    out.downbeats = downbeats;
    out.time_signature = meter ? timeSignature(meter.beatsPerBar, compound) : null;
    out.meter_confidence = r3(meter?.meterConfidence ?? 0);
    out.downbeat_confidence = r3(meter?.confidence ?? 0);
  }

  if (wantKey) {
    progress(75, "key");
    const k = chroma ? keyFromChroma(chroma) : null;
    out.key = k?.key ?? null;
    out.key_confidence = r3(k?.confidence ?? 0);
  }

  if (wantStructure) {
    progress(85, "sections");
    const beatsPerBar = meter?.beatsPerBar ?? 4;
    out.segments = silent || !chroma ? [] : structure(samples, sr, feats ?? frameFeatures(samples, sr, {}, signal), chroma, beats, downbeats, beatsPerBar);
    out.energy = energyCurve(samples, sr);
  }
  progress(100, "done");
  return out;
}

function findBeats(f: FrameFeatures, chroma: Chromagram | null, net?: BeatActivation): Beats {
  const none: Beats = { times: [], bpm: null, alternative: null, tempoConfidence: 0, beatConfidence: 0, perc: null, acf: null, network: false };
  const tempo = estimateTempo(f.onset, f.frameRate);
  if (tempo.periodFrames <= 0 || tempo.periodicity < MIN_PERIODICITY) return { ...none, tempoConfidence: tempo.periodicity };
  // The metrical level from the evidence of every level (tempo-level.ts), not the
  // prior-weighted peak alone.
  const perc = percussiveOnsets(f);
  const netLag = net ? estimateTempo(net.beat, f.frameRate).periodFrames : 0;
  // The network's beat activation is what the tracker follows when there is one.
  const track = net && netLag > 0 ? net.beat : f.onset;
  const level = chooseLevel(levelEvidence(f.frameRate, f.onset, perc, chroma), tempo.periodFrames, netLag > 0 ? netLag : undefined);
  const period = level.lag;
  const curve = localTempoCurve(track, f.frameRate, period);
  let maxRms = 0;
  for (const v of f.rms) maxRms = Math.max(maxRms, v);
  const floor = maxRms * 10 ** (ACTIVE_DB / 20);
  const active = (fr: number) => {
    for (let i = Math.max(0, fr - 4); i <= Math.min(f.nFrames - 1, fr + 4); i++) if ((f.rms[i] as number) > floor) return true;
    return false;
  };
  const frames = thinToMaxBpm(trimSilentBeats(trackBeats(track, curve), active), f.frameRate, track, MAX_BPM);
  if (frames.length < 3) return { ...none, tempoConfidence: tempo.periodicity };
  const ibis = frames
    .slice(1)
    .map((b, i) => b - (frames[i] as number))
    .sort((a, b) => a - b);
  const medIbi = ibis[Math.floor(ibis.length / 2)] as number;
  // Regularity: share of intervals within 10 % of the median.
  const regular = ibis.filter((d) => Math.abs(d - medIbi) <= 0.1 * medIbi).length / ibis.length;
  // Beat salience: onset strength at beats against the envelope's spread.
  let sd = 0;
  for (const v of f.onset) sd += v * v;
  sd = Math.sqrt(sd / f.onset.length) || 1;
  const atBeats = sampleAt(
    f.onset,
    f.frameRate,
    frames.map((b) => b / f.frameRate),
    1,
  );
  let mean = 0;
  for (const v of atBeats) mean += v;
  mean /= atBeats.length;
  const bpm = Math.round((600 * f.frameRate) / medIbi) / 10;
  const times = frames.map((b) => b / f.frameRate);
  // The drums' strongest accent of the bar lands on a beat (beat-phase.ts). The network's
  // activation already sits on the beat, not the off-beat comping the check corrects.
  const phased = track === f.onset ? checkBeatPhase(times, perc, f.frameRate).times : times;
  return {
    times: phased,
    bpm,
    alternative: level.altLag > 0 ? Math.round((10 * bpm * period) / level.altLag) / 10 : null,
    // How clearly this level beat the others, times how periodic and regular the beat is.
    tempoConfidence: clamp01(level.probability * Math.sqrt(clamp01(tempo.periodicity / 0.6)) * regular),
    beatConfidence: clamp01(mean / sd / 3),
    perc,
    acf: tempo.acf,
    network: track !== f.onset,
  };
}

function timeSignature(beatsPerBar: number, compound: boolean): TimeSignature {
  if (compound) return beatsPerBar === 2 ? "6/8" : "12/8";
  return beatsPerBar === 3 ? "3/4" : "4/4";
}

function keyFromChroma(c: Chromagram) {
  const prof = new Float64Array(12);
  const low = new Float64Array(12);
  // Square-root compression: loud passages (a chorus) must not outvote the whole song.
  for (let f = 0; f < c.nFrames; f++)
    for (let k = 0; k < 12; k++) {
      prof[k] = (prof[k] as number) + Math.sqrt(c.chroma[f * 12 + k] as number);
      low[k] = (low[k] as number) + Math.sqrt(c.lowChroma[f * 12 + k] as number);
    }
  return estimateKey(prof, low);
}

function structure(x: Float32Array, sr: number, f: FrameFeatures, c: Chromagram, beats: Beats, downbeats: number[] | undefined, beatsPerBar: number) {
  const dur = x.length / sr;
  // Beat units when there is a beat; otherwise a 0.5 s grid (speech, ambient).
  let units: number[];
  if (beats.times.length >= 8) {
    units = [0, ...beats.times.filter((t) => t > 0.05), dur];
  } else {
    units = [];
    for (let t = 0; t < dur; t += 0.5) units.push(t);
    units.push(dur);
  }
  // Bounded SSM: at most MAX_UNITS units (long tracks merge consecutive beats).
  const capped = capUnits(units, MAX_UNITS);
  const unitS = dur / Math.max(1, capped.length - 1);
  // Timbre: the log bands averaged into 12 groups.
  const tDim = 12;
  const grouped = new Float32Array(f.nFrames * tDim);
  const per = f.nBands / tDim;
  for (let fr = 0; fr < f.nFrames; fr++) {
    for (let b = 0; b < f.nBands; b++) {
      const g = Math.min(tDim - 1, Math.floor(b / per));
      grouped[fr * tDim + g] = (grouped[fr * tDim + g] as number) + (f.bands[fr * f.nBands + b] as number) / per;
    }
  }
  const rmsFrames = f.rms;
  const unitRms = syncFeatures(rmsFrames, 1, f.frameRate, capped);
  const beatS = beats.bpm ? 60 / beats.bpm : unitS;
  // Kernel 2 bars (4 on long songs, whose sections are longer), minimum section 4 bars,
  // intro/outro at least 2 bars; all in units.
  const beatsToUnits = (b: number) => Math.max(2, Math.round((b * beatS) / unitS));
  const kernelUnits = beatsToUnits(beatsPerBar * (dur > 90 ? 4 : 2));
  const minSegmentUnits = beatsToUnits(beatsPerBar * 4);
  const minEdgeUnits = beatsToUnits(beatsPerBar * 2);
  return analyzeStructure({
    unitTimes: capped,
    chroma: syncFeatures(c.chroma, 12, c.frameRate, capped),
    timbre: syncFeatures(grouped, tDim, f.frameRate, capped),
    timbreDim: tDim,
    rms: unitRms,
    kernelUnits,
    minSegmentUnits,
    minEdgeUnits,
    snapTimes: downbeats && downbeats.length > 0 ? downbeats : undefined,
  });
}

function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) * (x[i] as number);
  return x.length ? Math.sqrt(s / x.length) : 0;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new Error("aborted");
}
