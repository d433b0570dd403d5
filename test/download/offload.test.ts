// Large bodies (≥ OFFLOAD_MIN_BYTES announced) are hashed and written on a thread of their own, and
// files are published through a DiskSyncer: same outcomes, digests and fault behaviour as without.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { type DownloadDeps, downloadCandidate } from "../../src/download/candidate.ts";
import { HashingThreads, OFFLOAD_MIN_BYTES } from "../../src/download/offload.ts";
import { createDiskSyncer, type DiskSyncer } from "../../src/download/syncer.ts";
import { TEMP_DIR, urlKey } from "../../src/download/temp.ts";
import { MemoryPoliteness } from "../support/politeness.ts";
import { type SimHost, type SimWeb, startWeb } from "../support/web.ts";
import { makeDeps, makeLibrary, sha256, storedFiles, tempFiles } from "./harness.ts";

let web: SimWeb;
let host: SimHost;
let out: string;
let politeness: MemoryPoliteness;
let syncer: DiskSyncer;

/** A PDF-shaped body just over the threshold, with bytes that differ at every offset. */
const large = (() => {
  const size = OFFLOAD_MIN_BYTES + 123_457;
  const b = new Uint8Array(size);
  crypto.getRandomValues(b.subarray(0, 65_536));
  for (let at = 65_536; at < size; at += 65_536) b.copyWithin(at, 0, Math.min(65_536, size - at));
  for (let i = 0; i < size; i += 4096) b[i] = (i >> 12) & 0xff; // no two 64 KiB blocks alike
  b.set(new TextEncoder().encode("%PDF-1.7\n"), 0);
  b.set(new TextEncoder().encode("\n%%EOF\n"), size - 7);
  return b;
})();

beforeAll(async () => {
  web = await startWeb();
  host = await web.host({ name: "large.test" });
});
afterAll(() => web.stop());
beforeEach(() => {
  out = makeLibrary();
  politeness = new MemoryPoliteness();
  syncer = createDiskSyncer(2);
});
afterEach(() => {
  syncer.close();
  fs.rmSync(out, { recursive: true, force: true });
  expect(politeness.held()).toBe(0);
});

describe.each([
  ["a private thread per large body", false],
  ["shared hashing threads", true],
])("hashing on %s", (_, shared) => {
  let hashers: HashingThreads | undefined;
  beforeEach(() => {
    hashers = shared ? new HashingThreads(2) : undefined;
  });
  afterEach(() => hashers?.close());
  const deps = (o: Parameters<typeof makeDeps>[1] = {}): DownloadDeps => ({
    ...makeDeps(out, { maxBytes: 64 * 1024 * 1024, ...o }, politeness),
    syncer,
    hashers,
  });

  const url = (path: string) => host.url(path);

  test("a large PDF is stored with the SHA-256 of its bytes, flushed through the syncer", async () => {
    host.pdf("/large.pdf", large);
    const r = await downloadCandidate(deps(), { url: url("/large.pdf"), artifactId: "doi:10.1/large" });
    if (!r.ok) throw new Error(r.message);
    expect(r.file.bytes).toBe(large.length);
    expect(r.file.sha256).toBe(sha256(large));
    expect(new Uint8Array(fs.readFileSync(r.file.path))).toEqual(large);
    expect(fs.statSync(r.file.byIdPath).ino).toBe(fs.statSync(r.file.path).ino);
    expect(tempFiles(out)).toEqual([]);
    // The content, its store directory and the by-id directory; in this fresh library also the
    // parents of the six directories it created (pdf/, pdf/<ab>/, pdf/<ab>/<cd>/, by-id/, by-id/<ef>/,
    // by-id/<ef>/<gh>/).
    expect(syncer.stats()).toEqual({ files: 1, dirs: 8 });
  });

  test("two concurrent large downloads of the same bytes: one stored, one duplicate, both intact", async () => {
    host.pdf("/a.pdf", large).pdf("/b.pdf", large);
    const [a, b] = await Promise.all([
      downloadCandidate(deps(), { url: url("/a.pdf"), artifactId: "a" }),
      downloadCandidate(deps(), { url: url("/b.pdf"), artifactId: "b" }),
    ]);
    expect([a.reason, b.reason].sort()).toEqual(["duplicate_content", "ok"]);
    expect(storedFiles(out)).toHaveLength(1);
    expect(sha256(new Uint8Array(fs.readFileSync(storedFiles(out)[0] as string)))).toBe(sha256(large));
  });

  test("a truncated large body is `truncated`, with no temp file left", async () => {
    host.pdf("/cut.pdf", large).fault("/cut.pdf", { kind: "truncate", afterBytes: 5 * 1024 * 1024 });
    const r = await downloadCandidate(deps(), { url: url("/cut.pdf"), artifactId: "cut" });
    expect(r.reason).toBe("truncated");
    expect(tempFiles(out)).toEqual([]);
    expect(storedFiles(out)).toEqual([]);
  });

  test("a caller abort mid-body ends with the abort's reason; the thread stops before the file closes", async () => {
    host.pdf("/slow.pdf", large).fault("/slow.pdf", { kind: "drip", chunkBytes: 256 * 1024, intervalMs: 5 });
    const ctl = new AbortController();
    const pending = downloadCandidate(deps(), {
      url: url("/slow.pdf"),
      artifactId: "slow",
      signal: ctl.signal,
    });
    // Abort once a few MiB are on disk (the offloaded writes have started).
    const part = join(out, TEMP_DIR, `${urlKey(url("/slow.pdf"))}.part`);
    while (!fs.existsSync(part) || fs.statSync(part).size < 2 * 1024 * 1024) await Bun.sleep(5);
    ctl.abort("lease_lost");
    const r = await pending;
    expect(r.reason).toBe("lease_lost");
    expect(tempFiles(out)).toEqual([]);
    expect(storedFiles(out)).toEqual([]);
  });

  test("a full disk on the offloaded path propagates as the platform's error", async () => {
    host.pdf("/disk.pdf", large);
    fs.mkdirSync(join(out, TEMP_DIR), { recursive: true });
    fs.symlinkSync("/dev/full", join(out, TEMP_DIR, `${urlKey(url("/disk.pdf"))}.part`));
    const attempt = downloadCandidate(deps(), { url: url("/disk.pdf"), artifactId: "disk" });
    await expect(attempt).rejects.toMatchObject({ code: "ENOSPC" });
    expect(tempFiles(out)).toEqual([]);
    expect(storedFiles(out)).toEqual([]);
  });

  test("a re-download with new bytes repoints the by-id link (fast publication hands over to the general path)", async () => {
    const v1 = large.slice();
    const v2 = large.slice();
    v2[100] = (v2[100] as number) ^ 0xff;
    host.pdf("/v.pdf", v1);
    const first = await downloadCandidate(deps(), { url: url("/v.pdf"), artifactId: "doi:10.1/v" });
    host.pdf("/v.pdf", v2);
    const second = await downloadCandidate(deps(), { url: url("/v.pdf"), artifactId: "doi:10.1/v" });
    if (!first.ok || !second.ok) throw new Error("both downloads should succeed");
    expect(second.file.sha256).toBe(sha256(v2));
    expect(second.file.byIdPath).toBe(first.file.byIdPath);
    expect(fs.statSync(second.file.byIdPath).ino).toBe(fs.statSync(second.file.path).ino);
    expect(storedFiles(out)).toHaveLength(2);
    expect(tempFiles(out)).toEqual([]);
  });

  test("many bodies at once, small and large, each get their own digest", async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => {
      const b = (i % 3 === 0 ? large : large.subarray(0, 300_000 + i * 7919)).slice();
      b[50] = i;
      b.set(new TextEncoder().encode("\n%%EOF\n"), b.length - 7);
      host.pdf(`/many-${i}.pdf`, b);
      return b;
    });
    const rs = await Promise.all(
      bodies.map((_, i) => downloadCandidate(deps(), { url: url(`/many-${i}.pdf`), artifactId: `m${i}` })),
    );
    expect(rs.map((r) => (r.ok ? r.file.sha256 : r.reason))).toEqual(bodies.map(sha256));
    expect(tempFiles(out)).toEqual([]);
    // With shared threads every body went through them, the small ones too.
    if (hashers) expect(hashers.bodies).toBe(bodies.length);
  });
});
