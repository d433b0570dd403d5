// Receiving one answer's body into the URL's temp slot: the resumed prefix re-hashed from disk, the
// body hashed and written (offloaded to threads, offload.ts) while its head and tail are sniffed, the
// sidecar describing it for a later resume. Ends with the body: the host slot is released here.
import type { HttpResponse } from "../net/types.ts";
import { resumableInfo, resumeValidator } from "./interpret-response.ts";
import { type HashingThreads, OFFLOAD_MIN_BYTES, privateThreadSink } from "./offload.ts";
import {
  type BodySink,
  forEachChunk,
  type ReceiveResult,
  receiveBody,
  Sniffer,
  ThreadSink,
} from "./stream.ts";
import { closeFd, describePartial, fileSize, openFd, type TempSlot, unlinkQuiet } from "./temp.ts";
import type { Timings } from "./types.ts";

export interface ReceiveToTemp {
  url: string;
  response: HttpResponse;
  slot: TempSlot;
  /** Where the body starts in the file (a resumed prefix's length), as interpretResponse decided. */
  start: number;
  /** Full length the file must reach, when known. */
  total: number | undefined;
  encoded: boolean;
  /** The temp file opened (truncated) while the request was under way, for a body from byte 0. */
  opened?: Promise<number>;
  maxBytes: number;
  hashers?: HashingThreads;
  signal?: AbortSignal;
  /** Receives `bodyMs`: from the file's opening to the body's end. */
  timings: Timings;
  now: () => number;
}

/** A complete body in the temp file: its descriptor is still open (to be flushed, then closed). */
export type Received =
  | { ok: true; fd: number; sink: BodySink; sniffer: Sniffer; bytes: number }
  | Extract<ReceiveResult, { ok: false }>;

export async function receiveToTemp(o: ReceiveToTemp): Promise<Received> {
  const { slot, start, response: r } = o;
  const hasher = new Bun.CryptoHasher("sha256");
  const sniffer = new Sniffer();
  if (start > 0) {
    // The prefix on disk is hashed again: the digest must cover the whole file, not a trusted note.
    await forEachChunk(Bun.file(slot.part).slice(0, start).stream(), (chunk) => {
      hasher.update(chunk);
      sniffer.push(chunk);
    });
  }
  const fd = start === 0 && o.opened ? await o.opened : await openFd(slot.part, start > 0 ? "a" : "w");
  const tBody = o.now();
  // A body from its first byte is hashed and written off the main thread (offload.ts): on the
  // shared hashing threads when given, else on a thread of its own when it is large.
  const sink =
    start === 0 && o.hashers
      ? o.hashers.open(fd)
      : start === 0 && o.total !== undefined && o.total >= OFFLOAD_MIN_BYTES
        ? privateThreadSink(fd)
        : new ThreadSink(fd, hasher);
  let received: ReceiveResult | undefined;
  let keepOpen = false;
  let described: Promise<void> | undefined;
  try {
    // Described only once the old partial is truncated: a crash in between must never pair
    // new validators with old bytes. Over an earlier attempt's description the new one is on disk
    // before any new byte (nor old validators with new bytes); a fresh slot has nothing to
    // mislead, so its description is written while the body arrives.
    if (start === 0) {
      const hadInfo = slot.info !== null;
      described = describePartial(slot, resumableInfo(o.url, r.headers, o.total, o.encoded));
      described.catch(() => {}); // awaited below
      if (hadInfo) await described;
    }
    received = await receiveBody({
      body: r.body,
      sink,
      sniffer,
      startBytes: start,
      maxBytes: o.maxBytes,
      expectedTotal: o.total,
      signal: o.signal,
    });
    await described;
    keepOpen = received.ok;
  } finally {
    // An exception before the body was read: drop the connection rather than leave it open.
    if (received === undefined) await r.body?.cancel().catch(() => {});
    if (!keepOpen) await closeFd(fd);
    r.release();
    o.timings.bodyMs = o.now() - tBody;
  }
  return received.ok ? { ok: true, fd, sink, sniffer, bytes: received.bytes } : received;
}

/** Bytes of an earlier interrupted attempt of this URL that can be continued, or 0. */
export async function resumableBytes(slot: TempSlot, url: string): Promise<number> {
  const info = slot.info;
  if (!info || info.url !== url || !resumeValidator(info)) return 0;
  const size = await fileSize(slot.part);
  if (size <= 0 || (info.total !== undefined && size >= info.total)) return 0;
  return size;
}

/** Forgets the slot's partial body: its bytes and its description. */
export async function discardPartial(slot: TempSlot): Promise<void> {
  await unlinkQuiet(slot.part);
  await describePartial(slot, null);
}

/** Ends an answer whose body is not wanted: the connection is dropped and the host slot released. */
export async function dropBody(r: HttpResponse): Promise<void> {
  await r.body?.cancel().catch(() => {});
  r.release();
}
