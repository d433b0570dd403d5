// Decoding of Content-Encoding by the client: the codings a header names, bounded decoding (size cap
// and decode ratio), corrupt data, and errors of the underlying body passing through unchanged.
import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import {
  DECODE_RATIO_FREE_BYTES,
  decodeBody,
  MAX_DECODE_RATIO,
  parseContentEncoding,
} from "../../src/net/content-coding.ts";
import { HttpFailure } from "../../src/net/outcome.ts";
import { encodeAs } from "../support/bombs.ts";

const URL_ = "http://127.0.0.2/f.pdf";

/** A stream of `bytes` in pieces of `piece`, counting how many pieces were pulled; or ending in `error`. */
function source(bytes: Uint8Array, piece = 64 * 1024, error?: Error) {
  const stats = { pulled: 0, cancelled: false };
  let at = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (at >= bytes.length) return error ? c.error(error) : c.close();
        stats.pulled++;
        c.enqueue(bytes.slice(at, at + piece));
        at += piece;
      },
      cancel() {
        stats.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, stats };
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array | HttpFailure> {
  try {
    return new Uint8Array(await new Response(s).arrayBuffer());
  } catch (e) {
    if (e instanceof HttpFailure) return e;
    throw e;
  }
}

describe("parseContentEncoding", () => {
  test("lists the codings in the order applied; identity and case do not matter", () => {
    expect(parseContentEncoding(null)).toEqual({ ok: true, codings: [] });
    expect(parseContentEncoding("Identity")).toEqual({ ok: true, codings: [] });
    expect(parseContentEncoding(" GZIP , br")).toEqual({ ok: true, codings: ["gzip", "br"] });
    expect(parseContentEncoding("x-gzip")).toEqual({ ok: true, codings: ["x-gzip"] });
  });
  test("refuses unknown codings and deep stacks, naming them", () => {
    expect(parseContentEncoding("compress")).toEqual({
      ok: false,
      message: 'unsupported Content-Encoding "compress"',
    });
    expect(parseContentEncoding("gzip, gzip, gzip")).toMatchObject({ ok: false });
  });
});

describe("decodeBody", () => {
  const text = new TextEncoder().encode("%PDF-1.4 a small file ".repeat(2000));

  test("no coding: the body itself, untouched", () => {
    const { stream } = source(text);
    expect(decodeBody(stream, "identity", { maxBytes: 1e9, url: URL_ })).toBe(stream);
  });

  for (const coding of ["gzip", "br", "deflate", "zstd"] as const) {
    test(`${coding} decodes to the original bytes, fed in small pieces`, async () => {
      const { stream } = source(encodeAs(coding, text), 100);
      expect(await readAll(decodeBody(stream, coding, { maxBytes: 1e9, url: URL_ }))).toEqual(text);
    });
  }

  test("stacked codings are undone last first", async () => {
    const twice = encodeAs("br", encodeAs("gzip", text));
    const { stream } = source(twice);
    expect(await readAll(decodeBody(stream, "gzip, br", { maxBytes: 1e9, url: URL_ }))).toEqual(text);
  });

  test("an empty body decodes to nothing", async () => {
    const { stream } = source(new Uint8Array());
    expect(await readAll(decodeBody(stream, "gzip", { maxBytes: 1e9, url: URL_ }))).toEqual(new Uint8Array());
  });

  test("past max_bytes of decoded bytes: too_large, and the source is cancelled", async () => {
    const { stream, stats } = source(encodeAs("gzip", crypto.getRandomValues(new Uint8Array(200_000))));
    const r = await readAll(decodeBody(stream, "gzip", { maxBytes: 100_000, url: URL_ }));
    expect(r).toBeInstanceOf(HttpFailure);
    expect((r as HttpFailure).reason).toBe("too_large");
    expect((r as HttpFailure).message).toContain("decodes to more than 100000 bytes");
    expect(stats.cancelled).toBe(true);
  });

  test(`past ${MAX_DECODE_RATIO}× the bytes received: too_large long before max_bytes`, async () => {
    const packed = new Uint8Array(gzipSync(new Uint8Array(64 * 1024 * 1024)));
    const { stream, stats } = source(packed);
    const decoded = decodeBody(stream, "gzip", { maxBytes: 1024 ** 3, url: URL_ });
    const reader = decoded.getReader();
    let produced = 0;
    let failure: HttpFailure | undefined;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        produced += value.length;
      }
    } catch (e) {
      failure = e as HttpFailure;
    }
    expect(failure?.reason).toBe("too_large");
    expect(failure?.message).toContain("decompression bomb");
    expect(produced).toBeLessThan(DECODE_RATIO_FREE_BYTES * 4);
    expect(stats.pulled).toBeLessThan(3);
    expect(stats.cancelled).toBe(true);
  });

  test("bytes that are not what the header says: not_pdf naming the coding", async () => {
    const { stream } = source(text);
    const r = await readAll(decodeBody(stream, "br", { maxBytes: 1e9, url: URL_ }));
    expect((r as HttpFailure).reason).toBe("not_pdf");
    expect((r as HttpFailure).message).toContain("not valid br data");
  });

  test("an unsupported coding: not_pdf on the first read, the source cancelled", async () => {
    const { stream, stats } = source(text);
    const r = await readAll(decodeBody(stream, "compress", { maxBytes: 1e9, url: URL_ }));
    expect((r as HttpFailure).reason).toBe("not_pdf");
    expect(stats.cancelled).toBe(true);
  });

  test("an error of the body (a timeout, a cut connection) passes through with its reason", async () => {
    const packed = encodeAs("gzip", crypto.getRandomValues(new Uint8Array(300_000)));
    const cut = new HttpFailure("truncated", "body ended after 1000 of 300000 bytes");
    const { stream } = source(packed.subarray(0, 150_000), 64 * 1024, cut);
    const r = await readAll(decodeBody(stream, "gzip", { maxBytes: 1e9, url: URL_ }));
    expect(r).toBe(cut);
  });
});
