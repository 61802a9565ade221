/**
 * Builds the ONE filter_complex for a render. Clips are read by `movie` sources inside the
 * graph rather than as `-i` inputs: ffmpeg reads every `-i` input eagerly and queues the
 * decoded frames of clips the graph does not need yet (GiBs at 1080p), whereas a `movie`
 * source decodes only when the graph pulls from it, so memory stays flat in the clip count.
 * Every clip normalised (fps, fit, setsar=1,
 * yuv420p, exact frame count), cut into head | body | tail, transitions rendered on the
 * short tail+head pairs (xfade / acrossfade), everything strung together by ONE concat
 * (each frame passes a constant number of filters whatever the clip count), then music
 * mixed in. Output pads: [vout] and [aout].
 */
import type { Fit } from "./output-settings.ts";
import { oversample, zoompanFilter, type Motion } from "./motion.ts";
import type { Timeline } from "./timeline.ts";

export const SAMPLE_RATE = 48_000;

export interface GraphClip {
  /** Local file of this clip. */
  file: string;
  /** Seconds into the source where the clip starts. */
  trimStart: number;
  /** Container start time of the source (ffprobe format.start_time). */
  startTime: number;
  kind: "image" | "video";
  hasAudio: boolean;
  motion: Motion | "none";
  motionStrength: number;
}

export interface GraphMusic {
  input: number;
  volume: number;
  fadeIn: number;
  fadeOut: number;
  keepClipAudio: boolean;
  clipVolume: number;
  ducking: { enabled: boolean; threshold: number; ratio: number };
}

export interface GraphOptions {
  width: number;
  height: number;
  fit: Fit;
  clips: GraphClip[];
  music?: GraphMusic;
  /** Samples per audio frame the encoder needs (aac 1024, opus 960); none for PCM. */
  audioFrameSize?: number;
  /** Gain of clip audio when there is no music (default 1). */
  clipVolume?: number;
}

const s6 = (x: number) => Number(x.toFixed(6)).toString();

/** Escape a value for a filter option inside a filtergraph (two levels, per ffmpeg-filters "Notes on filtergraph escaping"). */
export const escapeFilterValue = (v: string): string => v.replace(/[\\':]/g, "\\$&").replace(/[\\'[\],;]/g, "\\$&");
const even = (x: number) => Math.max(2, Math.round(x / 2) * 2);

/** The output frame rate as a rational string ffmpeg parses exactly ("30/1", "29970/1000"). */
export const fpsRational = (fps: number): string => (Number.isInteger(fps) ? `${fps}/1` : `${Math.round(fps * 1000)}/1000`);

/** Filters fitting a picture into W×H (letterbox, blurred fill, or crop). `tag` keeps labels unique. */
export function fitChain(inLabel: string, outLabel: string, w: number, h: number, fit: Fit, tag: string): string {
  if (fit === "crop") {
    return `${inLabel}scale=${w}:${h}:force_original_aspect_ratio=increase,crop=${w}:${h},setsar=1${outLabel}`;
  }
  const fg = `scale=${w}:${h}:force_original_aspect_ratio=decrease:force_divisible_by=2`;
  if (fit === "letterbox") return `${inLabel}${fg},pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1${outLabel}`;
  // Blurred fill: blur a quarter-size cover crop (cheap), scale it back up, overlay the fitted picture.
  const bw = even(w / 4);
  const bh = even(h / 4);
  const radius = Math.max(1, Math.min(10, Math.floor(Math.min(bw, bh) / 4) - 1));
  return [
    `${inLabel}split=2[bg${tag}][fg${tag}]`,
    `[bg${tag}]scale=${bw}:${bh}:force_original_aspect_ratio=increase,crop=${bw}:${bh},boxblur=${radius}:1,scale=${w}:${h},setsar=1[bb${tag}]`,
    `[fg${tag}]${fg},setsar=1[ff${tag}]`,
    `[bb${tag}][ff${tag}]overlay=(W-w)/2:(H-h)/2,setsar=1${outLabel}`,
  ].join(";");
}

const samplesOf = (frames: number, fps: number) => Math.round((frames * SAMPLE_RATE) / fps);

/** The whole filter_complex text. */
export function buildFilterGraph(t: Timeline, o: GraphOptions): string {
  const out = buildGraphBody(t, o);
  // Fixed-frame-size encoders (AAC) reject larger frames, and ffmpeg 5.1 does not reframe
  // audio that comes from graph sources, so the graph emits encoder-sized frames itself.
  const reframe = o.audioFrameSize ? `asetnsamples=n=${o.audioFrameSize}:p=0` : "anull";
  return `${out};\n[amx]${reframe}[aout]`;
}

function buildGraphBody(t: Timeline, o: GraphOptions): string {
  const out: string[] = [];
  const { width: W, height: H, fps } = { width: o.width, height: o.height, fps: t.fps };
  const fr = fpsRational(fps);
  const tb = `1/(${fr})`; // settb takes an expression
  const wantClipAudio = o.music ? o.music.keepClipAudio : true;
  const clipGain = o.music ? o.music.clipVolume : (o.clipVolume ?? 1);
  const aformat = `aresample=${SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo`;

  const clipV: string[] = [];
  o.clips.forEach((c, i) => {
    const n = t.clipFrames[i]!;
    const secs = n / fps;
    // Source: the clip's own streams, decoded on demand, trimmed on timestamps (movie does not rebase them).
    const withAudio = wantClipAudio && c.kind === "video" && c.hasAudio;
    const sp = c.kind === "video" && c.trimStart > 0 ? `:sp=${s6(c.trimStart)}` : "";
    out.push(`movie=filename=${escapeFilterValue(c.file)}${sp}:s=${withAudio ? "dv+da" : "dv"}[mv${i}]${withAudio ? `[ma${i}]` : ""}`);
    const from = s6(c.startTime + c.trimStart);
    const raw = c.kind === "video" ? `[mv${i}]trim=start=${from},setpts=PTS-STARTPTS,` : `[mv${i}]`;
    // Stills: fps sets the link frame rate xfade checks, but at EOF it can add or drop a
    // frame, so clone-pad and cut to exactly n frames afterwards.
    const exact = `fps=${fr},tpad=stop_mode=clone:stop=${n},trim=end_frame=${n},setpts=PTS-STARTPTS`;
    // Normalise every clip to W×H, yuv420p, square pixels, time base 1/fps, exactly n frames.
    if (c.kind === "video") {
      out.push(fitChain(`${raw}fps=${fr},`, `[f${i}]`, W, H, o.fit, `${i}`));
      out.push(`[f${i}]format=yuv420p,tpad=stop_mode=clone:stop_duration=${s6(secs + 1)},trim=end_frame=${n},setpts=PTS-STARTPTS,settb=${tb}[c${i}]`);
    } else if (c.motion === "none") {
      out.push(fitChain(raw, `[f${i}]`, W, H, o.fit, `${i}`));
      out.push(`[f${i}]format=yuv420p,loop=loop=${n - 1}:size=1:start=0,settb=${tb},setpts=N,${exact}[c${i}]`);
    } else {
      const k = oversample(W, H);
      out.push(fitChain(raw, `[f${i}]`, W * k, H * k, o.fit, `${i}`));
      out.push(`[f${i}]${zoompanFilter(c.motion, c.motionStrength, n, W, H, fps)},setsar=1,format=yuv420p,settb=${tb},setpts=N,${exact}[c${i}]`);
    }
    let vLabel = `c${i}`;
    if (i === 0 && t.head) {
      out.push(`color=c=${t.head.colour}:s=${W}x${H}:r=${fr}:d=${s6(t.head.frames / fps)},format=yuv420p,settb=${tb},setpts=N[hd]`);
      out.push(`[hd][${vLabel}]xfade=transition=${t.head.xfade}:duration=${s6(t.head.frames / fps)}:offset=0[ch${i}]`);
      vLabel = `ch${i}`;
    }
    if (i === o.clips.length - 1 && t.tail) {
      out.push(`color=c=${t.tail.colour}:s=${W}x${H}:r=${fr}:d=${s6(t.tail.frames / fps)},format=yuv420p,settb=${tb},setpts=N[tl]`);
      out.push(`[${vLabel}][tl]xfade=transition=${t.tail.xfade}:duration=${s6(t.tail.frames / fps)}:offset=${s6((n - t.tail.frames) / fps)}[ct${i}]`);
      vLabel = `ct${i}`;
    }
    clipV.push(vLabel);

    if (wantClipAudio) {
      const ns = samplesOf(n, fps);
      const src = withAudio ? `[ma${i}]atrim=start=${from},asetpts=PTS-STARTPTS,${aformat},apad` : `anullsrc=r=${SAMPLE_RATE}:cl=stereo`;
      const fades: string[] = [];
      if (i === 0 && t.head) fades.push(`afade=t=in:ns=${samplesOf(t.head.frames, fps)}`);
      if (i === o.clips.length - 1 && t.tail) fades.push(`afade=t=out:ss=${ns - samplesOf(t.tail.frames, fps)}:ns=${samplesOf(t.tail.frames, fps)}`);
      out.push(`${src},atrim=end_sample=${ns},asetpts=N/SR/TB${fades.map((f) => `,${f}`).join("")}[s${i}]`);
    }
  });

  const totalSamples = samplesOf(t.totalFrames, fps);
  const joined = joinClips(t, clipV, wantClipAudio, out);
  // Renumber: every segment has exact frame counts, but concat offsets segments by their
  // measured durations, and a rounding there would make the cfr muxer drop a frame.
  out.push(`[${joined.v}]settb=${tb},setpts=N[vout]`);
  const clipAudio = joined.a ? `[${joined.a}]apad,atrim=end_sample=${totalSamples}` : undefined;
  const gain = `volume=${s6(clipGain)}`;

  const m = o.music;
  if (!m) {
    out.push(`${clipAudio},${gain}[amx]`);
    return out.join(";\n");
  }
  const T = t.totalFrames / fps;
  const fadeIn = Math.min(m.fadeIn, T);
  const fadeOut = Math.min(m.fadeOut, T);
  // Music: padded with silence if short, cut at the video's last sample, fade-out ending exactly there.
  const mf = [`[${m.input}:a]${aformat}`, "apad", `atrim=end_sample=${totalSamples}`, `asetpts=N/SR/TB`, `volume=${s6(m.volume)}`];
  if (fadeIn > 0) mf.push(`afade=t=in:st=0:d=${s6(fadeIn)}`);
  if (fadeOut > 0) mf.push(`afade=t=out:st=${s6(T - fadeOut)}:d=${s6(fadeOut)}`);
  out.push(`${mf.join(",")}[mus]`);
  if (!clipAudio) {
    out.push(`[mus]anull[amx]`);
  } else if (m.ducking.enabled) {
    // The sidechain hears the clips at their own level, so ducking follows their content
    // whatever clip_volume puts them at in the mix.
    out.push(`${clipAudio},asplit=2[clr][clsc]`);
    out.push(`[clr]${gain}[cla]`);
    out.push(`[mus][clsc]sidechaincompress=threshold=${s6(m.ducking.threshold)}:ratio=${s6(m.ducking.ratio)}:attack=20:release=300[mduck]`);
    out.push(`[cla][mduck]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[amx]`);
  } else {
    out.push(`${clipAudio},${gain}[cla]`);
    out.push(`[cla][mus]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[amx]`);
  }
  return out.join(";\n");
}

/**
 * Joins the normalised clips without buffering whole clips. xfade (ffmpeg 5.1) pulls its
 * second input eagerly, so a chain or tree of xfades over whole clips queues every later
 * clip's decoded frames in memory (≈ the whole video at 1080p). Instead each clip is cut
 * into head | body | tail (head/tail = the transition frames), only the short tail+head
 * pairs go through xfade / acrossfade, and one concat strings everything together in
 * order; concat pulls one input at a time, so at most a transition's frames wait.
 */
function joinClips(t: Timeline, clipV: string[], withAudio: boolean, out: string[]): { v: string; a?: string } {
  const fps = t.fps;
  const n = clipV.length;
  const seq: { v: string; a?: string }[] = [];
  const heads: { v: string; a?: string }[] = [];
  const tails: { v: string; a?: string; samples: number }[] = [];
  for (let i = 0; i < n; i++) {
    const frames = t.clipFrames[i]!;
    const kin = i > 0 ? t.joins[i - 1]!.frames : 0;
    const kout = i < n - 1 ? t.joins[i]!.frames : 0;
    const parts: { name: "h" | "b" | "t"; from: number; to: number }[] = [];
    if (kin > 0) parts.push({ name: "h", from: 0, to: kin });
    if (frames - kout > kin) parts.push({ name: "b", from: kin, to: frames - kout });
    if (kout > 0) parts.push({ name: "t", from: frames - kout, to: frames });
    const labels: Record<string, { v: string; a?: string; samples: number }> = {};
    if (kin === 0 && kout === 0) {
      labels.b = { v: clipV[i]!, a: withAudio ? `s${i}` : undefined, samples: samplesOf(frames, fps) };
    } else {
      out.push(`[${clipV[i]}]split=${parts.length}${parts.map((p) => `[p${p.name}${i}]`).join("")}`);
      if (withAudio) out.push(`[s${i}]asplit=${parts.length}${parts.map((p) => `[q${p.name}${i}]`).join("")}`);
      for (const p of parts) {
        out.push(`[p${p.name}${i}]trim=start_frame=${p.from}:end_frame=${p.to},setpts=PTS-STARTPTS[v${p.name}${i}]`);
        const [sa, sb] = [samplesOf(p.from, fps), samplesOf(p.to, fps)];
        if (withAudio) out.push(`[q${p.name}${i}]atrim=start_sample=${sa}:end_sample=${sb},asetpts=N/SR/TB[a${p.name}${i}]`);
        labels[p.name] = { v: `v${p.name}${i}`, a: withAudio ? `a${p.name}${i}` : undefined, samples: sb - sa };
      }
    }
    if (labels.h) heads[i] = labels.h;
    if (labels.t) tails[i] = labels.t;
    if (i > 0 && kin > 0) {
      const join = t.joins[i - 1]!;
      const [tail, head] = [tails[i - 1]!, heads[i]!];
      out.push(`[${tail.v}][${head.v}]xfade=transition=${join.xfade}:duration=${s6(kin / fps)}:offset=0[vx${i}]`);
      if (withAudio) out.push(`[${tail.a}][${head.a}]acrossfade=ns=${Math.min(tail.samples, samplesOf(kin, fps))}:c1=tri:c2=tri[ax${i}]`);
      seq.push({ v: `vx${i}`, a: withAudio ? `ax${i}` : undefined });
    }
    if (labels.b) seq.push(labels.b);
  }
  if (seq.length === 1) return seq[0]!;
  const pads = seq.map((s) => `[${s.v}]${withAudio ? `[${s.a}]` : ""}`).join("");
  out.push(`${pads}concat=n=${seq.length}:v=1:a=${withAudio ? 1 : 0}[vcat]${withAudio ? "[acat]" : ""}`);
  return { v: "vcat", a: withAudio ? "acat" : undefined };
}
