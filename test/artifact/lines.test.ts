import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { type LineEvent, openInputStream, readLineBatches } from "../../src/artifact/lines.ts";

/** A stream that delivers `bytes` in pieces of `size` (line boundaries fall anywhere). */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>, maxLineBytes = 1 << 20, overflow?: Uint8Array[]) {
  const events: LineEvent[] = [];
  for await (const batch of readLineBatches(stream, {
    maxLineBytes,
    onOverflow: (_n, piece) => overflow?.push(piece.slice()),
  })) {
    events.push(...batch);
  }
  return events;
}

const enc = new TextEncoder();

describe("readLineBatches", () => {
  test.each([1, 2, 3, 7, 64, 4096])("lines survive any chunking (chunk %p)", async (size) => {
    const text = "alpha\r\nbéta\n\n# comment\nlast-without-newline";
    const events = await collect(chunked(enc.encode(text), size));
    expect(events).toEqual([
      { kind: "line", lineNo: 1, text: "alpha" },
      { kind: "line", lineNo: 2, text: "béta" },
      { kind: "line", lineNo: 3, text: "" },
      { kind: "line", lineNo: 4, text: "# comment" },
      { kind: "line", lineNo: 5, text: "last-without-newline" },
    ]);
  });

  test("invalid UTF-8 costs only its own line, whose bytes are kept", async () => {
    const bytes = new Uint8Array([...enc.encode("ok1\n"), 0xff, 0xfe, 0x41, 10, ...enc.encode("ok2\n")]);
    for (const size of [2, 100]) {
      const events = await collect(chunked(bytes, size));
      expect(events.map((e) => e.kind)).toEqual(["line", "invalid_utf8", "line"]);
      const bad = events[1];
      expect(bad?.kind === "invalid_utf8" && [...bad.raw]).toEqual([0xff, 0xfe, 0x41]);
      expect(events[2]).toEqual({ kind: "line", lineNo: 3, text: "ok2" });
    }
  });

  test("an over-long line is reported with its size and streamed out whole; reading goes on", async () => {
    const long = "x".repeat(5000);
    const bytes = enc.encode(`short\n${long}\nafter\n`);
    for (const size of [64, 1000, 100_000]) {
      const pieces: Uint8Array[] = [];
      const events = await collect(chunked(bytes, size), 1000, pieces);
      expect(events).toEqual([
        { kind: "line", lineNo: 1, text: "short" },
        { kind: "too_long", lineNo: 2, bytes: 5000 },
        { kind: "line", lineNo: 3, text: "after" },
      ]);
      expect(new TextDecoder().decode(Buffer.concat(pieces))).toBe(long);
    }
  });

  test("an over-long last line without newline", async () => {
    const events = await collect(chunked(enc.encode(`a\n${"y".repeat(3000)}`), 512), 1000);
    expect(events.map((e) => e.kind)).toEqual(["line", "too_long"]);
  });
});

describe("openInputStream", () => {
  test("gzip is detected by its magic bytes and decompressed", async () => {
    const gz = gzipSync(enc.encode("one\ntwo\n"));
    const events = await collect(await openInputStream(chunked(gz, 5)));
    expect(events.map((e) => (e.kind === "line" ? e.text : e.kind))).toEqual(["one", "two"]);
  });
  test("plain text passes through", async () => {
    const events = await collect(await openInputStream(chunked(enc.encode("plain\n"), 3)));
    expect(events).toEqual([{ kind: "line", lineNo: 1, text: "plain" }]);
  });
  test("a truncated gzip fails after yielding what was readable", async () => {
    const body = Array.from({ length: 20000 }, (_, i) => `10.1000/${i}`).join("\n");
    const gz = gzipSync(enc.encode(body));
    const cut = gz.slice(0, Math.floor(gz.length / 2));
    const seen: LineEvent[] = [];
    let error: unknown;
    try {
      for await (const batch of readLineBatches(await openInputStream(chunked(cut, 4096)), {
        maxLineBytes: 1 << 20,
      })) {
        seen.push(...batch);
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeDefined();
    expect(seen.length).toBeGreaterThan(1000);
    expect(seen.every((e, i) => e.kind === "line" && e.text === `10.1000/${i}`)).toBe(true);
  });
  test("an empty input has no lines", async () => {
    expect(await collect(await openInputStream(chunked(new Uint8Array(0), 1)))).toEqual([]);
  });
});
