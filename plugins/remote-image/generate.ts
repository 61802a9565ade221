/**
 * One image.generate task through a remote provider: send, decode, verify, store.
 *
 * The provider's bytes are checked with sharp (a real image of a known format, within the
 * pixel limit) before they are stored: a provider answering text, an HTML error page or a
 * truncated image fails the job (EXTERNAL_API_ERROR) instead of storing junk. There is no
 * fallback or placeholder image on any path.
 *
 * Result (API §2): {image_url, image_base64 (only when params.return_base64),
 * metadata: {model, resolution, generation_time, seed, provider, requested_resolution}}.
 * `resolution` is what the provider really returned (providers may not honour the size);
 * `seed` is what the provider reports, else null: the farm never invents one.
 */
import { Readable } from "node:stream";
import sharp from "sharp";
import { outputUrl } from "../../core/artifact-store.ts";
import { FarmError } from "../../core/errors.ts";
import type { Task, TaskContext } from "../../core/plugin-contract.ts";
import type { RemoteImageConfig } from "./config.ts";
import { parseRemoteImageParams } from "./params.ts";
import { buildCall, parseAnswer, TAKES_REFERENCES, type ImageRequest } from "./protocols.ts";
import { callProvider, realClientDeps, type ClientDeps } from "./provider-client.ts";

/** sharp's decompression-bomb guard, same order as the face plugin's input limit. */
const MAX_PIXELS = 64 * 1024 * 1024;
const FORMATS: Record<string, { ext: string; mime: string }> = {
  png: { ext: "png", mime: "image/png" },
  jpeg: { ext: "jpg", mime: "image/jpeg" },
  webp: { ext: "webp", mime: "image/webp" },
};

async function readArtifact(ctx: TaskContext, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of (await ctx.artifacts.get(key)) as Readable) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export async function runRemoteImage(
  task: Task,
  ctx: TaskContext,
  cfg: RemoteImageConfig,
  deps: ClientDeps = realClientDeps,
  now: () => number = Date.now,
): Promise<Record<string, unknown>> {
  const params = parseRemoteImageParams(task.params);
  const model = task.model ?? (typeof task.params.model === "string" ? task.params.model : undefined);
  const provider = model !== undefined ? cfg.byModel.get(model) : undefined;
  if (!model || !provider) {
    throw new FarmError("CAPABILITY_UNAVAILABLE", `remote-image has no provider configured for model '${model ?? "(none)"}'`, {
      field: "model",
      constraint: "configured",
      model,
    });
  }
  if (params.character_id) {
    // Identity needs a face-reference workflow and a face check (ComfyUI + face plugin);
    // a remote provider cannot be made to keep a face, so this is refused, not faked.
    throw new FarmError(
      "CAPABILITY_UNAVAILABLE",
      `model '${model}' (remote provider '${provider.name}') cannot generate for a character_id: use a model with a face-reference workflow`,
      { field: "character_id", constraint: "face_ref", model },
    );
  }
  if (params.reference_images.length > 0 && !TAKES_REFERENCES.has(provider.protocol)) {
    throw new FarmError("VALIDATION_ERROR", `reference_images are not supported by model '${model}' (provider '${provider.name}', ${provider.protocol})`, {
      field: "reference_images",
      constraint: "provider",
    });
  }
  const req: ImageRequest = {
    prompt: params.style_preset ? `${params.prompt}\nStyle: ${params.style_preset}` : params.prompt,
    width: params.width,
    height: params.height,
    ...(params.negative_prompt ? { negative_prompt: params.negative_prompt } : {}),
    ...(params.seed !== undefined ? { seed: params.seed } : {}),
  };
  if (params.reference_images.length > 0) {
    req.references = await Promise.all(
      params.reference_images.map(async (key) => {
        const buf = await readArtifact(ctx, key);
        const meta = await sharp(buf, { limitInputPixels: MAX_PIXELS })
          .metadata()
          .catch(() => null);
        const f = meta?.format ? FORMATS[meta.format] : undefined;
        if (!f)
          throw new FarmError("VALIDATION_ERROR", `reference image '${key}' is not a PNG, JPEG or WebP image`, {
            field: "reference_images",
            constraint: "image",
          });
        return { mime: f.mime, base64: buf.toString("base64") };
      }),
    );
  }

  const t0 = now();
  ctx.progress(5, `Asking ${provider.name} for an image (${model})`);
  const body = await callProvider(provider.name, buildCall(provider, provider.models[model]!, req), cfg, ctx.signal, deps, (what, waitMs, attempt) => {
    ctx.logger.warn("image provider: retrying", { provider: provider.name, what, wait_ms: waitMs, attempt });
    ctx.progress(5, `${provider.name}: ${what}; retry ${attempt} in ${(waitMs / 1000).toFixed(1)} s`);
  });
  const parsed = parseAnswer(provider.protocol, body);
  if (!parsed.ok)
    throw new FarmError(
      "EXTERNAL_API_ERROR",
      `image provider '${provider.name}' answered without an image: ${parsed.reason}`,
      { field: "model", constraint: "image", provider: provider.name },
      false,
    );
  const bytes = Buffer.from(parsed.base64, "base64");
  const meta = await sharp(bytes, { limitInputPixels: MAX_PIXELS })
    .metadata()
    .catch((err: unknown) => {
      throw new FarmError(
        "EXTERNAL_API_ERROR",
        `image provider '${provider.name}' returned bytes that are not a readable image (${err instanceof Error ? err.message : String(err)})`,
        { field: "model", constraint: "image", provider: provider.name },
        false,
      );
    });
  const fmt = meta.format ? FORMATS[meta.format] : undefined;
  if (!fmt || !meta.width || !meta.height) {
    throw new FarmError(
      "EXTERNAL_API_ERROR",
      `image provider '${provider.name}' returned a ${meta.format ?? "unknown"} file, not a PNG, JPEG or WebP image`,
      { field: "model", constraint: "image", provider: provider.name },
      false,
    );
  }
  const generation_time = Math.round((now() - t0) / 10) / 100;
  ctx.progress(90, "Saving the image");
  const key = `outputs/images/${task.job_id}.${fmt.ext}`;
  await ctx.artifacts.put(key, bytes, { size: bytes.length, contentType: fmt.mime });
  ctx.progress(100, "Done");
  return {
    image_url: outputUrl(key),
    ...(params.return_base64 ? { image_base64: parsed.base64 } : {}),
    metadata: {
      model,
      resolution: `${meta.width}x${meta.height}`,
      generation_time,
      seed: parsed.seed,
      provider: provider.name,
      requested_resolution: `${params.width}x${params.height}`,
      ...(parsed.note ? { provider_note: parsed.note } : {}),
    },
  };
}
