/**
 * The ComfyUI stand-in launched the way the comfyui plugin's supervisor launches ComfyUI:
 *   <command> <args...> --listen 127.0.0.1 --port N --cuda-device I [--output-directory DIR]
 * (ComfyUI's main.py arguments; unknown ones are ignored, as its argparse setup would not
 * accept them either — the supervisor passes only these). Stand-in settings come from the
 * environment: NB_STANDIN_MODELS (JSON, weight files per folder), NB_STANDIN_STEP_MS,
 * NB_STANDIN_VRAM_MB. Prints what it got to stdout, binds the given address only.
 */
import { parseArgs } from "node:util";
import { ComfyStandin } from "../fixtures/comfyui/standin.ts";

const { values } = parseArgs({
  options: {
    listen: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8188" },
    "cuda-device": { type: "string" },
    "output-directory": { type: "string" },
  },
  strict: true,
});
if (values.listen !== "127.0.0.1") throw new Error(`the stand-in binds 127.0.0.1 only, got --listen ${values.listen}`);
const env = process.env;
const standin = new ComfyStandin({
  port: Number(values.port),
  models: env.NB_STANDIN_MODELS ? (JSON.parse(env.NB_STANDIN_MODELS) as Record<string, string[]>) : {},
  stepMs: env.NB_STANDIN_STEP_MS ? Number(env.NB_STANDIN_STEP_MS) : undefined,
  vramMb: env.NB_STANDIN_VRAM_MB ? Number(env.NB_STANDIN_VRAM_MB) : undefined,
  // main.py: folder_paths.set_output_directory(os.path.abspath(args.output_directory)).
  outputDirectory: values["output-directory"],
});
await standin.start();
process.stdout.write(
  `comfyui stand-in on 127.0.0.1:${standin.port} cuda-device=${values["cuda-device"] ?? "-"} output=${standin.outputDir} CUDA_VISIBLE_DEVICES=${env.CUDA_VISIBLE_DEVICES ?? "-"}\n`,
);
const stop = () => void standin.stop().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
