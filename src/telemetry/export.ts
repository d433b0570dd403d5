// `docstokg manifest export`: outcomes streamed from the state (SQLite or PostgreSQL, store/reads.ts)
// as JSONL (the manifest line format, version 2) or CSV (RFC 4180, the column set below, version 2).
// Rows are read in keyset pages by seq, so no read transaction stays open while the consumer is
// slow, and written with backpressure, so memory stays constant whatever the number of outcomes.
import { Database } from "bun:sqlite";
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { StateReads } from "../store/reads.ts";
import { sqliteReads } from "../store/sqlite/reads.ts";
import { type ManifestOutcome, manifestLine } from "./manifest.ts";

export const EXPORT_FORMATS = ["jsonl", "csv"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * CSV columns, version 2 (header row first; version 1 ended at `meta`). Flattened from the manifest line: `v` is the column-set
 * version, the work's identifiers and title follow the outcome fields, and `meta` is the artifact's
 * meta object as JSON text. Empty cell = null. Times are ISO-8601 UTC.
 */
export const CSV_COLUMNS = [
  "v",
  "seq",
  "artifact_id",
  "job_id",
  "state",
  "reason",
  "message",
  "resolver",
  "tier",
  "url",
  "final_url",
  "sha256",
  "bytes",
  "content_type",
  "path",
  "etag",
  "last_modified",
  "attempts",
  "first_attempt_at",
  "finished_at",
  "doi",
  "pmid",
  "pmcid",
  "arxiv",
  "openalex",
  "title",
  "year",
  "meta",
  // Version 2: provenance, appended so readers that go by position keep working.
  "license",
  "license_url",
  "version",
  "host_type",
  "oa_status",
] as const;

export interface ExportFilter {
  /** Outcomes finished at or after this epoch-ms time. */
  since?: number;
  state?: "done" | "skipped" | "error";
}

/** One CSV field per RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV record with its CRLF line break (RFC 4180). */
export function csvRecord(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/** The CSV record of one outcome, from its manifest line (one source of truth for the fields). */
export function csvOfOutcome(o: ManifestOutcome): string {
  const line = JSON.parse(manifestLine(o)) as Record<string, unknown> & { work: Record<string, unknown> };
  const flat: Record<string, unknown> = { ...line, ...line.work };
  return csvRecord(CSV_COLUMNS.map((c) => flat[c]));
}

const PAGE = 1000;

/** The destination closed early (e.g. `| head`): stop quietly, it wants no more. */
export class SinkClosed extends Error {
  override name = "SinkClosed";
}

const isBrokenPipe = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === "EPIPE";

/** Write with backpressure: wait for `drain` when the stream's buffer is full. */
async function writeChunk(out: Writable, chunk: string): Promise<void> {
  if (out.destroyed || out.writableEnded) throw new SinkClosed("output closed");
  let flowing: boolean;
  try {
    flowing = out.write(chunk);
  } catch (e) {
    if (isBrokenPipe(e)) throw new SinkClosed("output closed");
    throw e;
  }
  if (flowing) return;
  // events.once rejects when the stream emits `error` meanwhile: EPIPE means the reader left.
  try {
    await Promise.race([
      once(out, "drain"),
      once(out, "close").then(() => {
        throw new SinkClosed("output closed");
      }),
    ]);
  } catch (e) {
    throw isBrokenPipe(e) ? new SinkClosed("output closed") : e;
  }
}

/** Streams matching outcomes in seq order, from one consistent view; returns how many were written. */
export async function exportOutcomes(
  source: Database | StateReads,
  out: Writable,
  format: ExportFormat,
  filter: ExportFilter = {},
): Promise<number> {
  const state = source instanceof Database ? sqliteReads(source) : source;
  return await state.snapshot((reads) => exportFrom(reads, out, format, filter));
}

async function exportFrom(
  reads: StateReads,
  out: Writable,
  format: ExportFormat,
  filter: ExportFilter,
): Promise<number> {
  // A stream error (EPIPE when the reader went away) arrives as an event after a write that looked
  // fine; remember it and stop at the next write instead of exporting into the void.
  let failed: unknown;
  const onError = (e: unknown) => {
    failed = e;
  };
  out.on("error", onError);
  const write = async (chunk: string) => {
    if (failed !== undefined) throw isBrokenPipe(failed) ? new SinkClosed("output closed") : failed;
    await writeChunk(out, chunk);
  };
  try {
    if (format === "csv") await write(csvRecord(CSV_COLUMNS));
    let written = 0;
    for (let after = 0; ; ) {
      const rows = await reads.outcomePage(after, filter.since ?? 0, filter.state ?? "", PAGE);
      if (rows.length === 0) break;
      let chunk = "";
      for (const r of rows) {
        chunk += format === "csv" ? csvOfOutcome(r) : manifestLine(r);
      }
      await write(chunk);
      // Let queued stream events (errors, drain) arrive between pages.
      await new Promise<void>((resolve) => setImmediate(resolve));
      written += rows.length;
      after = rows[rows.length - 1]?.seq ?? after;
      if (rows.length < PAGE) break;
    }
    return written;
  } finally {
    out.off("error", onError);
  }
}

/** `--since`: an ISO-8601 date or date-time (UTC unless it says otherwise), as epoch ms; null if not one. */
export function parseSince(text: string): number | null {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return null;
  // A bare date-time without a zone is read as UTC, like a bare date, so the result never depends on TZ.
  const zoned =
    /T|\s/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t.replace(" ", "T")}Z` : t.replace(" ", "T");
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : null;
}
