/** The webhook signature scheme (X-Farm-Signature: t=<s>,v1=<hex HMAC-SHA256("<t>.<body>")>), checked against a hand-computed HMAC. */
import { test } from "vitest";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { signatureHeader, verifySignature } from "../../coordinator/webhooks/signature.ts";
import { parseWebhookUrl, vetWebhookTarget } from "../../coordinator/webhooks/target.ts";
import { FarmError } from "../../core/errors.ts";

const secret = "whsec-test-0123456789abcdef";
const body = '{"job_id":"j1","status":"completed"}';

test("the header is t=<unix s>,v1=<hex HMAC-SHA256 of '<t>.<body>'>", () => {
  const h = signatureHeader(secret, body, 1764835200);
  const mac = crypto.createHmac("sha256", secret).update(`1764835200.${body}`).digest("hex");
  assert.equal(h, `t=1764835200,v1=${mac}`);
  assert.ok(verifySignature(secret, body, h, 1764835200));
  assert.ok(verifySignature(secret, body, h, 1764835200 + 300), "inside the tolerance");
  assert.ok(!verifySignature(secret, body, h, 1764835200 + 301), "a replay later than 5 minutes");
  assert.ok(!verifySignature(secret, body + " ", h, 1764835200), "a changed body");
  assert.ok(!verifySignature(secret, body, h.replace(/v1=./, "v1=0"), 1764835200));
  assert.ok(!verifySignature(secret, body, "v1=" + mac, 1764835200), "no timestamp");
  // A receiver may see several v1 values (a secret being rotated): any one matching is enough.
  assert.ok(verifySignature(secret, body, `t=1764835200,v1=${"0".repeat(64)},v1=${mac}`, 1764835200));
});

test("webhook URLs: http(s) only, no credentials, and private hosts refused without connecting unless allowed", async () => {
  const field = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as FarmError).details;
    }
    return undefined;
  };
  assert.deepEqual(
    field(() => parseWebhookUrl("file:///etc/passwd")),
    { field: "webhook_url", constraint: "url scheme" },
  );
  assert.deepEqual(
    field(() => parseWebhookUrl("https://a:b@example.com/")),
    { field: "webhook_url", constraint: "url" },
  );
  assert.deepEqual(
    field(() => parseWebhookUrl("x".repeat(3000))),
    { field: "webhook_url", constraint: "url" },
  );
  const lookup = async () => [
    { address: "93.184.215.14", family: 4 },
    { address: "10.0.0.7", family: 4 },
  ];
  await assert.rejects(
    vetWebhookTarget(new URL("https://rebind.example/"), { allow_private_addresses: false, lookup }),
    (e: FarmError) => e.code === "VALIDATION_ERROR" && e.details?.field === "webhook_url" && /10\.0\.0\.7/.test(e.message),
  );
  assert.deepEqual(await vetWebhookTarget(new URL("https://rebind.example/"), { allow_private_addresses: true, lookup }), {
    address: "93.184.215.14",
    family: 4,
  });
  await assert.rejects(vetWebhookTarget(new URL("http://[::ffff:127.0.0.1]/"), { allow_private_addresses: false }), /non-public/);
  await assert.rejects(vetWebhookTarget(new URL("http://nowhere.invalid/"), { allow_private_addresses: false, lookup: async () => [] }), /cannot be resolved/);
});
