/**
 * The farm the fuzzer runs against: embedded, every plugin that starts without model weights
 * (the others answer 503 CAPABILITY_UNAVAILABLE, counted apart), URL inputs allowed so the
 * private-address policy is what refuses them, no rate limits (they would turn most of the
 * run into 429s), a small body limit so "just over the limit" bodies stay cheap, and a short
 * synchronous wait.
 */
export const FUZZ_BODY_LIMIT_MB = 4;

export const fuzzFarmOverrides = {
  agent: { plugins: ["diag", "enhance", "audio", "video", "face", "speech"] },
  api: {
    body_limit_mb: FUZZ_BODY_LIMIT_MB,
    sync_wait_s: 5,
    rate_limits: { enabled: false },
    inputs: { allow_http: true },
  },
};
