// The library on a real S3 server (s3rver on loopback), in-process: publication to the
// content-addressed key and the pointer object, an existing object of the same size not uploaded
// again, 503 SlowDown and a reset mid-upload retried to success, reuse of a stored URL by HEAD, a
// store that stays down releasing the job without counting an attempt, and `report --verify` over
// objects (missing, corrupt, sample, since). Never a mock of the client: faults come from a proxy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { contentKey, parseS3Url } from "../../src/library/location.ts";
import { isStoreUnavailable, S3Library } from "../../src/library/s3.ts";
import { resolverSettings } from "../../src/resolve/resolver.ts";
import { decideCommit } from "../../src/runner/decide.ts";
import { resolveAndDownload } from "../../src/runner/pipeline.ts";
import { runJob } from "../../src/runner/worker.ts";
import { openStateDatabase } from "../../src/store/db.ts";
import { queuePolicy, SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { storedUrls } from "../../src/store/stored-urls.ts";
import { verifyLibrary } from "../../src/telemetry/verify.ts";
import { makeClient, testConfig } from "../download/harness.ts";
import { makePdf } from "../support/pdf.ts";
import {
  type FaultProxy,
  S3_KEY,
  S3_SECRET,
  type S3Server,
  startFaultProxy,
  startS3,
} from "../support/s3.ts";
import { tempDir } from "../support/temp.ts";
import { bytesResponse, startWeb } from "../support/web.ts";

const FAST_RETRY = { attempts: 4, baseMs: 5, capMs: 20, timeoutMs: 10_000 };
const web = await startWeb();
let s3: S3Server;
let proxy: FaultProxy;
const dirs: string[] = [];

beforeAll(async () => {
  s3 = await startS3("library");
  proxy = await startFaultProxy(s3.endpoint);
});
afterAll(async () => {
  await web.stop();
  await proxy?.stop();
  await s3?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(prefix: string, concurrency?: number) {
  const dir = tempDir("s3lib");
  dirs.push(dir);
  const config = testConfig();
  config.out_dir = `s3://library/${prefix}`;
  config.state_dir = join(dir, "state");
  config.s3.endpoint = proxy.endpoint;
  config.s3.part_size_mb = 5;
  if (concurrency !== undefined) config.s3.concurrency = concurrency;
  config.resolvers.tiers = [["direct"]];
  const library = new S3Library({
    config,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET, variables: [] },
    retry: FAST_RETRY,
  });
  const db = openStateDatabase(config.state_dir);
  const queue = new SqliteJobQueue(db, queuePolicy(config.queue), { now: Date.now });
  const step = resolveAndDownload({
    config,
    http: makeClient(config),
    settings: resolverSettings(config),
    now: Date.now,
    storedUrls: storedUrls(db),
    library,
    storeRetryMs: 3_600_000,
  });
  const run = async (id: string, url: string) => {
    await queue.enqueue([{ id, pdf_urls: [url] }]);
    const [job] = await queue.lease("test", 1);
    if (!job || job.artifactId !== id) throw new Error(`expected to lease ${id}`);
    return runJob(
      { job, controller: new AbortController() },
      { queue, step, now: Date.now, progressEveryMs: 60_000, onLeaseLost: () => {} },
    );
  };
  return { dir, config, library, db, queue, run };
}

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

async function pdfHost(pdf: Uint8Array<ArrayBuffer>) {
  const host = await web.host();
  host.route("/p.pdf", () => bytesResponse(pdf, { "content-type": "application/pdf" }));
  return { host, url: host.url("/p.pdf") };
}

describe("publishing into S3", () => {
  test("a run stores the object under its SHA-256 key with a pointer naming it; outcome paths are s3:// URLs", async () => {
    proxy.log.length = 0;
    const r = setup("run");
    const pdf = makePdf("s3 work one", { minBytes: 40_000 });
    const { url } = await pdfHost(pdf);
    const outcome = await r.run("doi:10.5555/s3.one", url);
    expect(outcome.commit.kind).toBe("ack");
    const key = contentKey(parseS3Url(r.config.out_dir), "pdf", sha(pdf));
    expect(key).toBe(`run/pdf/${sha(pdf).slice(0, 2)}/${sha(pdf)}.pdf`); // SPEC 14
    expect(new Uint8Array(await s3.client.file(key).arrayBuffer())).toEqual(pdf);
    const pointer = await r.library.readPointer("doi:10.5555/s3.one");
    expect(pointer).toEqual({
      artifact_id: "doi:10.5555/s3.one",
      sha256: sha(pdf),
      key,
      bytes: pdf.length,
      content_type: "application/pdf",
    });
    const row = r.db.query<{ path: string }, []>("SELECT path FROM outcomes").get();
    expect(row?.path).toBe(`s3://library/${key}`);
    // No temp file is left in state_dir/.tmp.
    expect([...new Bun.Glob("*").scanSync(join(r.config.state_dir, ".tmp"))]).toEqual([]);

    // A second work citing the same URL reuses the object (HEAD only) with its own pointer.
    proxy.log.length = 0;
    const again = await r.run("doi:10.5555/s3.two", url);
    expect(again.commit.kind === "ack" && again.commit.outcome.reason).toBe("duplicate_content");
    expect(proxy.log.some((l) => l.method === "PUT" && l.path.includes(sha(pdf)))).toBe(false);
    expect((await r.library.readPointer("doi:10.5555/s3.two"))?.key).toBe(key);
    r.db.close();
  });

  test("an existing object of the same size is not uploaded again", async () => {
    const r = setup("dup");
    const pdf = makePdf("already there", { minBytes: 10_000 });
    const key = contentKey(parseS3Url(r.config.out_dir), "pdf", sha(pdf));
    await s3.client.write(key, pdf);
    const temp = join(r.dir, "t.pdf");
    writeFileSync(temp, pdf);
    proxy.log.length = 0;
    const p = await r.library.publish({
      tempPath: temp,
      kind: "pdf",
      sha256: sha(pdf),
      bytes: pdf.length,
      artifactId: "a",
      contentType: "application/pdf",
    });
    expect(p.duplicate).toBe(true);
    expect(proxy.log.filter((l) => l.method === "PUT").map((l) => l.path)).toEqual([
      expect.stringContaining("/by-id/"),
    ]);
    r.db.close();
  });

  test("503 SlowDown and a connection reset mid-upload are retried until the object is stored", async () => {
    const r = setup("faults");
    const big = new Uint8Array(6 * 1024 * 1024 + 123).map((_, i) => (i * 7) & 0xff);
    const temp = join(r.dir, "big.pdf");
    writeFileSync(temp, big);
    proxy.log.length = 0;
    proxy.slowDown(2);
    proxy.resetUploads(1);
    const p = await r.library.publish({
      tempPath: temp,
      kind: "pdf",
      sha256: sha(big),
      bytes: big.length,
      artifactId: "big",
      contentType: "application/pdf",
    });
    expect(p.duplicate).toBe(false);
    expect(proxy.log.filter((l) => l.fault === "slowdown")).toHaveLength(2);
    expect(proxy.log.filter((l) => l.fault === "reset")).toHaveLength(1);
    const key = contentKey(parseS3Url(r.config.out_dir), "pdf", sha(big));
    expect(sha(new Uint8Array(await s3.client.file(key).arrayBuffer()))).toBe(sha(big));
    r.db.close();
  });

  test("a store that stays down: the job is released without counting an attempt (store_unavailable)", async () => {
    const r = setup("down");
    const pdf = makePdf("store down", { minBytes: 10_000 });
    const { url } = await pdfHost(pdf);
    proxy.setDown(true);
    try {
      const outcome = await r.run("doi:10.5555/s3.down", url);
      expect(outcome.commit.kind).toBe("release");
    } finally {
      proxy.setDown(false);
    }
    const job = r.db.query<{ state: string; attempts: number }, []>("SELECT state, attempts FROM jobs").get();
    expect(job).toEqual({ state: "queued", attempts: 0 });
    const tries = r.db.query<{ reason: string }, []>("SELECT reason FROM attempts").all();
    expect(tries).toEqual([{ reason: "store_unavailable" }]);
    expect(r.db.query("SELECT count(*) AS n FROM outcomes").get()).toEqual({ n: 0 });
    r.db.close();
  });

  test("store errors: after the retries a StoreUnavailableError; decideCommit releases it", async () => {
    const r = setup("err");
    proxy.setDown(true);
    try {
      const e = await r.library.headSize("err/x").catch((x) => x);
      expect(isStoreUnavailable(e)).toBe(true);
      expect(String(e.message)).toContain("stat err/x failed");
    } finally {
      proxy.setDown(false);
    }
    const c = decideCommit(
      {
        ok: false,
        reason: "store_unavailable",
        transient: true,
        message: "down",
        retryAt: 5,
        deferred: false,
        attempts: [],
      },
      undefined,
    );
    expect(c).toEqual({ kind: "release", until: 5, attempts: [], progress: undefined });
    r.db.close();
  });
});

const MiB = 1024 * 1024;

/** A temp file of `bytes` patterned bytes (seeded, so two files differ) and its request to publish. */
function tempFile(dir: string, name: string, bytes: number, seed: number) {
  const data = new Uint8Array(bytes).map((_, i) => (i * 31 + seed * 7 + (i >> 12)) & 0xff);
  const tempPath = join(dir, name);
  writeFileSync(tempPath, data);
  return {
    data,
    request: {
      tempPath,
      kind: "pdf" as const,
      sha256: sha(data),
      bytes,
      artifactId: name,
      contentType: "application/pdf",
    },
  };
}

describe("uploads: part sizes, parts in memory, requests per object", () => {
  test("a file of several parts goes in parts of exactly part_size_mb, only the last smaller", async () => {
    const r = setup("parts");
    const { data, request } = tempFile(r.dir, "parts.pdf", 3 * 5 * MiB + MiB / 2 + 17, 1);
    proxy.parts.length = 0;
    proxy.tooSmall.length = 0;
    const p = await r.library.publish(request);
    expect(p.duplicate).toBe(false);
    expect(proxy.tooSmall).toEqual([]);
    const ids = new Set(proxy.parts.map((x) => x.uploadId));
    expect(ids.size).toBe(1);
    expect(proxy.parts.map((x) => [x.partNumber, x.bytes]).sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))).toEqual(
      [
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, 5 * MiB],
        [4, MiB / 2 + 17],
      ],
    );
    const key = contentKey(parseS3Url(r.config.out_dir), "pdf", sha(data));
    expect(sha(new Uint8Array(await s3.client.file(key).arrayBuffer()))).toBe(sha(data));
    r.db.close();
  });

  test("two uploads at once hold no more parts than s3.concurrency between them", async () => {
    const r = setup("budget", 2);
    const a = tempFile(r.dir, "a.pdf", 2 * 5 * MiB + 3 * MiB, 2);
    const b = tempFile(r.dir, "b.pdf", 2 * 5 * MiB + 3 * MiB, 3);
    proxy.parts.length = 0;
    proxy.tooSmall.length = 0;
    proxy.maxPartsInFlight = 0;
    await Promise.all([r.library.publish(a.request), r.library.publish(b.request)]);
    expect(new Set(proxy.parts.map((x) => x.uploadId)).size).toBe(2);
    expect(proxy.parts).toHaveLength(6);
    expect(proxy.maxPartsInFlight).toBeGreaterThanOrEqual(1);
    expect(proxy.maxPartsInFlight).toBeLessThanOrEqual(2);
    expect(proxy.tooSmall).toEqual([]);
    const loc = parseS3Url(r.config.out_dir);
    for (const f of [a, b])
      expect(
        sha(new Uint8Array(await s3.client.file(contentKey(loc, "pdf", sha(f.data))).arrayBuffer())),
      ).toBe(sha(f.data));
    r.db.close();
  });

  test("a file below part_size_mb: HEAD for an existing copy, one PUT, the pointer PUT; no HEAD after", async () => {
    const r = setup("requests");
    const { data, request } = tempFile(r.dir, "small.pdf", 3 * MiB + 5, 4);
    proxy.log.length = 0;
    await r.library.publish(request);
    const key = contentKey(parseS3Url(r.config.out_dir), "pdf", sha(data));
    expect(proxy.log.map((l) => [l.method, l.path.includes("/by-id/") ? "pointer" : l.path])).toEqual([
      ["HEAD", `/library/${key}`],
      ["PUT", `/library/${key}`],
      ["PUT", "pointer"],
    ]);
    expect((await s3.client.file(key).stat()).size).toBe(data.length);
    r.db.close();
  });

  test("a temp file shorter than announced is refused before anything is sent", async () => {
    const r = setup("short");
    const { request } = tempFile(r.dir, "short.pdf", 1000, 5);
    proxy.log.length = 0;
    const e = await r.library.publish({ ...request, bytes: 2000 }).catch((x) => x);
    expect(isStoreUnavailable(e)).toBe(true);
    expect(String(e.message)).toContain("1000 bytes on disk, expected 2000");
    expect(proxy.log.filter((l) => l.method === "PUT")).toEqual([]);
    r.db.close();
  });
});

describe("report --verify over objects", () => {
  test("exit-worthy problems: a corrupt object (same size, other bytes) and a missing one; sample and since", async () => {
    const r = setup("verify");
    const pdfs = [1, 2, 3].map((i) => makePdf(`verify ${i}`, { minBytes: 20_000 }));
    for (const [i, pdf] of pdfs.entries()) {
      const { url } = await pdfHost(pdf);
      expect((await r.run(`doi:10.5555/v${i}`, url)).commit.kind).toBe("ack");
    }
    const opts = { outDir: r.config.out_dir, library: r.library, concurrency: 2 };
    const clean = await verifyLibrary(r.db, opts);
    expect(clean).toMatchObject({ files: 3, ok: 3, missing: 0, corrupt: 0 });

    const loc = parseS3Url(r.config.out_dir);
    const bad = pdfs[0] as Uint8Array;
    const flipped = new Uint8Array(bad);
    flipped[100] = (flipped[100] as number) ^ 0xff;
    await s3.client.write(contentKey(loc, "pdf", sha(bad)), flipped);
    await s3.client.delete(contentKey(loc, "pdf", sha(pdfs[1] as Uint8Array)));
    const v = await verifyLibrary(r.db, opts);
    expect(v).toMatchObject({ files: 3, ok: 1, missing: 1, corrupt: 1 });
    expect(v.problems.find((p) => p.problem === "corrupt")?.path).toBe(
      `s3://library/${contentKey(loc, "pdf", sha(bad))}`,
    );

    // A sample draws each file with its probability; since leaves older outcomes out.
    let draws = 0;
    const sampled = await verifyLibrary(r.db, {
      ...opts,
      sample: 0.5,
      random: () => (draws++ % 2 ? 0.9 : 0.1),
    });
    expect(sampled.files).toBe(2);
    const none = await verifyLibrary(r.db, { ...opts, since: Date.now() + 60_000 });
    expect(none.files).toBe(0);
    r.db.close();
  });
});
