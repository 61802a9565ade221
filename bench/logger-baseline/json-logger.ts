/**
 * The farm's logger before it moved to pino (core/logger.ts until December), kept as the
 * baseline of bench/logger.bench.ts: the bench runs role processes with this module in place
 * of core/logger.ts (see register.mjs) to compare the two on the same farm.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export function createLogger(level: LogLevel = "info", bindings: Record<string, unknown> = {}): Logger {
  return new JsonLogger(level, bindings);
}

/**
 * A class rather than closures: the agent makes a child logger per task, and at thousands
 * of tasks per second five fresh closures per child showed in the profile. Methods check
 * the level first, so a quiet logger costs one comparison per call.
 */
class JsonLogger implements Logger {
  private readonly min: number;
  constructor(
    private readonly level: LogLevel,
    private readonly bindings: Record<string, unknown>,
  ) {
    this.min = LEVELS[level];
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS.debug >= this.min) this.emit("debug", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS.info >= this.min) this.emit("info", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS.warn >= this.min) this.emit("warn", msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    if (LEVELS.error >= this.min) this.emit("error", msg, fields);
  }
  child(b: Record<string, unknown>): Logger {
    return new JsonLogger(this.level, { ...this.bindings, ...b });
  }
  private emit(lvl: Exclude<LogLevel, "silent">, msg: string, fields?: Record<string, unknown>): void {
    const line = JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...this.bindings, ...fields });
    (lvl === "error" || lvl === "warn" ? process.stderr : process.stdout).write(line + "\n");
  }
}

export const silentLogger: Logger = createLogger("silent");
