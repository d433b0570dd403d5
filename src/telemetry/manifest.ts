// The manifest outbox: every terminal outcome committed to the store is appended to
// `<state_dir>/manifest.jsonl` exactly once, even across kill -9 and with several runners sharing
// one state directory.
//
// How: each flush runs under the database write lock (BEGIN IMMEDIATE), so appenders are serialized.
// Inside it we read the high-water mark (last outcome seq appended) and the seq of the file's last
// complete line; a process that died after appending but before advancing the mark left the file
// ahead, so we continue after the larger of the two and never duplicate. A torn last line (death
// mid-write) is cut off and its outcome appended again whole. The file is fsynced before the mark
// commits, so the mark never runs ahead of durable lines. The outbox's statements are the store's
// (store/outbox.ts, store/sqlite/outbox.ts).
//
// Line format, version 2 (one JSON object per line, keys always present, null when unknown; version 1
// lacked the provenance keys):
//   v              2
//   seq            outcome sequence number (strictly increasing through the file)
//   artifact_id    the work's id (e.g. "doi:10.1038/nature12373"); job_id: the queue's job number
//   state          done | skipped | error;  reason: stable outcome reason (SPEC 6); message
//   resolver, tier, url, final_url            where the file came from (query secrets redacted)
//   sha256, bytes, content_type, path         what was stored (path relative to the library)
//   etag, last_modified                       validators for a later conditional refresh
//   license, license_url, version, host_type, oa_status   what a source said about the file (SPEC 16):
//                  license a lowercased short name (cc-by, cc0, …), license_url the URL a source gave,
//                  version published|accepted|submitted, host_type publisher|repository,
//                  oa_status gold|green|hybrid|bronze|diamond
//   attempts, first_attempt_at, finished_at   tries and ISO-8601 UTC times
//   work           { doi, pmid, pmcid, arxiv, openalex, title, year } from the artifact
//   meta           the artifact's `meta`, carried through untouched
// Credentials never appear: URL user-info is dropped and secret-looking query values are redacted.
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { redactText, redactUrl } from "../core/redact.ts";
import type { OutboxStore } from "../store/outbox.ts";
import type { OutcomeDetail } from "../store/types.ts";

export const MANIFEST_FILE = "manifest.jsonl";
export const MANIFEST_VERSION = 2;

export function manifestPath(stateDir: string): string {
  return join(stateDir, MANIFEST_FILE);
}

/** One terminal outcome as the store holds it (camelCase, epoch ms); details may be left out. */
export interface ManifestOutcome extends OutcomeDetail {
  seq: number;
  jobId: number;
  artifactId: string;
  state: "done" | "skipped" | "error";
  reason: string;
  attempts: number;
  firstAttemptAt?: number | null;
  finishedAt: number;
  /** The artifact (SPEC 2.1) the job was created from, when known. */
  artifact?: Record<string, unknown> | null;
}

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString());
const str = (x: unknown) => (typeof x === "string" ? x : null);

/** The manifest line (with its newline) for one outcome. */
export function manifestLine(o: ManifestOutcome): string {
  const a = o.artifact ?? {};
  const year = a.year;
  const line = {
    v: MANIFEST_VERSION,
    seq: o.seq,
    artifact_id: o.artifactId,
    job_id: o.jobId,
    state: o.state,
    reason: o.reason,
    message: o.message == null ? null : redactText(o.message),
    resolver: o.resolver ?? null,
    tier: o.tier ?? null,
    url: o.url == null ? null : redactUrl(o.url),
    final_url: o.finalUrl == null ? null : redactUrl(o.finalUrl),
    sha256: o.sha256 ?? null,
    bytes: o.bytes ?? null,
    content_type: o.contentType ?? null,
    path: o.path ?? null,
    etag: o.etag ?? null,
    last_modified: o.lastModified ?? null,
    license: o.license ?? null,
    license_url: o.licenseUrl ?? null,
    version: o.version ?? null,
    host_type: o.hostType ?? null,
    oa_status: o.oaStatus ?? null,
    attempts: o.attempts,
    first_attempt_at: iso(o.firstAttemptAt),
    finished_at: iso(o.finishedAt),
    work: {
      doi: str(a.doi),
      pmid: str(a.pmid),
      pmcid: str(a.pmcid),
      arxiv: str(a.arxiv),
      openalex: str(a.openalex),
      title: str(a.title),
      year: typeof year === "number" ? year : null,
    },
    meta: a.meta ?? null,
  };
  return `${JSON.stringify(line)}\n`;
}

/** The seq of a manifest line, or null when the line is not a complete manifest record. */
export function lineSeq(line: string): number | null {
  try {
    const o = JSON.parse(line) as { seq?: unknown };
    return typeof o.seq === "number" && Number.isInteger(o.seq) ? o.seq : null;
  } catch {
    return null;
  }
}

/**
 * Reads a text tail: where complete lines end, and the seq of the last parseable line in it.
 * `startsAtLine` says the tail begins at the start of a line (the start of the file).
 * `complete` is the offset within `tail` just past the last newline (-1 when there is none).
 */
export function scanTail(tail: string, startsAtLine: boolean): { complete: number; lastSeq: number | null } {
  const end = tail.lastIndexOf("\n");
  if (end < 0) return { complete: -1, lastSeq: null };
  const lines = tail.slice(0, end).split("\n");
  // A window that starts mid-file may start mid-line: its first line is not trusted.
  const first = startsAtLine ? 0 : 1;
  for (let i = lines.length - 1; i >= first; i--) {
    const seq = lineSeq(lines[i] as string);
    if (seq !== null) return { complete: end + 1, lastSeq: seq };
  }
  return { complete: end + 1, lastSeq: null };
}

export interface TailState {
  /** Seq of the last complete line, null for an empty file or one without records. */
  lastSeq: number | null;
  /** Bytes of a torn last line that were cut off (0 when the file ended cleanly). */
  tornBytes: number;
}

/** Finds the last complete record of the file at `fd` and cuts off a torn last line. */
export function repairTail(fd: number): TailState {
  const size = fstatSync(fd).size;
  if (size === 0) return { lastSeq: null, tornBytes: 0 };
  let window = Math.min(size, 16 * 1024);
  for (;;) {
    const start = size - window;
    const buf = Buffer.alloc(window);
    readSync(fd, buf, 0, window, start);
    const text = buf.toString("latin1"); // byte offsets = string offsets; '\n' cannot occur inside UTF-8 sequences
    const { complete, lastSeq } = scanTail(text, start === 0);
    const whole = start === 0;
    if (complete >= 0 && (lastSeq !== null || whole)) {
      const validEnd = start + complete;
      const torn = size - validEnd;
      if (torn > 0) ftruncateSync(fd, validEnd);
      if (lastSeq !== null) return { lastSeq, tornBytes: torn };
      return { lastSeq: null, tornBytes: torn };
    }
    if (whole) {
      // No newline at all: the whole file is one torn line.
      ftruncateSync(fd, 0);
      return { lastSeq: null, tornBytes: size };
    }
    window = Math.min(size, window * 4);
  }
}

/** The manifest file cannot belong to this database (it holds outcomes the database never had). */
export class ManifestMismatchError extends Error {
  override name = "ManifestMismatchError";
}

export interface ManifestWriterOptions {
  path: string;
  store: OutboxStore;
  /** Outcomes appended per locked round (default 500). */
  batch?: number;
  /** Largest single write; smaller only to exercise torn lines in tests (default 1 MiB). */
  maxWriteBytes?: number;
  /** Told when a flush found the file ahead of the mark or cut a torn line. */
  onReconcile?: (info: { mark: number; fileSeq: number | null; tornBytes: number }) => void;
}

export class ManifestWriter {
  private readonly batch: number;
  private readonly maxWriteBytes: number;
  constructor(private readonly opts: ManifestWriterOptions) {
    this.batch = opts.batch ?? 500;
    this.maxWriteBytes = opts.maxWriteBytes ?? 1024 * 1024;
  }

  /** Appends every committed outcome not yet in the file; returns how many lines were appended. */
  flush(): number {
    let total = 0;
    for (;;) {
      const n = this.opts.store.exclusive(() => this.appendBatch());
      total += n;
      if (n < this.batch) return total;
    }
  }

  private appendBatch(): number {
    const { store } = this.opts;
    const fd = openSync(this.opts.path, "a+");
    try {
      const mark = store.highWater();
      const tail = repairTail(fd);
      // A file ahead of every outcome was written against another database (the state directory's
      // database replaced): continuing would silently skip this database's first outcomes.
      if ((tail.lastSeq ?? 0) > store.maxSeq()) {
        throw new ManifestMismatchError(
          `${this.opts.path} ends with outcome ${tail.lastSeq}, but the queue database's newest outcome is ${store.maxSeq()}: the manifest belongs to another database; move it away and start again`,
        );
      }
      const from = Math.max(mark, tail.lastSeq ?? 0);
      if (tail.tornBytes > 0 || (tail.lastSeq ?? 0) > mark) {
        this.opts.onReconcile?.({ mark, fileSeq: tail.lastSeq, tornBytes: tail.tornBytes });
      }
      const rows = store.outcomesAfter(from, this.batch);
      if (rows.length === 0) {
        if (from > mark) store.setHighWater(from);
        return 0;
      }
      const data = Buffer.from(rows.map(manifestLine).join(""), "utf8");
      for (let off = 0; off < data.length; ) {
        off += writeSync(fd, data, off, Math.min(this.maxWriteBytes, data.length - off));
      }
      fdatasyncSync(fd);
      store.setHighWater((rows[rows.length - 1] as ManifestOutcome).seq);
      return rows.length;
    } finally {
      closeSync(fd);
    }
  }
}
