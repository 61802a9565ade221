/**
 * Structured logs: one JSON line per event, `{level, t, ...bindings, ...fields, msg}`, info
 * and debug on stdout, warn and error on stderr. Roles inject a Logger so tests can silence
 * or capture it.
 *
 * Written by pino (Fastify's own logger) rather than by hand: measured against the former
 * hand-written JSON-line logger, it costs the same (CPU per line and farm throughput with a
 * request line per request; BENCHMARKS.md, `logger`), and it brings what a hand-written one
 * lacks (safe serialisation of odd values, a level check before any work, child bindings
 * serialised once). Writes are synchronous, as before: a crash loses no line.
 */
import pino from "pino";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const isoTime = () => `,"t":"${new Date().toISOString()}"`;

export function createLogger(level: LogLevel = "info", bindings: Record<string, unknown> = {}): Logger {
  const opts: pino.LoggerOptions = { level, base: bindings, messageKey: "msg", timestamp: isoTime, formatters: { level: (label) => ({ level: label }) } };
  const out = pino(opts, pino.destination({ fd: 1, sync: true }));
  const err = () => pino(opts, pino.destination({ fd: 2, sync: true }));
  return new PinoLogger(out, err);
}

/**
 * Two pino loggers, one per stream (pino's multistream costs a fan-out per line). The agent
 * makes a child per task, thousands a second: the stderr side of a child is made only when
 * it first writes a warning or an error.
 */
class PinoLogger implements Logger {
  private errLog: pino.Logger | undefined;
  constructor(
    private readonly out: pino.Logger,
    private readonly makeErr: () => pino.Logger,
  ) {}
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.out.debug(fields ?? {}, msg);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.out.info(fields ?? {}, msg);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    (this.errLog ??= this.makeErr()).warn(fields ?? {}, msg);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    (this.errLog ??= this.makeErr()).error(fields ?? {}, msg);
  }
  child(b: Record<string, unknown>): Logger {
    return new PinoLogger(this.out.child(b), () => (this.errLog ??= this.makeErr()).child(b));
  }
}

export const silentLogger: Logger = createLogger("silent");
