/**
 * A stand-in Suno API bridge for the suno plugin's tests: node:http on 127.0.0.1 (random
 * port) with the endpoints of gcui-art/suno-api and its behaviour that matters to us:
 * - POST /api/generate, /api/custom_generate create two clips and charge 10 credits;
 * - each GET /api/get?ids= moves every clip one step along `steps`
 *   (default submitted -> streaming -> complete), like Suno rendering over time;
 * - complete clips have audio_url pointing at /audio/<id>.mp3, a real MP3 (ffmpeg sine);
 * - POST /api/generate_lyrics, GET /api/get_limit.
 * `behaviour` switches failure modes per test; `requests` records every call.
 */
import http from "node:http";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";

export interface FakeBridgeBehaviour {
  /** Status sequence a clip walks through, one step per GET /api/get. */
  steps: string[];
  /** Per clip of a generate call (index 0 / 1): its own status sequence, overriding `steps`. */
  stepsByIndex?: string[][];
  /** Answer every call to these paths with HTTP 500. */
  fail500: string[];
  /** Answer these paths with a non-JSON body (an HTML error page with 200). */
  garbage: string[];
  /** Never answer these paths (the socket stays open). */
  hang: string[];
  /** GET /api/get_limit answers 404 (older bridges). */
  noLimit: boolean;
  /** Serve this instead of the MP3 at /audio/. */
  audioBody?: Buffer;
  /** Required `Authorization: Bearer <key>` when set. */
  apiKey?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  authorization?: string;
}

export interface FakeBridge {
  url: string;
  port: number;
  mp3: Buffer;
  behaviour: FakeBridgeBehaviour;
  requests: RecordedRequest[];
  credits: { credits_left: number; monthly_limit: number; monthly_usage: number };
  close(): Promise<void>;
}

let mp3Cache: Buffer | undefined;
/** A 1 s 440 Hz MP3 made by ffmpeg (about 8 KB). */
export function sineMp3(): Buffer {
  if (mp3Cache) return mp3Cache;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "suno-mp3-"));
  const out = path.join(dir, "sine.mp3");
  execFileSync("ffmpeg", [
    "-hide_banner",
    "-loglevel",
    "error",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:duration=1",
    "-c:a",
    "libmp3lame",
    "-b:a",
    "64k",
    "-y",
    out,
  ]);
  mp3Cache = fs.readFileSync(out);
  fs.rmSync(dir, { recursive: true, force: true });
  return mp3Cache;
}

interface ClipState {
  id: string;
  title: string;
  lyric: string;
  tags: string;
  model_name: string;
  step: number;
  steps?: string[];
}

export async function startFakeBridge(opts: Partial<FakeBridgeBehaviour> = {}): Promise<FakeBridge> {
  const mp3 = sineMp3();
  const behaviour: FakeBridgeBehaviour = { steps: ["submitted", "streaming", "complete"], fail500: [], garbage: [], hang: [], noLimit: false, ...opts };
  const requests: RecordedRequest[] = [];
  const credits = { credits_left: 50, monthly_limit: 500, monthly_usage: 450 };
  const clips = new Map<string, ClipState>();
  const hanging = new Set<http.ServerResponse>();
  let seq = 0;
  let base = "";

  const view = (c: ClipState) => {
    const steps = c.steps ?? behaviour.steps;
    const status = steps[Math.min(c.step, steps.length - 1)] ?? "complete";
    const done = status === "complete";
    return {
      id: c.id,
      title: c.title,
      status,
      // Suno hands out a streaming URL while rendering and the final mp3 when complete.
      audio_url: done ? `${base}/audio/${c.id}.mp3` : status === "streaming" ? `${base}/stream/${c.id}` : "",
      image_url: `${base}/image/${c.id}.jpeg`,
      duration: done ? 1.03 : null,
      lyric: c.lyric,
      tags: c.tags,
      model_name: c.model_name,
      created_at: new Date().toISOString(),
      ...(status === "error" ? { error_message: "Suno could not render this clip" } : {}),
    };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const text = Buffer.concat(chunks).toString("utf8");
      let body: Record<string, unknown> | null = null;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      } catch {
        body = null;
      }
      requests.push({
        method: req.method ?? "",
        path: url.pathname + url.search,
        body,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      });
      const json = (status: number, v: unknown) => {
        const b = Buffer.from(JSON.stringify(v));
        res.writeHead(status, { "content-type": "application/json", "content-length": b.length });
        res.end(b);
      };
      const p = url.pathname;
      if (behaviour.hang.includes(p)) return void hanging.add(res);
      if (behaviour.fail500.includes(p)) return json(500, { error: "Internal Server Error: suno session expired" });
      if (behaviour.garbage.includes(p)) {
        res.writeHead(200, { "content-type": "text/html" });
        return void res.end("<html><body>502 Bad Gateway</body></html>");
      }
      if (behaviour.apiKey && p.startsWith("/api/") && req.headers.authorization !== `Bearer ${behaviour.apiKey}`) return json(401, { error: "Unauthorized" });

      if (p === "/api/get_limit" && req.method === "GET") {
        if (behaviour.noLimit) return json(404, { error: "Not found" });
        return json(200, credits);
      }
      if ((p === "/api/generate" || p === "/api/custom_generate") && req.method === "POST") {
        const prompt = typeof body?.prompt === "string" ? body.prompt : "";
        if (!prompt) return json(400, { error: "prompt is required" });
        if (credits.credits_left < 10) return json(402, { error: "Insufficient credits" });
        credits.credits_left -= 10;
        credits.monthly_usage += 10;
        const custom = p === "/api/custom_generate";
        const made = [0, 1].map((i) => {
          const c: ClipState = {
            id: `clip-${++seq}-${Math.random().toString(16).slice(2, 10)}`,
            title: custom ? String(body?.title ?? "") : `Song about ${prompt.slice(0, 20)}`,
            lyric: body?.make_instrumental ? "" : custom ? prompt : `[Verse]\nGenerated words about ${prompt}`,
            tags: custom ? String(body?.tags ?? "") : "pop upbeat",
            model_name: String(body?.model ?? "chirp-v3-5"),
            step: 0,
            ...(behaviour.stepsByIndex?.[i] ? { steps: behaviour.stepsByIndex[i] } : {}),
          };
          clips.set(c.id, c);
          return c;
        });
        return json(200, made.map(view));
      }
      if (p === "/api/get" && req.method === "GET") {
        const ids = (url.searchParams.get("ids") ?? "").split(",").filter(Boolean);
        const out = ids.map((id) => clips.get(id)).filter((c): c is ClipState => c !== undefined);
        for (const c of out) c.step++;
        return json(200, out.map(view));
      }
      if (p === "/api/generate_lyrics" && req.method === "POST") {
        const prompt = typeof body?.prompt === "string" ? body.prompt : "";
        return json(200, { title: `Lyrics: ${prompt.slice(0, 30)}`, text: `[Verse]\nLines about ${prompt}\n[Chorus]\nSing it loud`, status: "complete" });
      }
      if (p.startsWith("/audio/") && req.method === "GET") {
        const b = behaviour.audioBody ?? mp3;
        res.writeHead(200, { "content-type": "audio/mpeg", "content-length": b.length });
        return void res.end(b);
      }
      json(404, { error: "Not found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    mp3,
    behaviour,
    requests,
    credits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
