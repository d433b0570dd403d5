// Hostile and careless servers against the download: compressed bodies although identity was asked
// for (bombs that inflate to 1 GiB, honest gzip of a real PDF) and endless junk. With the default
// download.max_bytes (1 GiB), nothing may get near the disk beyond a few MB, and quickly.
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema.ts";
import { downloadCandidate } from "../../src/download/candidate.ts";
import { TEMP_DIR } from "../../src/download/temp.ts";
import { encodeAs, makeBomb } from "../support/bombs.ts";
import { makePdf } from "../support/pdf.ts";
import { MemoryPoliteness } from "../support/politeness.ts";
import { bytesResponse, type SimHost, startWeb } from "../support/web.ts";
import { makeDeps, makeLibrary, sha256, storedFiles, tempFiles } from "./harness.ts";

const MiB = 1024 * 1024;
const DEFAULT_MAX = defaultConfig().download.max_bytes;

const web = await startWeb();
afterAll(() => web.stop());

let host: SimHost;
let out: string;
let politeness: MemoryPoliteness;
beforeEach(async () => {
  host = await web.host();
  out = makeLibrary();
  politeness = new MemoryPoliteness();
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const req = (path: string) => ({ url: host.url(path), artifactId: "doi:10.1/bomb" });

/** Runs a download while sampling the size of the bodies in the temp directory: the result and the largest seen. */
async function downloadWatchingDisk(path: string) {
  let peak = 0;
  const dir = join(out, TEMP_DIR);
  const sample = () => {
    let size = 0;
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (name.endsWith(".json")) continue; // a slot's sidecar (owner, validators), not body bytes
      try {
        size += fs.statSync(join(dir, name)).size;
      } catch {
        // removed between listing and stat
      }
    }
    peak = Math.max(peak, size);
  };
  const timer = setInterval(sample, 1);
  const t0 = performance.now();
  try {
    const result = await downloadCandidate(makeDeps(out, { maxBytes: DEFAULT_MAX }, politeness), req(path));
    return { result, peak, ms: performance.now() - t0 };
  } finally {
    clearInterval(timer);
    sample();
  }
}

describe("a server that compresses although identity was asked for", () => {
  for (const coding of ["br", "gzip"] as const) {
    test(`a ${coding} bomb inflating to 1 GiB as a PDF ends with too_large after a few MB, quickly`, async () => {
      const bomb = await makeBomb(coding, 1024);
      if (coding === "br") expect(bomb.length).toBeLessThan(2048);
      host.route("/bomb.pdf", () =>
        bytesResponse(bomb, { "content-type": "application/pdf", "content-encoding": coding }),
      );
      const { result, peak, ms } = await downloadWatchingDisk("/bomb.pdf");
      expect(result.ok).toBe(false);
      expect(result.reason).toBe("too_large");
      expect(result.ok ? -1 : result.bytes).toBeLessThan(4 * MiB);
      expect(peak).toBeLessThan(4 * MiB);
      expect(ms).toBeLessThan(3000);
      expect(host.requests[0]?.headers.get("accept-encoding")).toBe("identity");
      expect(storedFiles(out)).toEqual([]);
      expect(tempFiles(out)).toEqual([]);
      expect(politeness.held()).toBe(0);
    });
  }

  for (const coding of ["gzip", "br", "deflate", "zstd"] as const) {
    test(`a real PDF sent with ${coding} is stored as the PDF's own bytes and SHA-256`, async () => {
      const pdf = makePdf(`Encoded ${coding}`, { minBytes: 300_000 });
      host.route("/paper.pdf", () =>
        bytesResponse(encodeAs(coding, pdf), {
          "content-type": "application/pdf",
          "content-encoding": coding,
        }),
      );
      const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/paper.pdf"));
      if (!r.ok) throw new Error(`expected the PDF, got ${r.reason}: ${r.message}`);
      expect(r.file.bytes).toBe(pdf.length);
      expect(r.file.sha256).toBe(sha256(pdf));
      expect(new Uint8Array(fs.readFileSync(r.file.path))).toEqual(pdf);
    });
  }

  test("raw deflate under `deflate` (a common server mistake) is decoded too", async () => {
    const pdf = makePdf("Raw deflate");
    host.route("/paper.pdf", () =>
      bytesResponse(new Uint8Array(Bun.deflateSync(pdf)), {
        "content-type": "application/pdf",
        "content-encoding": "deflate",
      }),
    );
    const r = await downloadCandidate(makeDeps(out, {}, politeness), req("/paper.pdf"));
    expect(r.ok && r.file.sha256).toBe(sha256(pdf));
  });

  test("an encoded body whose Content-Length is over max_bytes is refused before it is read", async () => {
    const noise = crypto.getRandomValues(new Uint8Array(2 * MiB - 1024));
    host.route("/noise.pdf", () =>
      bytesResponse(encodeAs("gzip", noise), {
        "content-type": "application/pdf",
        "content-encoding": "gzip",
      }),
    );
    const r = await downloadCandidate(makeDeps(out, { maxBytes: MiB }, politeness), req("/noise.pdf"));
    expect(r.reason).toBe("too_large");
    expect(r.ok ? "" : r.message).toContain("encoded bytes announced");
    expect(tempFiles(out)).toEqual([]);
  });

  test("an unknown coding and a corrupt gzip body are not_pdf, with nothing left behind", async () => {
    host.route("/lzw.pdf", () =>
      bytesResponse(makePdf("lzw"), { "content-type": "application/pdf", "content-encoding": "compress" }),
    );
    host.route("/bad.pdf", () =>
      bytesResponse(makePdf("not gzip"), { "content-type": "application/pdf", "content-encoding": "gzip" }),
    );
    for (const path of ["/lzw.pdf", "/bad.pdf"]) {
      const r = await downloadCandidate(makeDeps(out, {}, politeness), req(path));
      expect(r.reason).toBe("not_pdf");
      expect(tempFiles(out)).toEqual([]);
    }
    expect(politeness.held()).toBe(0);
  });
});

test("a huge body of binary junk stops after its first KiB: not_pdf, little read, nothing written", async () => {
  const junk = crypto.getRandomValues(new Uint8Array(64 * 1024));
  let served = 0;
  host.route("/junk.pdf", () => {
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (served >= DEFAULT_MAX - 1) return c.close();
        served += junk.length;
        c.enqueue(junk.slice());
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/pdf", "content-length": String(DEFAULT_MAX - 1) },
    });
  });
  const { result, peak, ms } = await downloadWatchingDisk("/junk.pdf");
  expect(result.reason).toBe("not_pdf");
  expect(result.ok ? "" : result.message).toContain("neither a PDF nor markup in the first 1024 bytes");
  // Judged on the first read (however large the runtime made it), before anything is written.
  expect(result.ok ? -1 : result.bytes).toBeLessThan(4 * MiB);
  expect(peak).toBe(0);
  // What the server could push into socket buffers before the download hung up, not the gigabyte.
  expect(served).toBeLessThan(64 * MiB);
  expect(ms).toBeLessThan(3000);
  expect(tempFiles(out)).toEqual([]);
});
