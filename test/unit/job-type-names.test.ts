/**
 * Forgiving names (core/job-types/names.ts): the schema the coordinator and the API check at
 * submit accepts exactly the spellings the plugins' lookups find, so an unknown style is a
 * 400 at submit naming the field and listing the presets, and "sci fi" still means Sci-Fi.
 */
import { test } from "vitest";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import Fastify from "fastify";
import { nameKey, namePattern, NameOf } from "../../core/job-types/names.ts";
import { parseParams } from "../../core/job-types/parse.ts";
import { ParamCheck } from "../../coordinator/param-check.ts";
import { silentLogger } from "../../core/logger.ts";
import { FarmError } from "../../core/errors.ts";
import { findStyleSummary, styleNames } from "../../core/styles.ts";
import type { NodeReport } from "../../core/telemetry.ts";
import { ENHANCE_PROMPT, EnhanceParams } from "../../plugins/enhance/job-types.ts";
import { parseEnhanceParams } from "../../plugins/enhance/params.ts";
import { applyStyle } from "../../plugins/comfyui/jobs/style.ts";
import { jobTypeBody } from "../../api/job-type-body.ts";
import { installValidators } from "../../api/validators.ts";
import { envelope, mapError } from "../../api/errors.ts";

const report = (schemas: Record<string, unknown>): NodeReport => ({ param_schemas: schemas }) as unknown as NodeReport;

test("nameKey ignores case, spaces, hyphens and underscores; the pattern accepts exactly those keys", () => {
  assert.equal(nameKey(" Sci-Fi "), "scifi");
  assert.equal(nameKey("3D_Render"), "3drender");
  const re = new RegExp(namePattern(["Sci-Fi", "3D Render", "YouTube (16:9)"]), "u");
  for (const ok of ["Sci-Fi", "sci fi", "SCIFI", " sci_fi ", "3d render", "3D-RENDER", "youtube(16:9)", "YouTube (16:9)"]) assert.ok(re.test(ok), ok);
  for (const bad of ["Sci-Fiction", "scify", "3D", "youtube 16:9", "", "Watercolour"]) assert.ok(!re.test(bad), bad);
});

test("every style preset's name passes its schema and is found by both plugins' lookups in any accepted spelling", () => {
  const ajv = new Ajv({ strict: false });
  const validate = ajv.compile(NameOf(styleNames()));
  for (const name of styleNames()) {
    for (const spelling of [name, name.toUpperCase(), name.toLowerCase().replace(/[\s-]/g, "_"), ` ${name.replace(/[\s-]/g, "")} `]) {
      assert.ok(validate(spelling), spelling);
      assert.equal(findStyleSummary(spelling)?.name, name, spelling);
      assert.equal(parseEnhanceParams({ prompt: "a boat", style: spelling }).style, name, spelling);
      assert.ok(applyStyle(spelling, "a boat", undefined).prompt.startsWith("a boat, "), spelling);
    }
  }
});

test("an unknown enhance style is refused at submit by the coordinator, naming params.style and listing the presets", () => {
  const check = new ParamCheck(silentLogger);
  const reports = () => [report({ [ENHANCE_PROMPT.type]: ENHANCE_PROMPT.params })];
  check.check(ENHANCE_PROMPT.type, { prompt: "a boat", style: "sci fi" }, reports, 1);
  const err = (() => {
    try {
      check.check(ENHANCE_PROMPT.type, { prompt: "a boat", style: "Watercolour" }, reports, 1);
    } catch (e) {
      return e as FarmError;
    }
    assert.fail("accepted an unknown style");
  })();
  assert.equal(err.code, "VALIDATION_ERROR");
  assert.equal(err.details?.field, "params.style");
  assert.equal(err.details?.constraint, "enum");
  assert.deepEqual(err.details?.allowed, styleNames());
  assert.match(err.message, /^params\.style must be one of: Photorealistic, Cinematic/);
});

test("the plugin-side parse of the same schema names `style` and lists the presets", () => {
  assert.throws(
    () => parseParams(EnhanceParams, { prompt: "a boat", style: "Watercolour" }),
    (e: FarmError) => e.details?.field === "style" && e.details.constraint === "enum" && /style must be one of: Photorealistic/.test(e.message),
  );
  assert.equal(parseParams(EnhanceParams, { prompt: "a boat", style: "noir" }).style, "noir");
});

test("the route body derived from the definition refuses an unknown style with a 400 naming `style`", async () => {
  const app = Fastify();
  installValidators(app);
  app.setErrorHandler((err, _req, reply) => {
    const fe = mapError(err);
    void reply.status(400).send(envelope(fe));
  });
  app.post("/x", { schema: { body: jobTypeBody(ENHANCE_PROMPT) } }, async () => ({ ok: true }));
  try {
    const bad = await app.inject({ method: "POST", url: "/x", payload: { prompt: "a boat", style: "Watercolour" } });
    assert.equal(bad.statusCode, 400);
    const body = bad.json<{ code: string; message: string; details: { field: string; constraint: string; allowed: string[] } }>();
    assert.equal(body.code, "VALIDATION_ERROR");
    assert.equal(body.details.field, "style");
    assert.equal(body.details.constraint, "enum");
    assert.deepEqual(body.details.allowed, styleNames());
    const ok = await app.inject({ method: "POST", url: "/x", payload: { prompt: "a boat", style: "NEON-cyberpunk" } });
    assert.equal(ok.statusCode, 200);
  } finally {
    await app.close();
  }
});
