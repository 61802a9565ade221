/**
 * The permissive peer the bench compares with: music-tempo (MIT, an implementation of
 * Dixon's BeatRoot), installed by the bench into a temporary folder with npm — never a
 * dependency of the project. It reports tempo and beats only (no downbeats, meter, key).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

export interface PeerResult {
  bpm: number | null;
  beats: number[];
}

type MusicTempoCtor = new (data: Float32Array, params?: Record<string, number>) => { tempo: string | number; beats: number[] };

export interface Peer {
  name: string;
  /** 44.1 kHz mono PCM (the peer's default hop of 441 samples is 10 ms at this rate). */
  sampleRate: number;
  run(pcm: Float32Array): PeerResult;
  dispose(): void;
}

/** Installs music-tempo@1.0.3 into a temp folder; null (with the reason) when npm cannot. */
export function loadPeer(): { peer: Peer | null; reason?: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "audio-peer-"));
  fs.writeFileSync(path.join(dir, "package.json"), '{"name":"audio-peer","private":true}');
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", "music-tempo@1.0.3"], { cwd: dir, encoding: "utf8", timeout: 180_000 });
  if (r.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { peer: null, reason: `npm install music-tempo failed: ${(r.stderr || "").slice(-200)}` };
  }
  const req = createRequire(path.join(dir, "index.js"));
  const MusicTempo = req("music-tempo") as MusicTempoCtor;
  return {
    peer: {
      name: "music-tempo 1.0.3 (MIT, BeatRoot)",
      sampleRate: 44100,
      run(pcm) {
        try {
          const mt = new MusicTempo(pcm);
          const bpm = Number(mt.tempo);
          return { bpm: Number.isFinite(bpm) && bpm > 0 ? bpm : null, beats: mt.beats ?? [] };
        } catch {
          // BeatRoot throws when it finds no onsets (silence): no tempo.
          return { bpm: null, beats: [] };
        }
      },
      dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
    },
  };
}
