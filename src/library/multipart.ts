// Multipart upload of a complete local file with bounded memory, through Bun's S3 writer: each part
// is read whole into a staging buffer and written in one call, so the writer cuts exactly
// `partSize` bytes per part (only the last may be smaller; S3 rejects smaller parts before it).
// A budget of part slots shared by every upload of a library bounds the parts held in memory at
// once, however many downloads publish together; the writer's own `write` never pushes back.
import { open } from "node:fs/promises";

/**
 * A counting semaphore of part slots, first come first served, and the one staging buffer the
 * uploads sharing it read parts into (in turn: a part is read from the page cache in milliseconds).
 */
export class PartSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  private staging: Buffer | undefined;
  private stagingTurn: Promise<void> = Promise.resolve();

  constructor(readonly size: number) {
    this.free = Math.max(1, size);
  }

  get available(): number {
    return this.free;
  }

  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  /** Resolves once a slot is this caller's; an abort while waiting gives up the place in line. */
  take(signal: AbortSignal): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  /** Runs `fill` with the staging buffer (at least `size` bytes) to itself. */
  async withStaging<T>(size: number, fill: (buffer: Buffer) => Promise<T>): Promise<T> {
    const turn = this.stagingTurn;
    let done = () => {};
    this.stagingTurn = new Promise((resolve) => {
      done = resolve;
    });
    await turn;
    try {
      if (this.staging === undefined || this.staging.length < size) this.staging = Buffer.allocUnsafe(size);
      return await fill(this.staging);
    } finally {
      done();
    }
  }

  give(n: number): void {
    for (let i = 0; i < n; i++) {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export interface PartUpload {
  client: Bun.S3Client;
  key: string;
  path: string;
  bytes: number;
  type: string;
  partSize: number;
  /** Parts of this upload in flight at most (the writer's `queueSize`). */
  queueSize: number;
  slots: PartSlots;
  signal: AbortSignal;
}

/**
 * Uploads `bytes` bytes of `path` in parts. Before a part's first byte is written a slot is taken;
 * slots come back when the writer's `flush()` reports a part done (it resolves on the next finished
 * part while any is queued, at once with 0 when none is), so this upload counts at least as many
 * parts in flight as there are and the budget is never exceeded. On failure the writer is left
 * unended: `end()` would complete the object with the parts sent so far.
 */
export async function uploadInParts(o: PartUpload): Promise<void> {
  const writer = o.client.file(o.key).writer({
    type: o.type,
    partSize: o.partSize,
    queueSize: o.queueSize,
    retry: 3,
  });
  const file = await open(o.path, "r");
  let held = 0;
  const settle = async () => {
    const done = await abortable(writer.flush(), o.signal);
    const freed = done === 0 ? held : Math.min(1, held);
    held -= freed;
    o.slots.give(freed);
  };
  try {
    for (let pos = 0; pos < o.bytes; ) {
      while (held >= o.queueSize) await settle();
      for (;;) {
        if (o.slots.tryTake()) break;
        // Finished parts of this upload may still count as held: learn of them before waiting on others.
        if (held > 0) await settle();
        else {
          await o.slots.take(o.signal);
          break;
        }
      }
      held++;
      const start = pos;
      const end = Math.min(o.bytes, pos + o.partSize);
      await o.slots.withStaging(o.partSize, async (staging) => {
        let n = 0;
        while (start + n < end) {
          const { bytesRead } = await file.read(staging, n, end - start - n, start + n);
          if (bytesRead === 0) throw new Error(`${o.path}: ends at ${start + n} bytes, expected ${o.bytes}`);
          n += bytesRead;
        }
        o.signal.throwIfAborted();
        // One write per part: the writer copies it into a buffer of exactly its size (many small
        // writes grow that buffer by doubling), and the staging buffer is free again at once.
        writer.write(staging.subarray(0, n));
      });
      pos = end;
    }
    await abortable(writer.end(), o.signal);
  } finally {
    o.slots.give(held);
    await file.close();
  }
}

function abortable<T>(p: T | Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(p).then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
