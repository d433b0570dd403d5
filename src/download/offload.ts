// Hashing and writing bodies on threads other than the main one. SHA-256 costs about as much CPU
// per byte as receiving the body; on the main thread it delays every other download's reads and
// answers. The main thread hands chunks over (moved, not copied, when they own their buffer) in
// batches of about 1 MiB, with at most a few batches in flight so memory stays constant.
import { type BodySink, EARLY_SYNC_BYTES, WRITE_BATCH_BYTES } from "./stream.ts";

/** Without shared hashing threads, bodies announced at least this large get a thread of their own. */
export const OFFLOAD_MIN_BYTES = 16 * 1024 * 1024;

/** Batches handed over and not yet written: the memory bound per download (× WRITE_BATCH_BYTES). */
const MAX_IN_FLIGHT = 3;

// The thread's whole program: any number of bodies at once, each with its own hasher and file.
// Writes are synchronous here (the thread does nothing else); the background flushes every
// EARLY_SYNC_BYTES go to the runtime's pool so hashing never waits on the disk.
const THREAD_SOURCE = `
const fs = require("node:fs");
const sinks = new Map();
function describe(e) {
  return { message: String(e && e.message), code: e && e.code, syscall: e && e.syscall };
}
function answerFinish(id, s) {
  sinks.delete(id);
  postMessage({ sink: id, done: true, error: s.failure, digest: s.failure ? null : s.hasher.digest("hex") });
}
function write(s, chunks) {
  let left = 0;
  for (const chunk of chunks) { s.hasher.update(chunk); left += chunk.length; }
  s.unsynced += left;
  while (left > 0) {
    // One gathered write per batch; a short write continues after the bytes it took.
    let n = fs.writevSync(s.fd, chunks);
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
}
self.onmessage = (event) => {
  const m = event.data;
  if (m.fd !== undefined) {
    sinks.set(m.sink, { fd: m.fd, hasher: new Bun.CryptoHasher("sha256"), unsynced: 0, syncing: false, failure: null, finishing: false });
    return;
  }
  const s = sinks.get(m.sink);
  if (!s) return;
  if (m.finish) { s.finishing = true; if (!s.syncing) answerFinish(m.sink, s); return; }
  if (!s.failure) {
    try {
      write(s, m.chunks);
      if (s.unsynced >= ${EARLY_SYNC_BYTES} && !s.syncing) {
        s.unsynced = 0;
        s.syncing = true;
        fs.fdatasync(s.fd, () => { s.syncing = false; if (s.finishing) answerFinish(m.sink, s); });
      }
    } catch (e) {
      s.failure = describe(e);
    }
  }
  postMessage({ sink: m.sink, seq: m.seq, error: s.failure });
};
`;

interface ThreadError {
  message: string;
  code?: string;
  syscall?: string;
}

interface ThreadMessage {
  sink: number;
  seq?: number;
  done?: boolean;
  error: ThreadError | null;
  digest?: string | null;
}

function toError(e: ThreadError): Error {
  return Object.assign(new Error(e.message), { code: e.code, syscall: e.syscall });
}

interface SinkThread {
  worker: Worker;
  open: number;
  listeners: Map<number, (msg: ThreadMessage | "died") => void>;
}

/**
 * A few threads that hash and write bodies for every download of a process (started on first use,
 * never keeping the process alive); each body goes to the thread with the fewest bodies open.
 */
export class HashingThreads {
  private readonly pool: SinkThread[] = [];
  private sourceUrl: string | undefined;
  private nextSink = 1;
  private closed = false;
  private opened = 0;

  constructor(private readonly threads = 2) {}

  /** Bodies handed to the threads so far. */
  get bodies(): number {
    return this.opened;
  }

  /** A sink for the file `fd` (a fresh file: the digest covers what this sink writes). */
  open(fd: number): BodySink {
    if (this.closed) throw new Error("hashing threads are closed");
    this.opened++;
    return new OffThreadSink(this, fd);
  }

  /** Stops the threads (bodies in flight fail). */
  close(): void {
    this.closed = true;
    for (const t of this.pool) this.fail(t);
    this.pool.length = 0;
    if (this.sourceUrl) URL.revokeObjectURL(this.sourceUrl);
  }

  /** @internal Registers a body on the least loaded thread. */
  attach(fd: number, listener: (msg: ThreadMessage | "died") => void) {
    let thread = this.pool.find((t) => t.open === 0);
    if (!thread && this.pool.length < this.threads) thread = this.spawn();
    thread ??= this.pool.reduce((a, b) => (b.open < a.open ? b : a));
    const sink = this.nextSink++;
    thread.open++;
    thread.listeners.set(sink, listener);
    thread.worker.postMessage({ sink, fd });
    const t = thread;
    return {
      post: (msg: object, transfer: ArrayBuffer[] = []) => t.worker.postMessage({ sink, ...msg }, transfer),
      detach: () => {
        if (t.listeners.delete(sink)) t.open--;
      },
    };
  }

  private spawn(): SinkThread {
    this.sourceUrl ??= URL.createObjectURL(new Blob([THREAD_SOURCE], { type: "application/javascript" }));
    const thread: SinkThread = {
      worker: new Worker(this.sourceUrl, { smol: true } as WorkerOptions),
      open: 0,
      listeners: new Map(),
    };
    // An idle hashing thread must not keep the process alive.
    (thread.worker as unknown as { unref(): void }).unref();
    thread.worker.onmessage = (event: MessageEvent) => {
      const msg = event.data as ThreadMessage;
      thread.listeners.get(msg.sink)?.(msg);
    };
    thread.worker.onerror = () => {
      const i = this.pool.indexOf(thread);
      if (i >= 0) this.pool.splice(i, 1);
      this.fail(thread);
    };
    this.pool.push(thread);
    return thread;
  }

  private fail(thread: SinkThread): void {
    for (const listener of thread.listeners.values()) listener("died");
    thread.listeners.clear();
    thread.open = 0;
    thread.worker.terminate();
  }
}

/**
 * A `BodySink` whose hashing and writing happen on a hashing thread, for one download from its first
 * byte (a resumed prefix is hashed on the main thread instead). The file descriptor stays open on the
 * main thread until `finish` or `settle` answered: the thread never writes after that.
 */
class OffThreadSink implements BodySink {
  private readonly channel: ReturnType<HashingThreads["attach"]>;
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

  constructor(threads: HashingThreads, fd: number) {
    this.channel = threads.attach(fd, (msg) => this.receive(msg));
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
    this.channel.post({ seq: this.sent, chunks: this.batch }, this.transfer);
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

  /** Asks the thread to finish this body's queue (and background flush) and answer. */
  private async stop(): Promise<{ digest: string | null; error: ThreadError | null }> {
    if (this.stopped || this.dead)
      return { digest: null, error: this.failure ? { message: this.failure.message } : null };
    this.stopped = true;
    const answer = new Promise<{ digest: string | null; error: ThreadError | null }>((resolve) => {
      this.finishWaiter = resolve;
    });
    this.channel.post({ finish: true });
    try {
      return await answer;
    } finally {
      this.channel.detach();
    }
  }

  private receive(msg: ThreadMessage | "died"): void {
    if (msg === "died") {
      this.dead = true;
      this.failure ??= new Error("hashing thread failed");
      this.finishWaiter?.({ digest: null, error: { message: this.failure.message } });
      this.wake();
      return;
    }
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

/**
 * A sink on a thread of its own, for a large body when no shared hashing threads were given: the
 * thread starts with the body and ends with it.
 */
export function privateThreadSink(fd: number): BodySink {
  const threads = new HashingThreads(1);
  const sink = threads.open(fd);
  const end = async (p: Promise<void>) => {
    try {
      await p;
    } finally {
      threads.close();
    }
  };
  return {
    write: (chunk) => sink.write(chunk),
    finish: () => end(sink.finish()),
    settle: () => end(sink.settle()),
    digest: () => sink.digest(),
  };
}
