/**
 * suno.generate: submit, wait for the audio, save it, account for credits.
 *
 * Result (API §5, plus local_url / credits_source / download_error):
 * {
 *   success: true,
 *   songs: [{id, title, status, audio_url, duration, lyrics, style, local_url?, error_message?}],
 *   saved_file: {path: "/outputs/music/<job>-<clip>.mp3", size} | null,   // the first saved song
 *   credits_used: number,
 *   credits_source: "bridge" | "estimate",
 *   download_error?: string
 * }
 * - wait_audio=false returns right after submission (songs "submitted"/"queued"/..., no file).
 * - Every complete clip is downloaded (config download=true); saved_file describes the first.
 * - Clips that end in "error" fail the job (EXTERNAL_API_ERROR constraint clip_error) only
 *   when no clip completed; otherwise they are listed with status "error" and error_message.
 * - credits_used is credits_left before minus after when GET /api/get_limit answers both
 *   times ("bridge"), else 10 per generate call ("estimate").
 * - A failed download keeps the songs (they exist and were paid for): saved_file is null
 *   and download_error says why.
 */
import type { Task, TaskContext } from "../../core/plugin-contract.ts";
import type { SunoConfig } from "./config.ts";
import type { GenerateParams } from "./params.ts";
import { SunoBridgeClient, type GenerateRequest, type SunoCredits } from "./bridge-client.ts";
import type { SunoClip } from "./clips.ts";
import { waitForClips } from "./wait-clips.ts";
import { downloadClipAudio, musicKey, type SavedAudio } from "./download.ts";
import { bridgeError, cancelled } from "./errors.ts";

/** What one generate call costs on Suno (two clips). */
export const CREDITS_PER_GENERATE = 10;

export interface SunoSong {
  id: string;
  title: string;
  status: string;
  audio_url: string | null;
  duration: number | null;
  lyrics: string;
  style: string;
  /** Where the farm serves its copy, when downloaded. */
  local_url?: string;
  error_message?: string;
}

export interface GenerateResult {
  success: true;
  songs: SunoSong[];
  saved_file: { path: string; size: number } | null;
  credits_used: number;
  credits_source: "bridge" | "estimate";
  download_error?: string;
  [key: string]: unknown;
}

/** Credits now, or null when the bridge cannot say (accounting falls back to the estimate). */
async function creditsOrNull(client: SunoBridgeClient, ctx: TaskContext): Promise<SunoCredits | null> {
  try {
    return await client.credits();
  } catch (err) {
    if (ctx.signal.aborted) throw cancelled(ctx.signal);
    ctx.logger.warn("suno credits unavailable; credits_used will be estimated", { error: err instanceof Error ? err.message : String(err) });
    return null;
  }
}

function toSong(c: SunoClip, saved?: SavedAudio): SunoSong {
  return {
    id: c.id,
    title: c.title,
    status: c.status,
    audio_url: c.audio_url,
    duration: c.duration,
    lyrics: c.lyric,
    style: c.tags,
    ...(saved ? { local_url: saved.path } : {}),
    ...(c.status === "error" ? { error_message: c.error_message ?? "Suno reported an error for this clip" } : {}),
  };
}

export async function runGenerate(task: Task, p: GenerateParams, cfg: SunoConfig, ctx: TaskContext): Promise<GenerateResult> {
  const client = new SunoBridgeClient(cfg, ctx.signal);
  ctx.progress(0, "Checking Suno credits");
  const before = await creditsOrNull(client, ctx);
  if (before && before.credits_left < CREDITS_PER_GENERATE) {
    throw bridgeError(
      `not enough Suno credits: ${before.credits_left} left, a generation costs ${CREDITS_PER_GENERATE}`,
      "credits",
      { credits_left: before.credits_left },
      false,
    );
  }

  ctx.progress(2, p.mode === "custom" ? "Submitting lyrics to Suno" : "Submitting prompt to Suno");
  // wait_audio is always false on the bridge: we poll ourselves (see wait-clips.ts).
  const req: GenerateRequest = { prompt: p.prompt, make_instrumental: p.instrumental, wait_audio: false, model: p.model };
  if (p.mode === "custom") {
    req.tags = p.style ?? "";
    req.title = p.title ?? "";
  }
  const submitted = await client.generate(p.mode, req);
  let clips = submitted;
  if (p.wait_audio) {
    clips = await waitForClips(client, submitted, cfg, ctx, { from: 5, to: 85 });
    const complete = clips.filter((c) => c.status === "complete");
    if (complete.length === 0) {
      const failed = clips.filter((c) => c.status === "error");
      throw bridgeError(
        `Suno failed every clip: ${failed.map((c) => `${c.id} (${c.error_message ?? "no reason given"})`).join(", ")}`,
        "clip_error",
        { clip_ids: failed.map((c) => c.id) },
        false,
      );
    }
  }

  const after = before ? await creditsOrNull(client, ctx) : null;
  const delta = before && after ? before.credits_left - after.credits_left : NaN;
  const bridgeCount = Number.isFinite(delta) && delta >= 0;

  const saved = new Map<string, SavedAudio>();
  let downloadError: string | undefined;
  const toSave = p.wait_audio && cfg.download ? clips.filter((c) => c.status === "complete" && c.audio_url) : [];
  for (const [i, c] of toSave.entries()) {
    ctx.progress(85 + (15 * i) / toSave.length, `Saving song ${i + 1}/${toSave.length}`);
    try {
      saved.set(c.id, await downloadClipAudio(c.audio_url as string, musicKey(task.job_id, c.id), cfg, ctx));
    } catch (err) {
      if (ctx.signal.aborted) throw cancelled(ctx.signal);
      downloadError = `${c.id}: ${err instanceof Error ? err.message : String(err)}`;
      ctx.logger.warn("suno audio download failed", { clip: c.id, error: downloadError });
    }
  }
  const first = toSave.map((c) => saved.get(c.id)).find((s) => s !== undefined);
  ctx.progress(100, "Done");
  return {
    success: true,
    songs: clips.map((c) => toSong(c, saved.get(c.id))),
    saved_file: first ? { path: first.path, size: first.size } : null,
    credits_used: bridgeCount ? delta : CREDITS_PER_GENERATE,
    credits_source: bridgeCount ? "bridge" : "estimate",
    ...(downloadError ? { download_error: downloadError } : {}),
  };
}
