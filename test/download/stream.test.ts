import { describe, expect, test } from "bun:test";
import { PDF_TRAILER_WINDOW, SNIFF_HEAD_BYTES } from "../../src/download/classify.ts";
import {
  abortReason,
  dropPrefix,
  parseContentRange,
  parseLength,
  Sniffer,
  streamErrorReason,
} from "../../src/download/stream.ts";

describe("Sniffer", () => {
  test("keeps exactly the first and last bytes whatever the chunking", () => {
    const total = SNIFF_HEAD_BYTES + 10_000;
    const all = new Uint8Array(total).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    for (const size of [1, 100, 2047, 2048, 2049, 65536, total]) {
      const s = new Sniffer();
      for (let i = 0; i < total; i += size) s.push(all.subarray(i, Math.min(total, i + size)));
      expect(s.head).toEqual(all.subarray(0, SNIFF_HEAD_BYTES));
      expect(s.tail).toEqual(all.subarray(total - PDF_TRAILER_WINDOW));
    }
  });
  test("a body shorter than the windows is kept whole in both", () => {
    const s = new Sniffer();
    s.push(new Uint8Array([1, 2]));
    s.push(new Uint8Array([3]));
    expect(Array.from(s.head)).toEqual([1, 2, 3]);
    expect(Array.from(s.tail)).toEqual([1, 2, 3]);
  });
});

describe("parseContentRange", () => {
  test("valid forms", () => {
    expect(parseContentRange("bytes 100-999/1000")).toEqual({ start: 100, end: 999, total: 1000 });
    expect(parseContentRange("bytes 0-9/*")).toEqual({ start: 0, end: 9, total: undefined });
  });
  test("malformed or inconsistent ranges are refused", () => {
    for (const v of [
      null,
      "",
      "bytes */1000",
      "bytes 10-5/100",
      "bytes 0-100/100",
      "items 0-1/2",
      "bytes 1-2",
    ]) {
      expect(parseContentRange(v)).toBeNull();
    }
  });
});

test("parseLength accepts digits only", () => {
  expect(parseLength("123")).toBe(123);
  expect(parseLength(null)).toBeUndefined();
  expect(parseLength("12a")).toBeUndefined();
  expect(parseLength("-1")).toBeUndefined();
});

test("abortReason keeps lease_lost and defaults to cancelled", () => {
  const c = new AbortController();
  c.abort("lease_lost");
  expect(abortReason(c.signal)).toBe("lease_lost");
  const d = new AbortController();
  d.abort();
  expect(abortReason(d.signal)).toBe("cancelled");
  expect(abortReason(undefined)).toBe("cancelled");
});

test("streamErrorReason", () => {
  expect(streamErrorReason(Object.assign(new Error("x"), { reason: "timeout" }), false)).toBe("timeout");
  expect(streamErrorReason(new DOMException("t", "TimeoutError"), false)).toBe("timeout");
  expect(streamErrorReason(Object.assign(new Error("socket closed"), { code: "ECONNRESET" }), true)).toBe(
    "truncated",
  );
  expect(streamErrorReason(Object.assign(new Error("socket closed"), { code: "ECONNRESET" }), false)).toBe(
    "conn_error",
  );
  expect(streamErrorReason(new Error("Decompression error: ZlibError"), false)).toBe("not_pdf");
});

describe("dropPrefix (continuing a short gathered write)", () => {
  const bufs = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]), new Uint8Array([6, 7, 8, 9])];
  const flat = (b: Uint8Array[]) => b.flatMap((x) => [...x]);
  test("drops exactly n bytes across buffer boundaries", () => {
    for (let n = 0; n <= 9; n++)
      expect(flat(dropPrefix(bufs, n))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].slice(n));
  });
  test("keeps whole buffers untouched and never yields empty ones", () => {
    expect(dropPrefix(bufs, 3)[0]).toBe(bufs[1] as Uint8Array);
    expect(dropPrefix(bufs, 5).every((b) => b.length > 0)).toBe(true);
  });
});
