// Content-Encoding of file and page bodies, decoded here rather than by the runtime: the decoded
// bytes are counted as they come out, one chunk per read, so a small compressed body that would
// inflate to gigabytes (a "bomb") ends with `too_large` after bounded work, memory and disk.
import { HttpFailure } from "./outcome.ts";

/**
 * Decoded bytes allowed per byte received, once past DECODE_RATIO_FREE_BYTES. PDFs (already
 * compressed inside), pages and XML shrink 2–20× under gzip or brotli; a bomb shrinks 1000×
 * (gzip's ceiling) to a million times (brotli, zstd).
 */
export const MAX_DECODE_RATIO = 100;
/** Decoded bytes always allowed, whatever the ratio: a small page may compress very well. */
export const DECODE_RATIO_FREE_BYTES = 1024 * 1024;
/**
 * Encoded bytes handed to the decoder at a time. The decoder takes input ahead of what it has put
 * out, so bytes count as received only when handed over, in slices small enough that the ratio
 * measured is the ratio decoded (a whole 1 MB read of gzip would allow 100 MB before the check).
 */
const FEED_SLICE_BYTES = 16 * 1024;
/** Stacked codings accepted (`Content-Encoding: gzip, br`); more is no server's honest answer. */
const MAX_CODINGS = 2;

type Format = "gzip" | "deflate" | "deflate-raw" | "brotli" | "zstd";

const FORMATS: Record<string, Format> = {
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
  br: "brotli",
  zstd: "zstd",
};

export type Codings = { ok: true; codings: string[] } | { ok: false; message: string };

/** The codings of a Content-Encoding value in the order the server applied them (`identity` drops out). */
export function parseContentEncoding(value: string | null): Codings {
  const codings = (value ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  const unknown = codings.find((c) => !(c in FORMATS));
  if (unknown !== undefined) return { ok: false, message: `unsupported Content-Encoding "${unknown}"` };
  if (codings.length > MAX_CODINGS) {
    return { ok: false, message: `Content-Encoding "${value}" stacks more than ${MAX_CODINGS} codings` };
  }
  return { ok: true, codings };
}

export interface DecodeOptions {
  /** Decoded bytes allowed in all (download.max_bytes). */
  maxBytes: number;
  url: string;
}

/**
 * The decoded view of `source` (bytes as received, coded with `contentEncoding`): pulls one decoded
 * chunk per read, fails with `too_large` past `maxBytes` or past MAX_DECODE_RATIO × the bytes
 * received, with `not_pdf` when the bytes are not what the header says. Cancelling it, or failing,
 * cancels `source` (which ends the request). Errors of `source` pass through unchanged.
 */
export function decodeBody(
  source: ReadableStream<Uint8Array>,
  contentEncoding: string | null,
  o: DecodeOptions,
): ReadableStream<Uint8Array> {
  const parsed = parseContentEncoding(contentEncoding);
  if (parsed.ok && parsed.codings.length === 0) return source;
  const raw = source.getReader();
  let received = 0;
  let produced = 0;
  let decoded: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let started = false;

  const stop = (c: ReadableStreamDefaultController<Uint8Array>, e: HttpFailure) => {
    // Cancel both ends directly: the source releases its connection now, not after the pipe notices.
    decoded?.cancel(e).catch(() => {});
    raw.cancel(e).catch(() => {});
    c.error(e);
  };

  /** Reads the first chunk (a deflate body is told zlib-wrapped or raw by it) and builds the decoders. */
  async function start(c: ReadableStreamDefaultController<Uint8Array>): Promise<boolean> {
    started = true;
    if (!parsed.ok) {
      stop(c, new HttpFailure("not_pdf", `${o.url}: ${parsed.message}`));
      return false;
    }
    const first = await raw.read();
    if (first.done) {
      c.close(); // an empty body decodes to nothing
      return false;
    }
    let pending: Uint8Array = first.value;
    let stream: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>(
      {
        async pull(fc) {
          if (pending.length === 0) {
            const next = await raw.read();
            if (next.done) return fc.close();
            pending = next.value;
          }
          const slice = pending.subarray(0, FEED_SLICE_BYTES);
          pending = pending.subarray(slice.length);
          received += slice.length;
          fc.enqueue(slice);
        },
        cancel(reason) {
          return raw.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    const codings = parsed.codings;
    for (let i = codings.length - 1; i >= 0; i--) {
      let format = FORMATS[codings[i] as string] as Format;
      // Servers send raw deflate under "deflate" as often as the zlib-wrapped data RFC 9110 names.
      if (format === "deflate" && i === codings.length - 1 && !isZlibHeader(first.value))
        format = "deflate-raw";
      const step = new DecompressionStream(format as CompressionFormat) as unknown as ReadableWritablePair<
        Uint8Array,
        Uint8Array
      >;
      stream = stream.pipeThrough(step);
    }
    decoded = stream.getReader();
    return true;
  }

  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        if (!started && !(await start(c))) return;
        const reader = decoded as ReadableStreamDefaultReader<Uint8Array>;
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          raw.cancel(error).catch(() => {});
          c.error(
            error instanceof HttpFailure
              ? error
              : new HttpFailure(
                  "not_pdf",
                  `body of ${o.url} is not valid ${contentEncoding} data: ${(error as Error)?.message ?? String(error)}`,
                ),
          );
          return;
        }
        if (chunk.done) return c.close();
        produced += chunk.value.length;
        if (produced > o.maxBytes) {
          stop(c, new HttpFailure("too_large", `body of ${o.url} decodes to more than ${o.maxBytes} bytes`));
          return;
        }
        if (produced > DECODE_RATIO_FREE_BYTES && produced > MAX_DECODE_RATIO * received) {
          stop(
            c,
            new HttpFailure(
              "too_large",
              `body of ${o.url} decodes to more than ${MAX_DECODE_RATIO} times its ${received} ${contentEncoding} bytes (a decompression bomb)`,
            ),
          );
          return;
        }
        c.enqueue(chunk.value);
      },
      cancel(reason) {
        decoded?.cancel(reason).catch(() => {});
        return raw.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** A zlib stream header (RFC 1950): deflate method, and the check bits that make CMF·256+FLG a multiple of 31. */
function isZlibHeader(b: Uint8Array): boolean {
  if (b.length < 2) return true;
  const cmf = b[0] as number;
  const flg = b[1] as number;
  return (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}
