/**
 * The embedded store's file side: an append-only journal of JSON lines, replayed at
 * start and compacted into a snapshot when it grows, and the lock that keeps a second
 * process out of the folder. What the lines mean is the store's business
 * (embedded-store.ts); this file only writes, reads and compacts them.
 *
 * Durability choice: journal lines are buffered and written with one `write` per event
 * loop turn (setImmediate), without fsync. A process crash loses at most the writes of
 * the current turn; a power loss may lose what the OS had not flushed yet. An fsync per
 * write would cap the farm at a few hundred jobs/s on ordinary disks; embedded mode is the
 * single-workstation farm where that trade is the right one. `close()` writes everything
 * synchronously, and compaction fsyncs the snapshot before the journal is truncated.
 */
import fs from "node:fs";
import path from "node:path";
import type { JobHistoryEntry, JobRecord } from "../../core/job.ts";
import type { NodeFailureCount, StoredDecision } from "../job-store.ts";

/** A change to an existing job: set fields, removed fields, appended history entry, token. */
export interface ChangeLine {
  u: string;
  s: number;
  p: Partial<JobRecord>;
  d?: string[];
  h?: JobHistoryEntry;
}

/** One journal or snapshot line: a full job, a change, a failure count, a failure reset, a decision, a purge. */
export type Line = { j: JobRecord; s: number } | ChangeLine | { f: NodeFailureCount } | { fc: [string, string | null] } | { d: StoredDecision } | { x: string };

export interface JournalHooks {
  /** How many live records the store holds (compaction runs when the journal outgrows them by `compactAfterLines`). */
  liveRecords(): number;
  /** Every line a snapshot of the whole state holds. */
  snapshot(): Iterable<Line>;
}

export class Journal {
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private readonly lockPath: string;
  private fd = -1;
  private buffer: string[] = [];
  private flushScheduled = false;
  private lines = 0;
  private closed = false;

  /** Takes the folder's lock (created if missing); `open` replays and starts appending. */
  constructor(
    dir: string,
    private readonly compactAfter: number,
    private readonly hooks: JournalHooks,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.snapshotPath = path.join(dir, "jobs.snapshot.jsonl");
    this.journalPath = path.join(dir, "jobs.journal.jsonl");
    this.lockPath = path.join(dir, "jobs.lock");
    takeLock(this.lockPath);
  }

  /** Replay the snapshot, then the journal, through `apply`; then open the journal for appending. */
  open(apply: (l: Line) => void): void {
    replay(this.snapshotPath, apply);
    this.lines = replay(this.journalPath, apply);
    this.fd = fs.openSync(this.journalPath, "a");
    // A crash can leave a torn last line; end it so the next append starts a fresh line.
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rfd = fs.openSync(this.journalPath, "r");
      fs.readSync(rfd, last, 0, 1, size - 1);
      fs.closeSync(rfd);
      if (last[0] !== 0x0a) fs.writeSync(this.fd, "\n");
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Append one line (already JSON); written with the others of this event-loop turn. */
  append(line: string): void {
    this.buffer.push(line);
    this.lines++;
    if (this.buffer.length >= 4096) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write a snapshot of the whole state and truncate the journal. Runs by itself when the journal grows. */
  compact(): void {
    this.flush();
    const tmp = `${this.snapshotPath}.tmp`;
    const out = fs.openSync(tmp, "w");
    try {
      let chunk: string[] = [];
      for (const l of this.hooks.snapshot()) {
        chunk.push(JSON.stringify(l));
        if (chunk.length >= 1000) {
          fs.writeSync(out, chunk.join("\n") + "\n");
          chunk = [];
        }
      }
      if (chunk.length) fs.writeSync(out, chunk.join("\n") + "\n");
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
    fs.renameSync(tmp, this.snapshotPath);
    fs.ftruncateSync(this.fd, 0);
    this.lines = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    fs.closeSync(this.fd);
    this.closed = true;
    releaseLock(this.lockPath);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.buffer.length === 0) return;
    const data = this.buffer.join("\n") + "\n";
    this.buffer = [];
    fs.writeSync(this.fd, data);
    if (this.lines > this.compactAfter + this.hooks.liveRecords()) this.compact();
  }
}

/** Replay one file; returns the number of lines read. A torn last line is skipped. */
function replay(file: string, apply: (l: Line) => void): number {
  if (!fs.existsSync(file)) return 0;
  const text = fs.readFileSync(file, "utf8");
  let n = 0;
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    let l: Line;
    try {
      l = JSON.parse(raw) as Line;
    } catch {
      continue; // a write torn by a crash: everything before it is intact
    }
    n++;
    apply(l);
  }
  return n;
}

/**
 * One process per store folder: two processes appending to one journal would corrupt it.
 * The lock file holds the owner's pid; a lock left by a dead process is taken over.
 */
function takeLock(file: string): void {
  try {
    const owner = Number(fs.readFileSync(file, "utf8").trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`job store folder ${path.dirname(file)} is in use by process ${owner}; stop it or use another paths.state`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  fs.writeFileSync(file, String(process.pid));
}

function releaseLock(file: string): void {
  try {
    if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.rmSync(file, { force: true });
  } catch {
    /* already gone */
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
