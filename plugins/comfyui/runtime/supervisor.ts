/**
 * Supervised mode: one ComfyUI process per GPU, started by the agent
 * (`plugins.comfyui.supervise`). Each process gets CUDA_VISIBLE_DEVICES=<i> and
 * `--listen 127.0.0.1 --port <port_base+i> --cuda-device <i>` after the operator's args (the
 * same value twice on purpose: ComfyUI's main.py sets CUDA_VISIBLE_DEVICES from
 * --cuda-device, so both say GPU i), and `--output-directory <output_dir>/gpu<i>` when
 * `output_dir` is set. Loopback only: the agent is its only client.
 *
 * When a process exits it is restarted after a back-off that doubles from
 * backoff_initial_ms up to backoff_max_ms, reset once a life reached healthy; the instance
 * is marked down at once so jobs fail fast (retryable) instead of waiting on a dead port.
 * A process that does not answer /system_stats within start_timeout_ms of its start (hung
 * on a driver, a port taken) is SIGKILLed and goes through the same restart.
 * stop() (agent shutdown) sends SIGTERM, then SIGKILL after 5 s; an agent that exits
 * without stop() still SIGKILLs its children in a process 'exit' hook.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../../../core/logger.ts";
import type { SuperviseConfig } from "./config.ts";
import type { ComfyInstance } from "./instance.ts";

const KILL_GRACE_MS = 5000;
const TAIL_LINES = 20;
/** Put in a process's output tail when the supervisor kills it for not starting. */
const START_TIMEOUT_MARK = "[supervisor: start timeout]";

interface Proc {
  instance: ComfyInstance;
  child: ChildProcess | null;
  failures: number;
  restartTimer: NodeJS.Timeout | null;
  startTimer: NodeJS.Timeout | null;
  /** Last lines of output, quoted when it dies. */
  tail: string[];
  startedAt: number;
  reachedHealthy: boolean;
}

export class Supervisor {
  private readonly procs: Proc[] = [];
  private stopping = false;
  private readonly onExitHook = () => {
    for (const p of this.procs) if (p.child && p.child.exitCode === null) p.child.kill("SIGKILL");
  };

  constructor(
    private readonly cfg: SuperviseConfig,
    private readonly logger: Logger,
    /** Told when a process exits (the pool marks the instance down and re-advertises). */
    private readonly onExit: (instance: ComfyInstance, why: string) => void,
  ) {}

  static portFor(cfg: SuperviseConfig, gpu: number): number {
    return cfg.port_base + gpu;
  }

  /**
   * Where GPU `gpu`'s ComfyUI writes its outputs, when the agent knows: `<output_dir>/gpu<i>`
   * (the agent passes it as --output-directory), else an --output-directory the operator's args
   * carry (ComfyUI's main.py takes it relative to its working directory). Undefined: ComfyUI's
   * default folder, which lies next to its main.py: not guessed, outputs come through /view.
   */
  static outputDirFor(cfg: SuperviseConfig, gpu: number): string | undefined {
    if (cfg.output_dir) return path.join(cfg.output_dir, `gpu${gpu}`);
    for (let i = 0; i < cfg.args.length; i++) {
      const a = cfg.args[i]!;
      const v = a === "--output-directory" ? cfg.args[i + 1] : a.startsWith("--output-directory=") ? a.slice("--output-directory=".length) : undefined;
      if (v) return path.resolve(cfg.cwd ?? process.cwd(), v);
    }
    return undefined;
  }

  start(instances: ComfyInstance[]): void {
    process.on("exit", this.onExitHook);
    for (const instance of instances) {
      const p: Proc = { instance, child: null, failures: 0, restartTimer: null, startTimer: null, tail: [], startedAt: 0, reachedHealthy: false };
      this.procs.push(p);
      this.spawn(p);
    }
  }

  /** The pool saw the instance healthy: the next exit restarts with the initial delay again. */
  healthy(instance: ComfyInstance): void {
    const p = this.procs.find((x) => x.instance === instance);
    if (p && !p.reachedHealthy) {
      p.reachedHealthy = true;
      p.failures = 0;
      if (p.startTimer) clearTimeout(p.startTimer);
      p.startTimer = null;
    }
  }

  /** Pids of the running processes (tests kill one to prove the restart). */
  pids(): Record<number, number | undefined> {
    return Object.fromEntries(this.procs.map((p) => [p.instance.gpu_index, p.child?.exitCode === null ? p.child.pid : undefined]));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    process.off("exit", this.onExitHook);
    await Promise.all(
      this.procs.map(async (p) => {
        if (p.restartTimer) clearTimeout(p.restartTimer);
        if (p.startTimer) clearTimeout(p.startTimer);
        const child = p.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((res) => child.once("exit", () => res()));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
        await exited;
        clearTimeout(t);
      }),
    );
  }

  private spawn(p: Proc): void {
    if (this.stopping) return;
    const gpu = p.instance.gpu_index;
    const port = Supervisor.portFor(this.cfg, gpu);
    const args = [...this.cfg.args, "--listen", "127.0.0.1", "--port", String(port), "--cuda-device", String(gpu)];
    if (this.cfg.output_dir) {
      // One folder per GPU: two servers in one folder would count their file names apart and clash.
      const out = Supervisor.outputDirFor(this.cfg, gpu)!;
      try {
        fs.mkdirSync(out, { recursive: true });
      } catch (err) {
        this.exited(p, `could not create its output folder ${out}: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      args.push("--output-directory", out);
    }
    const env = { ...process.env, ...this.cfg.env, CUDA_VISIBLE_DEVICES: String(gpu) };
    p.startedAt = Date.now();
    p.reachedHealthy = false;
    p.tail = [];
    let child: ChildProcess;
    try {
      child = spawn(this.cfg.command, args, { cwd: this.cfg.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    } catch (err) {
      this.exited(p, `could not start '${this.cfg.command}': ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    p.child = child;
    this.logger.info("comfyui started", { gpu_index: gpu, port, pid: child.pid, command: this.cfg.command });
    const keep = (buf: Buffer) => {
      for (const line of buf.toString("utf8").split("\n")) if (line.trim()) p.tail.push(line);
      if (p.tail.length > TAIL_LINES) p.tail.splice(0, p.tail.length - TAIL_LINES);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.once("error", (err) => this.exited(p, `could not start '${this.cfg.command}': ${err.message}`));
    child.once("exit", (code, signal) =>
      this.exited(
        p,
        p.tail.includes(START_TIMEOUT_MARK)
          ? `did not answer /system_stats within ${this.cfg.start_timeout_ms} ms and was killed`
          : `exited with ${signal ? `signal ${signal}` : `code ${code}`}`,
      ),
    );
    p.startTimer = setTimeout(() => {
      p.startTimer = null;
      if (p.reachedHealthy || p.child !== child || child.exitCode !== null) return;
      p.tail.push(START_TIMEOUT_MARK);
      child.kill("SIGKILL");
    }, this.cfg.start_timeout_ms);
    p.startTimer.unref();
  }

  private exited(p: Proc, why: string): void {
    if (p.restartTimer) return; // 'error' and 'exit' can both fire
    if (p.startTimer) clearTimeout(p.startTimer);
    p.startTimer = null;
    p.child = null;
    const last = p.tail.slice(-3).join(" | ");
    const reason = `supervised ComfyUI ${why}${last ? `; last output: ${last}` : ""}`;
    this.onExit(p.instance, reason);
    if (this.stopping) return;
    const delay = Math.min(this.cfg.backoff_max_ms, this.cfg.backoff_initial_ms * 2 ** p.failures);
    p.failures += 1;
    this.logger.warn("comfyui exited; restarting", { gpu_index: p.instance.gpu_index, reason, restart_in_ms: delay, failures: p.failures });
    p.restartTimer = setTimeout(() => {
      p.restartTimer = null;
      this.spawn(p);
    }, delay);
    p.restartTimer.unref();
  }
}
