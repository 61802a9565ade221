/**
 * The half-turn check of the rotation search (jobs.ts): is the face found at the search's turn
 * upside down? face-api's upright detector (TinyFaceDetector) also fires on upside-down faces
 * (dev photographs turned 180 degrees: score >= 0.5 on 70 of 268, up to 0.94), so a photo
 * stored upside down was answered at rotation 0, and a sideways one at the wrong quarter turn
 * when its first probe hit the upside-down side. BlazeFace's score on a crop around the face
 * tells the two apart: the crop the right way up scored higher than the same crop turned 180
 * degrees on 260 of 262 dev photographs (CALIBRATION.md, "Half-turn check"). human-faceres
 * needs it too: its mesh draws an upright-looking face on an upside-down one at a confident
 * score, which its landmark search took as turn 0 (19 of 40 upside-down copies).
 *
 * Settings, chosen on the dev photographs (and their copies turned 180 degrees) only:
 * - A face Tiny found at >= 0.95 is trusted without a check: no upside-down face scored that
 *   high (dev max 0.94), and 27 % of upright photos skip the check's cost.
 * - The crop is 3x the face box (a face at a third of the crop, grey past the image's edge):
 *   at 2x or on the whole image, upright photos were turned by mistake more often.
 * - The crop turned 180 degrees is scored first; below 0.75 it is no face the right way up
 *   and the check stops there (one BlazeFace pass, ~20 ms, for 70 % of checked photos).
 * - Otherwise the turn wins only by a margin of 0.05: 0 upright dev photos turned by mistake,
 *   257 of 262 upside-down copies put right.
 * The same crop and margin also refute a quarter turn Tiny probed on a photo SSD found faces
 * in as stored (quarterTurnRefuted).
 */
import { BLAZEFACE_INPUT } from "./blazeface-score.ts";
import { faceCrop, rotateRgb, type WorkFrame } from "./frame.ts";
import { largestFace } from "./geometry.ts";
import type { DetectedFace, FaceBackend, RgbImage } from "./types.ts";

export const HALF_TURN = {
  /** Tiny score above which its faces are taken as upright without a check. */
  trustUpright: 0.95,
  /** Crop side as a multiple of the face box's longer side. */
  cropFactor: 3,
  /** The turned crop's score must reach this to be a face at all. */
  minTurned: 0.75,
  /** ...and beat the crop as found by this much. */
  margin: 0.05,
} as const;

type FoundFaces = { faces: DetectedFace[]; detector: string; frame: WorkFrame };

/** The largest face's crop (cropFactor x its box, BLAZEFACE_INPUT square) in `found`'s frame. */
function largestCrop(found: FoundFaces): RgbImage | null {
  const face = found.faces[largestFace(found.faces)];
  return face ? faceCrop(found.frame.image, face.bbox, HALF_TURN.cropFactor, BLAZEFACE_INPUT) : null;
}

/** True when the largest face of `found` scores clearly better turned by 180 degrees. */
export async function upsideDown(backend: FaceBackend, found: FoundFaces, signal: AbortSignal): Promise<boolean> {
  const crop = largestCrop(found);
  if (!backend.cropFaceScores || !crop) return false;
  if (found.detector === backend.uprightDetector && found.faces.some((f) => f.confidence >= HALF_TURN.trustUpright)) return false;
  const [turned = 0] = await backend.cropFaceScores([rotateRgb(crop, 180)], signal);
  if (turned < HALF_TURN.minTurned) return false;
  const [asFound = 0] = await backend.cropFaceScores([crop], signal);
  return turned > asFound + HALF_TURN.margin;
}

/**
 * True when a quarter turn that Tiny probed as upright is refuted: the largest face of
 * `asFound` (faces SSD found without the turn) scores clearly better as it is than turned by
 * `turn`. Tiny now and then fires on an upright photo turned sideways (dev: 2 of 268 photos
 * were answered at 90 or 270; held-out 3), while a copy stored sideways scores higher turned
 * upright on every dev photograph at this margin (0 of 524 sideways cases refuted).
 */
export async function quarterTurnRefuted(backend: FaceBackend, asFound: FoundFaces, turn: 90 | 270, signal: AbortSignal): Promise<boolean> {
  const crop = largestCrop(asFound);
  if (!backend.cropFaceScores || !crop) return false;
  const [asIs = 0, turned = 0] = await backend.cropFaceScores([crop, rotateRgb(crop, turn)], signal);
  return asIs > turned + HALF_TURN.margin;
}
