/**
 * Mesh calls batched per event-loop turn. Every hop of a job (API -> coordinator submit,
 * coordinator -> agent start, agent -> coordinator report, coordinator -> API events) is
 * one message per job when the farm is quiet; under load, everything the same sender
 * has for the same receiver within one turn travels as one message. On this kind of
 * machine a mesh message costs far more (serialise, a write, NATS routing, a read and a
 * wake-up in the receiver) than the per-job work it carries, so batching is what lets a
 * farm pass 1,000 jobs/s; at one job at a time it costs one setImmediate.
 *
 * Each item still gets its own answer: the receiver runs the items independently and
 * replies with one `BatchReply` per item, in order. A failure of the whole message (timeout,
 * receiver gone) rejects every item in it with that error. Callers always get a FarmError.
 */
import { toFarmError, FarmError, type SerializedError } from "../core/errors.ts";

export type BatchReply<O> = { ok: O } | { err: SerializedError };

/** Largest number of items in one message: keeps any single message (and its handling) short. */
export const MAX_BATCH = 256;

interface Waiting<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class TickBatcher<I, O> {
  private readonly queue: TickQueue<Waiting<I, O>>;

  /** `send` delivers one batch and answers one reply per item, in order. */
  constructor(send: (items: I[]) => Promise<BatchReply<O>[]>, max = MAX_BATCH) {
    this.queue = new TickQueue((batch) => {
      send(batch.map((w) => w.item)).then(
        (replies) => {
          batch.forEach((w, i) => {
            const r = replies[i];
            if (!r) w.reject(new FarmError("INTERNAL_ERROR", `batch reply ${i} of ${batch.length} missing`));
            // Test for `err`, not `ok`: the binary serializer drops a key whose value is undefined.
            else if ("err" in r && r.err) w.reject(toFarmError(r.err));
            else w.resolve((r as { ok: O }).ok);
          });
        },
        (err: unknown) => {
          const fe = toFarmError(err); // a mesh error (timeout, receiver gone) in the catalog's terms
          for (const w of batch) w.reject(fe);
        },
      );
    }, max);
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => this.queue.push({ item, resolve, reject }));
  }
}

/** Receiver side: run `fn` on every item independently and answer one reply per item. */
export async function settleBatch<I, O>(items: unknown, fn: (item: I) => Promise<O> | O): Promise<BatchReply<O>[]> {
  if (!Array.isArray(items)) throw new FarmError("VALIDATION_ERROR", "batch: items must be an array", { field: "items", constraint: "array" });
  return Promise.all(
    items.map(async (item: I): Promise<BatchReply<O>> => {
      try {
        return { ok: (await fn(item)) ?? (null as O) };
      } catch (err) {
        return { err: toFarmError(err).toJSON() };
      }
    }),
  );
}

/**
 * Fire-and-forget messages (events) gathered per turn: `send` gets everything queued in
 * this turn, in order.
 */
export class TickQueue<T> {
  private queue: T[] = [];
  private scheduled = false;

  constructor(
    private readonly send: (items: T[]) => void,
    private readonly max = MAX_BATCH,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    if (this.queue.length >= this.max) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    this.send(items);
  }
}
