/**
 * Camera motion for stills (Ken Burns and friends) as a zoompan filter.
 * Why zoompan on an oversampled picture: zoompan crops at whole input pixels, so at the
 * output size a slow zoom steps visibly (jitter). Feeding it a picture `oversample` times
 * larger than the output makes each step a fraction of an output pixel.
 * Easing: smoothstep (3p²−2p³), so the camera starts and stops without a jolt.
 */
import type { ANIMATE_MOTIONS } from "../../../core/job-types/video-animate.ts";

/** video.animate's motions, as its one definition lists them (clips of video.assemble take the same). */
export type Motion = (typeof ANIMATE_MOTIONS)[number];

/** Zoom reached at the end of a move: strength 0 → 1.05 (subtle), 0.5 → 1.10, 1 → 1.15 (strong). */
export const maxZoom = (strength: number): number => 1.05 + 0.1 * Math.min(1, Math.max(0, strength));

/** How many times larger than the output the picture is rendered before zoompan (1..4, ≤ ~6000 px). */
export const oversample = (width: number, height: number): number => Math.min(4, Math.max(1, Math.floor(6000 / Math.max(width, height))));

const f = (n: number) => Number(n.toFixed(6)).toString();

/**
 * The zoompan filter (no leading/trailing comma) turning one picture (already at
 * `oversample × width/height`, same aspect as the output) into `frames` frames at `fps`.
 */
export function zoompanFilter(motion: Motion, strength: number, frames: number, width: number, height: number, fps: number): string {
  const zmax = maxZoom(strength);
  const span = f(zmax - 1);
  // p: 0 → 1 over the clip; e: eased p. No commas so the graph needs no escaping.
  const p = frames > 1 ? `(on/${frames - 1})` : "1";
  const e = `(${p}*${p}*(3-2*${p}))`;
  const cx = "(iw-iw/zoom)";
  const cy = "(ih-ih/zoom)";
  let z: string;
  let x: string;
  let y: string;
  switch (motion) {
    case "zoom_in":
      [z, x, y] = [`1+${span}*${e}`, `${cx}/2`, `${cy}/2`];
      break;
    case "zoom_out":
      [z, x, y] = [`${f(zmax)}-${span}*${e}`, `${cx}/2`, `${cy}/2`];
      break;
    case "pan_left": // the camera turns left: the view slides from the right edge to the left one
      [z, x, y] = [f(zmax), `${cx}*(1-${e})`, `${cy}/2`];
      break;
    case "pan_right":
      [z, x, y] = [f(zmax), `${cx}*${e}`, `${cy}/2`];
      break;
    default: // ken_burns: slow push in with a small diagonal drift
      [z, x, y] = [`1+${span}*${e}`, `${cx}*(0.5+0.3*${e})`, `${cy}*(0.5-0.2*${e})`];
  }
  return `zoompan=z='${z}':x='${x}':y='${y}':d=${frames}:s=${width}x${height}:fps=${f(fps)}`;
}
