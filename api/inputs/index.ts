/** Input resolution for the front door: uploads, artifact references, base64, paths, URLs. */
export { resolveMediaInput, type ResolvedInput } from "./resolve-input.ts";
export { storeUpload, uploadKey, type StoredUpload, type UploadOptions } from "./uploads.ts";
export { inputDepsFromConfig, maxBytes, type InputDeps, type HostLookup } from "./input-deps.ts";
export { sniffType, type MediaKind, type SniffedType } from "./sniff.ts";
export { isNonPublicAddress } from "../../core/net/address-policy.ts";
export { resolveServerPath, allowedRoots } from "./safe-path.ts";
export { assertOutputAllowed, jobIdsInKey, type InputCaller } from "./input-caller.ts";
