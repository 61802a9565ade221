/**
 * What input resolution needs from the outside world. Injected, so tests can point it
 * at a temp store, temp folders and a fake DNS resolver.
 */
import type { ArtifactStore } from "../../core/artifact-store.ts";
import type { FarmConfig } from "../../core/config/schema.ts";
import type { MediaKind } from "./sniff.ts";
import type { InputCaller } from "./input-caller.ts";

/** Resolve a host name to every address it has (defined in core/net: webhook targets use it too). */
export type { HostLookup } from "../../core/net/address-policy.ts";
import type { HostLookup } from "../../core/net/address-policy.ts";

export interface InputDeps {
  /** Where uploads are stored (content-addressed under `uploads/`). */
  store: ArtifactStore;
  /** Server folders a request may name files in: uploads, outputs, cache and allowed_input_dirs. */
  paths: Pick<FarmConfig["paths"], "uploads" | "outputs" | "cache" | "allowed_input_dirs"> & {
    /** The fs artifact store's root: its outputs are under `<data_dir>/outputs` wherever paths.outputs points. */
    data_dir?: string;
  };
  /** `api.inputs`: size limits, pixel limit, http policy. */
  inputs: FarmConfig["api"]["inputs"];
  /** Folder for spooling uploads while they are hashed (default: the OS temp folder). */
  tmpDir?: string;
  /** DNS resolver for URL inputs (default: dns.promises.lookup, all addresses). */
  lookup?: HostLookup;
  /** Whole-download timeout for URL inputs, ms (default: api.inputs.fetch_timeout_ms). */
  fetchTimeoutMs?: number;
  /** Redirects followed for URL inputs, each re-checked (default 3). */
  maxRedirects?: number;
  /**
   * Who asks (the API's request): decides which outputs it may name (input-caller.ts).
   * Absent: a trusted in-process caller, no tenant check.
   */
  caller?: InputCaller;
}

/** Build the deps from the loaded config and the farm's artifact store. */
export function inputDepsFromConfig(config: Pick<FarmConfig, "paths" | "api">, store: ArtifactStore): InputDeps {
  return { store, paths: config.paths, inputs: config.api.inputs };
}

const MB = 1024 * 1024;

/** Byte limit for a field kind; `any` takes the largest, narrowed once the bytes are sniffed. */
export function maxBytes(kind: MediaKind, inputs: InputDeps["inputs"]): number {
  switch (kind) {
    case "image":
      return Math.floor(inputs.max_image_mb * MB);
    case "audio":
      return Math.floor(inputs.max_audio_mb * MB);
    case "video":
      return Math.floor(inputs.max_video_mb * MB);
    default:
      return Math.floor(Math.max(inputs.max_image_mb, inputs.max_audio_mb, inputs.max_video_mb) * MB);
  }
}

export const limitName = (kind: MediaKind): string => (kind === "any" ? "api.inputs.max_*_mb" : `api.inputs.max_${kind}_mb`);
