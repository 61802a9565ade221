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
  // No base bindings on the root: they are a child, so a child that re-binds a key starts clean.
  const opts: pino.LoggerOptions = { level, base: {}, messageKey: "msg", timestamp: isoTime, formatters: { level: (label) => ({ level: label }) } };
  const out = pino(opts, pino.destination({ fd: 1, sync: true }));
  let rootErr: pino.Logger | undefined;
  const err = () => (rootErr ??= pino(opts, pino.destination({ fd: 2, sync: true })));
  const root = new PinoLogger(out, err, { out, err }, {});
  return Object.keys(bindings).length > 0 ? root.child(bindings) : root;
}

/** The root pair a logger tree writes through, for a child that must re-bind a key. */
interface Root {
  out: pino.Logger;
  err: () => pino.Logger;
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
    private readonly root: Root,
    /** Every binding this logger's lines carry (its parents' and its own). */
    private readonly bound: Readonly<Record<string, unknown>>,
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
  /**
   * pino appends a child's bindings to its parent's, so a key bound twice (the role layer
   * binds role: "coordinator", the coordinator binds it again) was written twice in one
   * JSON object, which many log parsers refuse. A key already bound to the same value is
   * skipped; one bound to another value re-binds the whole set from the root, once.
   */
  child(b: Record<string, unknown>): Logger {
    const bound = { ...this.bound, ...b };
    const keys = Object.keys(b);
    if (keys.some((k) => Object.hasOwn(this.bound, k) && !Object.is(this.bound[k], b[k]))) {
      const { out, err } = this.root;
      return new PinoLogger(out.child(bound), () => err().child(bound), this.root, bound);
    }
    const fresh: Record<string, unknown> = {};
    for (const k of keys) if (!Object.hasOwn(this.bound, k)) fresh[k] = b[k];
    return new PinoLogger(this.out.child(fresh), () => (this.errLog ??= this.makeErr()).child(fresh), this.root, bound);
  }
}

export const silentLogger: Logger = createLogger("silent");
