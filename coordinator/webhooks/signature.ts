/**
 * Webhook signatures, in the scheme Stripe uses: the header
 *
 *   X-Farm-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * Signing the timestamp with the body lets a receiver refuse replays (a `t` older than a
 * few minutes); `v1` names the scheme so another can be added beside it later. Receivers
 * compute the HMAC over the raw bytes they received (not re-serialised JSON) and compare
 * in constant time: `verifySignature` below is what a receiver runs.
 */
import crypto from "node:crypto";

export const SIGNATURE_HEADER = "x-farm-signature";

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = crypto.createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/** Whether `header` signs `body` with `secret`, and within `toleranceS` of `nowS`. */
export function verifySignature(secret: string, body: string, header: string, nowS = Math.floor(Date.now() / 1000), toleranceS = 300): boolean {
  const parts = new Map<string, string[]>();
  for (const kv of header.split(",")) {
    const i = kv.indexOf("=");
    if (i <= 0) continue;
    const k = kv.slice(0, i).trim();
    parts.set(k, [...(parts.get(k) ?? []), kv.slice(i + 1).trim()]);
  }
  const t = Number(parts.get("t")?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(crypto.createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"));
  return (parts.get("v1") ?? []).some((v) => {
    const got = Buffer.from(v);
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}
