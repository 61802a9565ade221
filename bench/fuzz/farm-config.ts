/**
 * The farm the fuzzer runs against: embedded, every plugin that starts without model weights
 * (the others answer 503 CAPABILITY_UNAVAILABLE, counted apart), URL inputs allowed so the
 * private-address policy is what refuses them, no rate limits (they would turn most of the
 * run into 429s), a small body limit so "just over the limit" bodies stay cheap, a short
 * synchronous wait and a short URL download timeout.
 */
export const FUZZ_BODY_LIMIT_MB = 4;

export const fuzzFarmOverrides = {
  agent: { plugins: ["diag", "enhance", "audio", "video", "face", "speech"] },
  api: {
    body_limit_mb: FUZZ_BODY_LIMIT_MB,
    sync_wait_s: 5,
    rate_limits: { enabled: false },
    // A URL to a public address that drops packets (nothing is online here) would hold the
    // request for the whole download timeout; keep that well under the fuzzer's 30 s wait so
    // its 400 counts, and "no answer" stays the server's fault.
    inputs: { allow_http: true, fetch_timeout_ms: 5000 },
  },
};
