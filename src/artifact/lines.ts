// Streaming line reader for import: bytes in, batches of decoded lines out, in constant memory.
// Gzip is detected by its magic bytes (files and stdin alike). Lines are checked as UTF-8 one by
// one and capped in length, so a bad line becomes an invalid line instead of a failed import.

export type LineEvent =
  | { kind: "line"; lineNo: number; text: string }
  /** Not valid UTF-8; `raw` holds the line's bytes so it can be written whole to the rejects file. */
  | { kind: "invalid_utf8"; lineNo: number; raw: Uint8Array }
  /** Longer than the cap; its bytes went to `onOverflow` as they arrived. */
  | { kind: "too_long"; lineNo: number; bytes: number };

export interface LineReaderOptions {
  /** Longest accepted line in bytes (without the newline). */
  maxLineBytes: number;
  /** Receives the bytes of an over-long line piece by piece (`end` on its last piece). */
  onOverflow?: (lineNo: number, piece: Uint8Array, end: boolean) => void;
}

const NEWLINE = 10;
const CR = 13;

/** Whether the first bytes are a gzip header. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** The stream of a file's bytes, decompressed when it is gzip. */
export async function openInputStream(
  source: ReadableStream<Uint8Array>,
): Promise<ReadableStream<Uint8Array>> {
  const reader = source.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  const replay = new ReadableStream<Uint8Array>({
    start(controller) {
      if (head.length > 0) controller.enqueue(head);
    },
    async pull(controller) {
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  if (!isGzip(head)) return replay;
  const gunzip = new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
  return replay.pipeThrough(gunzip);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Split a byte stream into lines, yielding one batch of events per input chunk. A final line
 * without a newline is still a line.
 */
export async function* readLineBatches(
  stream: ReadableStream<Uint8Array>,
  options: LineReaderOptions,
): AsyncGenerator<LineEvent[]> {
  const { maxLineBytes, onOverflow } = options;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let lineNo = 0;
  let carry: Uint8Array[] = [];
  let carryLen = 0;
  let overflowing = false;
  let overflowBytes = 0;

  const decodeLine = (bytes: Uint8Array, out: LineEvent[]): void => {
    lineNo++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    try {
      out.push({ kind: "line", lineNo, text: decoder.decode(bytes.subarray(0, end)) });
    } catch {
      out.push({ kind: "invalid_utf8", lineNo, raw: bytes.slice(0, end) });
    }
  };

  // Decode a run of complete lines at once (the common, fast path); fall back line by line when
  // the run holds invalid UTF-8 so only the bad lines are lost.
  const decodeRun = (run: Uint8Array, out: LineEvent[]): void => {
    let text: string | null = null;
    try {
      text = decoder.decode(run);
    } catch {
      text = null;
    }
    if (text !== null) {
      const lines = text.split("\n");
      for (const line of lines) {
        lineNo++;
        out.push({ kind: "line", lineNo, text: line.endsWith("\r") ? line.slice(0, -1) : line });
      }
      return;
    }
    let start = 0;
    for (;;) {
      const nl = run.indexOf(NEWLINE, start);
      if (nl === -1) {
        decodeLine(run.subarray(start), out);
        return;
      }
      decodeLine(run.subarray(start, nl), out);
      start = nl + 1;
    }
  };

  const reader = stream.getReader();
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    const chunk = next.value;
    const out: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const pieceEnd = nl === -1 ? chunk.length : nl;
      if (overflowing) {
        const piece = chunk.subarray(start, pieceEnd);
        overflowBytes += piece.length;
        if (nl === -1) {
          onOverflow?.(lineNo + 1, piece, false);
          break;
        }
        onOverflow?.(lineNo + 1, piece, true);
        lineNo++;
        out.push({ kind: "too_long", lineNo, bytes: overflowBytes });
        overflowing = false;
        overflowBytes = 0;
        start = nl + 1;
        continue;
      }
      if (carryLen + (pieceEnd - start) > maxLineBytes) {
        // Switch to overflow mode: hand over what was held and stream the rest of the line.
        overflowing = true;
        overflowBytes = carryLen;
        for (const part of carry) onOverflow?.(lineNo + 1, part, false);
        carry = [];
        carryLen = 0;
        continue;
      }
      if (nl === -1) {
        carry.push(chunk.slice(start));
        carryLen += chunk.length - start;
        break;
      }
      // Complete lines from here up to the last newline of the chunk that fits the cap.
      let runEnd = chunk.lastIndexOf(NEWLINE);
      // The first line may be long (carry); later lines in a chunk are shorter than the chunk,
      // but the cap can be smaller than a chunk, so check each line only when the cap requires it.
      if (maxLineBytes < chunk.length) runEnd = nl;
      const head = chunk.subarray(start, runEnd);
      const run = carryLen > 0 ? concat([...carry, head], carryLen + head.length) : head;
      carry = [];
      carryLen = 0;
      decodeRun(run, out);
      start = runEnd + 1;
    }
    if (out.length > 0) yield out;
  }
  if (overflowing) {
    onOverflow?.(lineNo + 1, new Uint8Array(0), true);
    lineNo++;
    yield [{ kind: "too_long", lineNo, bytes: overflowBytes }];
  } else if (carryLen > 0) {
    const out: LineEvent[] = [];
    decodeLine(concat(carry, carryLen), out);
    yield out;
  }
}
