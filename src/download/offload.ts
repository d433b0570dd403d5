// Hashing and writing a large body on a thread of its own. SHA-256 costs about as much CPU per byte
// as receiving the body; on the main thread it delays every other download's reads. The main thread
// hands chunks over (moved, not copied, when they own their buffer) in batches of about 1 MiB, with
// at most a few batches in flight so memory stays constant whatever the size.
import { type BodySink, EARLY_SYNC_BYTES, WRITE_BATCH_BYTES } from "./stream.ts";

/** Bodies announced at least this large are hashed and written on their own thread. */
export const OFFLOAD_MIN_BYTES = 16 * 1024 * 1024;

/** Batches handed over and not yet written: the memory bound per download (× WRITE_BATCH_BYTES). */
const MAX_IN_FLIGHT = 3;

// The thread's whole program. Writes are synchronous here (this thread does nothing else); the
// background flushes every EARLY_SYNC_BYTES go to the runtime's pool so hashing never waits on the disk.
const THREAD_SOURCE = `
const fs = require("node:fs");
const hasher = new Bun.CryptoHasher("sha256");
let fd = -1, unsynced = 0, syncing = false, failure = null, finishing = false;
function describe(e) {
  return { message: String(e && e.message), code: e && e.code, syscall: e && e.syscall };
}
function answerFinish() {
  postMessage({ done: true, error: failure, digest: failure ? null : hasher.digest("hex") });
}
self.onmessage = (event) => {
  const m = event.data;
  if (m.fd !== undefined) { fd = m.fd; return; }
  if (m.finish) { finishing = true; if (!syncing) answerFinish(); return; }
  if (!failure) {
    try {
      let chunks = m.chunks, left = 0;
      for (const chunk of chunks) { hasher.update(chunk); left += chunk.length; }
      unsynced += left;
      while (left > 0) {
        // One gathered write per batch; a short write continues after the bytes it took.
        let n = fs.writevSync(fd, chunks);
        left -= n;
        if (left > 0) {
          const rest = [];
          for (const c of chunks) {
            if (n >= c.length) { n -= c.length; continue; }
            rest.push(n > 0 ? c.subarray(n) : c);
            n = 0;
          }
          chunks = rest;
        }
      }
      if (unsynced >= ${EARLY_SYNC_BYTES} && !syncing) {
        unsynced = 0;
        syncing = true;
        fs.fdatasync(fd, () => { syncing = false; if (finishing) answerFinish(); });
      }
    } catch (e) {
      failure = describe(e);
    }
  }
  postMessage({ seq: m.seq, error: failure });
};
`;

interface ThreadError {
  message: string;
  code?: string;
  syscall?: string;
}

function toError(e: ThreadError): Error {
  return Object.assign(new Error(e.message), { code: e.code, syscall: e.syscall });
}

/**
 * A `BodySink` on a thread of its own, for one download from its first byte (a resumed prefix is
 * hashed on the main thread instead). The file descriptor stays open on the main thread until
 * `finish` or `settle` answered: the thread never writes after that.
 */
export class OffThreadSink implements BodySink {
  private readonly worker: Worker;
  private readonly sourceUrl: string;
  private batch: Uint8Array[] = [];
  private transfer: ArrayBuffer[] = [];
  private batchBytes = 0;
  private sent = 0;
  private acked = 0;
  private failure: Error | null = null;
  private ackWaiter: (() => void) | null = null;
  private finished: Promise<string> | null = null;
  private finishWaiter: ((r: { digest: string | null; error: ThreadError | null }) => void) | null = null;
  private stopped = false;
  private dead = false;

  constructor(fd: number) {
    this.sourceUrl = URL.createObjectURL(new Blob([THREAD_SOURCE], { type: "application/javascript" }));
    this.worker = new Worker(this.sourceUrl, { smol: true } as WorkerOptions);
    this.worker.onmessage = (event: MessageEvent) => this.receive(event.data);
    this.worker.onerror = (event: ErrorEvent) => {
      this.dead = true;
      this.failure ??= new Error(`hashing thread failed: ${event.message}`);
      this.finishWaiter?.({ digest: null, error: { message: this.failure.message } });
      this.wake();
    };
    this.worker.postMessage({ fd });
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    // A chunk that owns its whole buffer is moved; a view into a shared buffer is copied.
    const buffer = chunk.buffer;
    if (buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength)
      this.transfer.push(buffer);
    if (this.batchBytes < WRITE_BATCH_BYTES) return undefined;
    this.send();
    return this.sent - this.acked > MAX_IN_FLIGHT ? this.waitForRoom() : undefined;
  }

  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    this.send();
    const r = await this.stop();
    if (r.error) throw toError(r.error);
    if (r.digest === null) throw new Error("hashing thread gave no digest");
    this.finished = Promise.resolve(r.digest);
  }

  async settle(): Promise<void> {
    await this.stop();
  }

  digest(): Promise<string> {
    if (!this.finished) throw new Error("digest asked before the body was finished");
    return this.finished;
  }

  private send(): void {
    if (this.batch.length === 0) return;
    this.sent++;
    this.worker.postMessage({ seq: this.sent, chunks: this.batch }, this.transfer);
    this.batch = [];
    this.transfer = [];
    this.batchBytes = 0;
  }

  private async waitForRoom(): Promise<void> {
    while (this.sent - this.acked > MAX_IN_FLIGHT && !this.failure) {
      await new Promise<void>((resolve) => {
        this.ackWaiter = resolve;
      });
    }
    if (this.failure) throw this.failure;
  }

  /** Asks the thread to finish its queue (and background flush) and answer, then ends it. */
  private async stop(): Promise<{ digest: string | null; error: ThreadError | null }> {
    if (this.stopped || this.dead)
      return { digest: null, error: this.failure ? { message: this.failure.message } : null };
    this.stopped = true;
    const answer = new Promise<{ digest: string | null; error: ThreadError | null }>((resolve) => {
      this.finishWaiter = resolve;
    });
    this.worker.postMessage({ finish: true });
    try {
      return await answer;
    } finally {
      this.worker.terminate();
      URL.revokeObjectURL(this.sourceUrl);
    }
  }

  private receive(msg: { seq?: number; done?: boolean; error: ThreadError | null; digest?: string | null }) {
    if (msg.error && !this.failure) this.failure = toError(msg.error);
    if (msg.done) {
      this.finishWaiter?.({ digest: msg.digest ?? null, error: msg.error });
      return;
    }
    if (msg.seq !== undefined) this.acked = msg.seq;
    this.wake();
  }

  private wake(): void {
    const w = this.ackWaiter;
    this.ackWaiter = null;
    w?.();
  }
}
