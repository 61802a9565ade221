/**
 * farmctl as its own process, as an operator runs it: stdout and stderr kept apart, the
 * exit code returned rather than thrown (tests assert on failures as much as on successes).
 */
import { spawn } from "node:child_process";

export interface FarmctlResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `cli/farmctl.ts` with `args`; `env` is laid over this process's environment. */
export function runFarmctl(args: string[], env: Record<string, string> = {}): Promise<FarmctlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "cli/farmctl.ts", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, out, err }));
  });
}
