// Streams a response body into a temp file while hashing it (SHA-256, incremental) and keeping only
// the first and last bytes needed for classification, so memory stays constant whatever the size.
// Enforces download.max_bytes and the announced length, and turns stream errors into stable reasons.
import * as fs from "node:fs";
import type { Reason } from "../core/reasons.ts";
import { hopelessHead, PDF_HEADER_WINDOW, PDF_TRAILER_WINDOW, SNIFF_HEAD_BYTES } from "./classify.ts";

/** Keeps the first SNIFF_HEAD_BYTES and the last PDF_TRAILER_WINDOW bytes of a stream. */
export class Sniffer {
  private headBuf = new Uint8Array(SNIFF_HEAD_BYTES);
  private headLen = 0;
  private tailBuf = new Uint8Array(0);

  push(chunk: Uint8Array): void {
    if (this.headLen < SNIFF_HEAD_BYTES) {
      const n = Math.min(chunk.length, SNIFF_HEAD_BYTES - this.headLen);
      this.headBuf.set(chunk.subarray(0, n), this.headLen);
      this.headLen += n;
    }
    if (chunk.length >= PDF_TRAILER_WINDOW) {
      this.tailBuf = chunk.slice(chunk.length - PDF_TRAILER_WINDOW);
    } else {
      const keep = Math.min(this.tailBuf.length, PDF_TRAILER_WINDOW - chunk.length);
      const next = new Uint8Array(keep + chunk.length);
      next.set(this.tailBuf.subarray(this.tailBuf.length - keep), 0);
      next.set(chunk, keep);
      this.tailBuf = next;
    }
  }

  get head(): Uint8Array {
    return this.headBuf.subarray(0, this.headLen);
  }

  get tail(): Uint8Array {
    return this.tailBuf;
  }
}

/** Feeds every chunk of a stream to `fn`, one at a time. */
export async function forEachChunk(
  stream: ReadableStream<Uint8Array>,
  fn: (chunk: Uint8Array) => void,
): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      fn(value);
    }
  } finally {
    reader.releaseLock();
  }
}

export interface ContentRange {
  start: number;
  end: number;
  total?: number;
}

/** Parses `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`); null when malformed. */
export function parseContentRange(value: string | null): ContentRange | null {
  if (!value) return null;
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) return null;
  const total = m[3] === "*" ? undefined : Number(m[3]);
  if (total !== undefined && end >= total) return null;
  return { start, end, total };
}

/** A Content-Length header as a number, or undefined when absent or malformed. */
export function parseLength(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

/** The reason a caller's abort carries: `lease_lost` or `cancelled` when given as the abort reason. */
export function abortReason(signal: AbortSignal | undefined): Reason {
  const r = signal?.reason;
  if (r === "lease_lost" || r === "cancelled") return r;
  if (typeof r === "object" && r !== null && (r as { reason?: unknown }).reason === "lease_lost")
    return "lease_lost";
  return "cancelled";
}

/** An error of writing the temp file (`write`, `writev`), as opposed to reading the body. */
export function isWriteError(err: unknown): boolean {
  const syscall = (err as NodeJS.ErrnoException | null)?.syscall;
  return syscall === "write" || syscall === "writev";
}

const TIMEOUT_HINT = /timed? ?out|timeout/i;
const RESET_HINT = /reset|ECONNRESET|closed|terminated|socket|aborted|EPIPE|connection/i;

/**
 * Maps an error thrown while reading a body to a reason. The HTTP client tags its own errors with a
 * `reason` (idle/total timeouts); platform errors are recognised by name; a cut connection whose
 * length was announced is `truncated` (bytes are missing), otherwise `conn_error`.
 */
export function streamErrorReason(err: unknown, knownLength: boolean): Reason {
  const e = err as { reason?: unknown; name?: unknown; code?: unknown; message?: unknown } | null;
  if (e && typeof e.reason === "string" && /^[a-z_0-9]+$/.test(e.reason)) return e.reason as Reason;
  const name = String(e?.name ?? "");
  const text = `${name} ${String(e?.code ?? "")} ${String(e?.message ?? err)}`;
  if (name === "TimeoutError" || TIMEOUT_HINT.test(text)) return "timeout";
  if (/zlib|decompress|gzip|brotli|deflate|Z_DATA_ERROR/i.test(text)) return "not_pdf";
  if (knownLength && RESET_HINT.test(text)) return "truncated";
  return "conn_error";
}

export interface ReceiveOptions {
  body: ReadableStream<Uint8Array> | null;
  /** Where the bytes go: hashed and written to the temp file (on this thread or another). */
  sink: BodySink;
  sniffer: Sniffer;
  /** Bytes already in the file (a resumed prefix, already hashed and sniffed). */
  startBytes: number;
  maxBytes: number;
  /** Full length the body must reach (prefix included), when the server announced it. */
  expectedTotal?: number;
  signal?: AbortSignal;
}

export type ReceiveResult =
  | { ok: true; bytes: number }
  | { ok: false; reason: Reason; message: string; bytes: number };

/** Flush to disk in the background every this many bytes, so the final fsync has little left to do. */
export const EARLY_SYNC_BYTES = 32 * 1024 * 1024;

/**
 * Bytes gathered before one write. The body arrives in socket-sized chunks (≈ 64 KiB); one write per
 * chunk costs a round trip through the runtime's file thread pool (as many threads as cores, shared
 * with every other download). Chunks are gathered by reference and written with one `writev`: no
 * copy, and a tenth of the round trips.
 */
export const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Writes a stream of chunks to a file on the thread pool in batches of about WRITE_BATCH_BYTES, one
 * write in flight: while a batch is written the next one gathers (constant memory: two batches).
 * The stream hands out a fresh buffer per chunk, so holding a chunk until it is written is safe.
 */
class BatchWriter {
  private pending: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private unsynced = 0;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;

  constructor(private readonly fd: number) {}

  /** Takes a chunk; answers a promise only when a full batch has to wait for the write before it. */
  write(chunk: Uint8Array): Promise<void> | undefined {
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    return this.batchBytes >= WRITE_BATCH_BYTES ? this.flush() : undefined;
  }

  private async flush(): Promise<void> {
    if (this.batchBytes === 0) return;
    const batch = this.batch;
    const length = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (this.pending) await this.pending;
    this.pending = writeAll(this.fd, batch, length);
    this.pending.catch(() => {}); // observed by the next write/finish; never unhandled
    this.unsynced += length;
    if (this.unsynced >= EARLY_SYNC_BYTES && !this.syncing) {
      // Start writeback of what is on disk so far while the body keeps arriving.
      this.unsynced = 0;
      this.syncing = this.pending
        .then(() => new Promise<void>((resolve) => fs.fdatasync(this.fd, () => resolve())))
        .finally(() => {
          this.syncing = null;
        });
      this.syncing.catch(() => {});
    }
  }

  /** Writes what is gathered and waits until the file has everything. */
  async finish(): Promise<void> {
    await this.flush();
    await this.pending;
    await this.syncing;
    this.pending = null;
  }

  /** Waits for a write in flight (after a failure: its error no longer matters). */
  async settle(): Promise<void> {
    await this.pending?.catch(() => {});
    await this.syncing?.catch(() => {});
    this.pending = null;
  }
}

/**
 * Where a body's bytes go: each chunk is hashed (SHA-256) and appended to the temp file. The sink
 * owns a chunk once given it (it may hold it until written, or move it to another thread).
 */
export interface BodySink {
  /** Takes a chunk; answers a promise only when the caller must wait before the next one. */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Waits until the file has every byte; a disk error is thrown from here or from `write`. */
  finish(): Promise<void>;
  /** After a failure: waits for the work in flight, so that the file can be closed. */
  settle(): Promise<void>;
  /** SHA-256 (hex) of everything written, once `finish` resolved. */
  digest(): Promise<string>;
}

/** Hashes on this thread and writes on the runtime's file thread pool. */
export class ThreadSink implements BodySink {
  private readonly writer: BatchWriter;

  /** `hasher` may already hold a resumed prefix. */
  constructor(
    fd: number,
    private readonly hasher: Bun.CryptoHasher,
  ) {
    this.writer = new BatchWriter(fd);
  }

  write(chunk: Uint8Array): Promise<void> | undefined {
    this.hasher.update(chunk);
    return this.writer.write(chunk);
  }
  finish(): Promise<void> {
    return this.writer.finish();
  }
  settle(): Promise<void> {
    return this.writer.settle();
  }
  async digest(): Promise<string> {
    return this.hasher.digest("hex");
  }
}

/** One gathered write of `buffers` (`length` bytes in all), continued after a short write. */
function writeAll(fd: number, buffers: Uint8Array[], length: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = buffers;
    let remaining = length;
    const step = () =>
      fs.writev(fd, left, (err, n) => {
        if (err) return reject(err);
        remaining -= n;
        if (remaining <= 0) return resolve();
        left = dropPrefix(left, n);
        step();
      });
    step();
  });
}

/** The buffers that follow the first `n` bytes of `buffers`. */
export function dropPrefix(buffers: Uint8Array[], n: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}

export async function receiveBody(o: ReceiveOptions): Promise<ReceiveResult> {
  let bytes = o.startBytes;
  if (!o.body) return finish();
  const reader = o.body.getReader();
  const onAbort = () => {
    reader.cancel(o.signal?.reason).catch(() => {});
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const sink = o.sink;
  let wrote = false;
  // Once the first KiB rules out a PDF and markup, the rest would only be written to be deleted.
  let headJudged = false;
  try {
    for (;;) {
      if (o.signal?.aborted) return fail(abortReason(o.signal), "aborted by the caller");
      const { done, value } = await reader.read();
      if (done) break;
      if (o.signal?.aborted) return fail(abortReason(o.signal), "aborted by the caller");
      bytes += value.length;
      if (bytes > o.maxBytes) {
        await reader.cancel().catch(() => {});
        return fail("too_large", `body exceeds download.max_bytes (${o.maxBytes})`);
      }
      o.sniffer.push(value);
      if (!headJudged && o.sniffer.head.length >= PDF_HEADER_WINDOW) {
        headJudged = true;
        const hopeless = hopelessHead(o.sniffer.head);
        if (hopeless) {
          await reader.cancel().catch(() => {});
          return fail("not_pdf", `body ${hopeless}`);
        }
      }
      const full = sink.write(value);
      if (full) await full;
    }
    await sink.finish();
    wrote = true;
    return finish();
  } catch (err) {
    // A failing disk is not the server's fault: it propagates (the job must not be marked failed).
    if (isWriteError(err)) throw err;
    if (o.signal?.aborted) return fail(abortReason(o.signal), "aborted by the caller");
    const reason = streamErrorReason(err, o.expectedTotal !== undefined);
    return fail(reason, `body read failed after ${bytes} bytes: ${(err as Error)?.message ?? String(err)}`);
  } finally {
    if (!wrote) await sink.settle();
    o.signal?.removeEventListener("abort", onAbort);
    try {
      reader.releaseLock();
    } catch {
      // a read may still be pending after a cancel; the stream is done either way
    }
  }

  function finish(): ReceiveResult {
    // A cancelled stream may simply end: the abort, not the short length, is what happened.
    if (o.signal?.aborted) return fail(abortReason(o.signal), "aborted by the caller");
    if (o.expectedTotal !== undefined && bytes < o.expectedTotal) {
      return fail("truncated", `body ended after ${bytes} of ${o.expectedTotal} announced bytes`);
    }
    return { ok: true, bytes };
  }
  function fail(reason: Reason, message: string): ReceiveResult {
    return { ok: false, reason, message, bytes };
  }
}
