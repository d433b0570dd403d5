// Disk flushes (fdatasync of a file, fsync of a directory) on threads of their own. A flush blocks its
// thread until the disk answers; on the runtime's shared file thread pool (as many threads as cores)
// a few waiting flushes would hold up every other download's writes, opens and links meanwhile.
import * as fs from "node:fs";

export interface DiskSyncer {
  /** Flushes a file's data (and size) to disk. */
  fdatasync(fd: number): Promise<void>;
  /** Makes the names in a directory durable (after a link or rename). */
  fsyncDir(dir: string): Promise<void>;
  /** Stops the threads; flushes asked for afterwards run on the shared pool. */
  close(): void;
  /** Flushes actually issued so far (directory flushes coalesced count once). */
  stats(): { files: number; dirs: number };
}

/** Flushes on the runtime's shared pool: the fallback when no syncer is given. */
export const poolSyncer: DiskSyncer = {
  fdatasync: (fd) =>
    new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve()))),
  fsyncDir: poolFsyncDir,
  close() {},
  stats: () => ({ files: 0, dirs: 0 }),
};

async function poolFsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// The thread's whole program: one blocking flush per message, answered with its id (and the error).
const THREAD_SOURCE = `
const fs = require("node:fs");
self.onmessage = (event) => {
  const { id, fd, dir } = event.data;
  try {
    if (dir === undefined) fs.fdatasyncSync(fd);
    else {
      const d = fs.openSync(dir, "r");
      try { fs.fsyncSync(d); } finally { fs.closeSync(d); }
    }
    postMessage({ id });
  } catch (e) {
    postMessage({ id, error: { message: String(e && e.message), code: e && e.code, syscall: e && e.syscall, path: e && e.path } });
  }
};
`;

interface Pending {
  resolve(): void;
  reject(err: Error): void;
}

interface DirState {
  /** Callers that arrived while a flush was running; served by the flush that starts after it. */
  queued?: { promise: Promise<void>; resolve(): void; reject(err: Error): void };
}

interface Thread {
  worker: Worker;
  busy: number;
}

/**
 * Flushes on `threads` dedicated threads (started on first use, never keeping the process alive),
 * each request on the least busy one, so that many flushes can wait on the disk at once and the
 * filesystem can commit them together. Concurrent flushes of one directory are coalesced: a caller
 * joins the next flush that starts after its request (never one already running, which might not
 * cover its change), so a directory shared by every download is flushed about once per round.
 */
export function createDiskSyncer(threads = 8): DiskSyncer {
  const pool: Thread[] = [];
  const pending = new Map<number, Pending & { thread: Thread }>();
  let nextId = 1;
  const issued = { files: 0, dirs: 0 };
  let closed = false;
  let sourceUrl: string | undefined;
  const dirs = new Map<string, DirState>();

  function pick(): Thread {
    const idle = pool.find((t) => t.busy === 0);
    if (idle) return idle;
    if (pool.length < threads) {
      sourceUrl ??= URL.createObjectURL(new Blob([THREAD_SOURCE], { type: "application/javascript" }));
      const thread: Thread = { worker: new Worker(sourceUrl, { smol: true } as WorkerOptions), busy: 0 };
      // An idle flush thread must not keep the process alive.
      (thread.worker as unknown as { unref(): void }).unref();
      thread.worker.onmessage = (event: MessageEvent) => settle(event.data);
      thread.worker.onerror = (event: ErrorEvent) => failThread(thread, new Error(event.message));
      pool.push(thread);
      return thread;
    }
    return pool.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  function settle(msg: {
    id: number;
    error?: { message: string; code?: string; syscall?: string; path?: string };
  }) {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    p.thread.busy--;
    if (!msg.error) return p.resolve();
    const err = Object.assign(new Error(msg.error.message), {
      code: msg.error.code,
      syscall: msg.error.syscall,
      path: msg.error.path,
    });
    p.reject(err);
  }

  function failThread(thread: Thread, err: Error) {
    for (const [id, p] of pending) {
      if (p.thread !== thread) continue;
      pending.delete(id);
      p.reject(err);
    }
    pool.splice(pool.indexOf(thread), 1);
    thread.worker.terminate();
  }

  function run(request: { fd: number } | { dir: string }): Promise<void> {
    if (closed) return "dir" in request ? poolSyncer.fsyncDir(request.dir) : poolSyncer.fdatasync(request.fd);
    if ("dir" in request) issued.dirs++;
    else issued.files++;
    const thread = pick();
    const id = nextId++;
    thread.busy++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject, thread });
      thread.worker.postMessage({ id, ...request });
    });
  }

  function fsyncDir(dir: string): Promise<void> {
    const state = dirs.get(dir);
    if (!state) {
      const fresh: DirState = {};
      dirs.set(dir, fresh);
      return startDirFlush(dir, fresh);
    }
    // A flush is running and may have started before the caller's change: join the next one.
    if (!state.queued) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      state.queued = { promise, resolve, reject };
    }
    return state.queued.promise;
  }

  function startDirFlush(dir: string, state: DirState): Promise<void> {
    const flush = run({ dir });
    const done = () => {
      const queued = state.queued;
      if (!queued) {
        dirs.delete(dir);
        return;
      }
      state.queued = undefined;
      startDirFlush(dir, state).then(queued.resolve, queued.reject);
    };
    flush.then(done, done);
    return flush;
  }

  return {
    fdatasync: (fd) => run({ fd }),
    fsyncDir,
    stats: () => ({ ...issued }),
    close() {
      closed = true;
      for (const t of pool) t.worker.terminate();
      pool.length = 0;
      for (const [, p] of pending) p.reject(new Error("disk syncer closed"));
      pending.clear();
      if (sourceUrl) URL.revokeObjectURL(sourceUrl);
    },
  };
}
