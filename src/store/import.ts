// Streaming import (SPEC 2.2): lines in, jobs out, in batches committed as they fill. Memory stays
// constant whatever the input size; every invalid line is kept whole in the rejects file; a read
// error (a truncated gzip) stops the import after committing everything read before it.
import type { Artifact } from "../artifact/artifact.ts";
import { type InputFormat, parseInputLine } from "../artifact/input.ts";
import { type LineEvent, openInputStream, readLineBatches } from "../artifact/lines.ts";
import { RejectsFile } from "./rejects-file.ts";
import type { JobQueue } from "./types.ts";

export const IMPORT_BATCH = 2000;
export const MAX_LINE_BYTES = 1024 * 1024;

export interface InvalidLine {
  lineNo: number;
  reason: string;
}

export interface ImportSummary {
  lines: number;
  added: number;
  duplicate: number;
  invalid: number;
  /** Where invalid lines were written, or null when there were none. */
  rejectsPath: string | null;
  /** Why reading stopped early (everything before it is committed), or null. */
  readError: string | null;
}

export interface ImportOptions {
  format: InputFormat;
  rejectsPath: string;
  /** Default priority for artifacts that carry none. */
  priority?: number;
  maxLineBytes?: number;
  batchSize?: number;
  onInvalid?: (line: InvalidLine) => void;
  onProgress?: (summary: ImportSummary) => void;
}

function describeReadError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/unexpected end of file|incorrect header|zlib|gzip|inflate|deflate/i.test(message)) {
    return `the compressed input is damaged or truncated (${message})`;
  }
  return message;
}

export async function importStream(
  queue: JobQueue,
  source: ReadableStream<Uint8Array>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const summary: ImportSummary = {
    lines: 0,
    added: 0,
    duplicate: 0,
    invalid: 0,
    rejectsPath: null,
    readError: null,
  };
  const rejects = new RejectsFile(options.rejectsPath);
  const batchSize = options.batchSize ?? IMPORT_BATCH;
  let batch: Artifact[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const r = await queue.enqueue(batch);
    summary.added += r.added;
    summary.duplicate += r.duplicate;
    batch = [];
    options.onProgress?.(summary);
  };
  const reject = (lineNo: number, reason: string, line?: Uint8Array | string) => {
    summary.invalid++;
    if (line !== undefined) rejects.write(line);
    options.onInvalid?.({ lineNo, reason });
  };
  const handle = (event: LineEvent) => {
    summary.lines = event.lineNo;
    if (event.kind === "invalid_utf8") return reject(event.lineNo, "not valid UTF-8", event.raw);
    // The line's bytes already went to the rejects file piece by piece.
    if (event.kind === "too_long") return reject(event.lineNo, `line longer than ${maxLineBytes} bytes`);
    const text = event.text;
    if (text.length === 0) return;
    const first = text.charCodeAt(0);
    if (first === 35 /* # */) return;
    if (first <= 32 || first === 0xfeff) {
      const trimmed = text.trim();
      if (trimmed === "" || trimmed.startsWith("#")) return;
    }
    const parsed = parseInputLine(text, options.format);
    if (!parsed.ok) return reject(event.lineNo, parsed.reason, text);
    const artifact = parsed.value;
    if (artifact.priority === undefined && options.priority !== undefined)
      artifact.priority = options.priority;
    batch.push(artifact);
  };

  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  // Only failures of reading the input end an import early with a reason; a database or rejects
  // file failure is an error of its own and propagates.
  let batches: AsyncIterator<LineEvent[]> | null = null;
  try {
    const stream = await openInputStream(source);
    batches = readLineBatches(stream, {
      maxLineBytes,
      onOverflow: (_lineNo, piece, end) => rejects.write(piece, end),
    });
  } catch (error) {
    summary.readError = describeReadError(error);
  }
  try {
    while (batches) {
      let next: IteratorResult<LineEvent[]>;
      try {
        next = await batches.next();
      } catch (error) {
        summary.readError = describeReadError(error);
        break;
      }
      if (next.done) break;
      for (const event of next.value) handle(event);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  } catch (error) {
    rejects.discard();
    throw error;
  }
  summary.rejectsPath = rejects.used ? rejects.path : null;
  rejects.commit();
  return summary;
}
