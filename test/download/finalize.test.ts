import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { hostname, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { byIdName, byIdPath, hashFile, libraryPath, publishFile } from "../../src/download/finalize.ts";
import { poolSyncer } from "../../src/download/syncer.ts";
import { claimTempSlot, releaseTempSlot, sweepTempFiles, tempDir } from "../../src/download/temp.ts";

let out: string;
beforeEach(() => {
  out = fs.mkdtempSync(join(tmpdir(), "dl-finalize-"));
});
afterEach(() => fs.rmSync(out, { recursive: true, force: true }));

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
function temp(bytes: Uint8Array): string {
  fs.mkdirSync(tempDir(out), { recursive: true });
  const p = join(tempDir(out), `${Math.random().toString(16).slice(2)}.tmp`);
  fs.writeFileSync(p, bytes);
  return p;
}
function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe("byIdName", () => {
  const hostile = [
    "../../etc/passwd",
    "..",
    ".",
    "/absolute/path",
    "a/../../b",
    "doi:10.1000/..%2F..%2Fx",
    "\0nul\0",
    "C:\\Windows\\system32",
    "a".repeat(5000),
    "",
    "…unicode ünïcödé 论文",
    ".hidden",
    "con",
  ];
  test("hostile ids give plain names inside <out>/by-id/<ab>/<cd>", () => {
    for (const id of hostile) {
      const name = byIdName(id);
      expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      expect(name).not.toContain("..");
      expect(name.length).toBeLessThanOrEqual(80 + 13);
      const p = byIdPath(out, id, "pdf");
      expect(p.startsWith(`${join(resolve(out), "by-id")}/`)).toBe(true);
      // Two shard levels from the id hash the name ends with, then the name itself.
      const [s1, s2, file, ...rest] = p.slice(join(resolve(out), "by-id").length + 1).split("/");
      expect(rest).toEqual([]);
      expect(file).toBe(`${name}.pdf`);
      expect(`${s1}${s2}`).toBe(name.slice(-12, -8));
    }
  });
  test("readable, stable, and distinct for ids that slug alike", () => {
    expect(byIdName("doi:10.1038/nature12373")).toMatch(/^doi_10.1038_nature12373-[0-9a-f]{12}$/);
    expect(byIdName("doi:10.1038/nature12373")).toBe(byIdName("doi:10.1038/nature12373"));
    expect(byIdName("doi:10.1/a b")).not.toBe(byIdName("doi:10.1/a_b"));
    expect(byIdName(`${"x".repeat(100)}1`)).not.toBe(byIdName(`${"x".repeat(100)}2`));
  });
});

describe("publishFile", () => {
  test("stores under <kind>/<sha[0:2]>/<sha[2:4]>/<sha>.<ext>, links by id, removes the temp", async () => {
    const bytes = new TextEncoder().encode("%PDF-1.4 body %%EOF");
    const t = temp(bytes);
    const r = await publishFile({
      outDir: out,
      tempPath: t,
      kind: "pdf",
      sha256: sha(bytes),
      bytes: bytes.length,
      artifactId: "doi:10.1/x",
    });
    expect(r.duplicate).toBe(false);
    const h = sha(bytes);
    expect(r.path).toBe(join(resolve(out), "pdf", h.slice(0, 2), h.slice(2, 4), `${h}.pdf`));
    const name = byIdName("doi:10.1/x");
    expect(r.byIdPath).toBe(
      join(resolve(out), "by-id", name.slice(-12, -10), name.slice(-10, -8), `${name}.pdf`),
    );
    expect(await hashFile(r.path)).toBe(sha(bytes));
    expect(fs.statSync(r.byIdPath).ino).toBe(fs.statSync(r.path).ino);
    expect(fs.existsSync(t)).toBe(false);
  });
  test("a directory it creates is flushed into its parent; names in existing directories flush only their own", async () => {
    const flushed: string[] = [];
    const syncer = { ...poolSyncer, fsyncDir: async (d: string) => void flushed.push(resolve(d)) };
    const publish = (bytes: Uint8Array, artifactId: string) =>
      publishFile({
        outDir: out,
        tempPath: temp(bytes),
        kind: "pdf",
        sha256: sha(bytes),
        bytes: bytes.length,
        artifactId,
        syncer,
      });
    // Every directory a publication creates is flushed into its parent; then both names' directories.
    const expected = (before: Set<string>, r: { path: string; byIdPath: string }) => {
      const want: string[] = [];
      for (const leaf of [dirname(r.path), dirname(r.byIdPath)]) {
        for (let d = leaf; !before.has(d); d = dirname(d)) want.push(dirname(d));
        want.push(leaf);
      }
      return want.sort();
    };
    const dirsNow = () =>
      new Set([
        resolve(out),
        ...fs
          .readdirSync(out, { recursive: true, withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => join(resolve(d.parentPath), d.name)),
      ]);
    let before = dirsNow();
    const r = await publish(new TextEncoder().encode("%PDF-1.4 first %%EOF"), "a");
    // created: pdf/, pdf/<ab>/, pdf/<ab>/<cd>/, by-id/, by-id/<ef>/, by-id/<ef>/<gh>/
    expect(flushed.length).toBe(8);
    expect(flushed.sort()).toEqual(expected(before, r));
    flushed.length = 0;
    before = dirsNow();
    const r2 = await publish(new TextEncoder().encode("%PDF-1.4 second %%EOF"), "b");
    expect(flushed.sort()).toEqual(expected(before, r2));
  });

  test("identical bytes a second time: duplicate, one stored copy, both ids linked", async () => {
    const bytes = new TextEncoder().encode("same bytes");
    const a = await publishFile({
      outDir: out,
      tempPath: temp(bytes),
      kind: "pdf",
      sha256: sha(bytes),
      bytes: bytes.length,
      artifactId: "a",
    });
    const b = await publishFile({
      outDir: out,
      tempPath: temp(bytes),
      kind: "pdf",
      sha256: sha(bytes),
      bytes: bytes.length,
      artifactId: "b",
    });
    expect([a.duplicate, b.duplicate]).toEqual([false, true]);
    expect(allFiles(join(out, "pdf"))).toHaveLength(1);
    expect(fs.statSync(b.byIdPath).ino).toBe(fs.statSync(a.path).ino);
    expect(fs.readdirSync(tempDir(out))).toEqual([]);
  });
  test("a damaged copy (wrong length or same length, wrong bytes) is replaced", async () => {
    const bytes = new TextEncoder().encode("the real content");
    const dest = libraryPath(out, "pdf", sha(bytes));
    fs.mkdirSync(join(dest, ".."), { recursive: true });
    fs.writeFileSync(dest, "short");
    const r = await publishFile({
      outDir: out,
      tempPath: temp(bytes),
      kind: "pdf",
      sha256: sha(bytes),
      bytes: bytes.length,
      artifactId: "a",
    });
    expect(r.duplicate).toBe(false);
    expect(await hashFile(dest)).toBe(sha(bytes));
  });
  test("re-publishing an artifact with new content repoints its by-id link", async () => {
    const one = new TextEncoder().encode("version one");
    const two = new TextEncoder().encode("version two");
    await publishFile({
      outDir: out,
      tempPath: temp(one),
      kind: "pdf",
      sha256: sha(one),
      bytes: one.length,
      artifactId: "a",
    });
    const r = await publishFile({
      outDir: out,
      tempPath: temp(two),
      kind: "pdf",
      sha256: sha(two),
      bytes: two.length,
      artifactId: "a",
    });
    expect(fs.readFileSync(r.byIdPath, "utf8")).toBe("version two");
    expect(fs.readdirSync(join(out, "by-id"))).toHaveLength(1);
  });
  test("libraryPath refuses anything but a hex digest", () => {
    expect(() => libraryPath(out, "pdf", "../../x")).toThrow("SHA-256");
  });
});

describe("temp slots", () => {
  test("the second claim of a URL held by a live download gets a private file", async () => {
    const a = await claimTempSlot(out, "http://h/x.pdf");
    const b = await claimTempSlot(out, "http://h/x.pdf");
    expect(a.sidecar).toBeDefined();
    expect(b.sidecar).toBeUndefined();
    expect(b.part).not.toBe(a.part);
    await releaseTempSlot(a);
    const c = await claimTempSlot(out, "http://h/x.pdf");
    expect(c.part).toBe(a.part);
    await releaseTempSlot(c);
    await releaseTempSlot(b);
    expect(fs.readdirSync(tempDir(out))).toEqual([]);
  });
  test("a slot left by a dead process is taken over with its description; a live one is not", async () => {
    const a = await claimTempSlot(out, "http://h/y.pdf");
    const dead = { pid: 999_999_999, host: hostname(), url: "http://h/y.pdf", etag: '"e"', total: 10 };
    fs.writeFileSync(a.sidecar as string, JSON.stringify(dead));
    const b = await claimTempSlot(out, "http://h/y.pdf");
    expect(b.part).toBe(a.part);
    expect(b.info).toEqual({
      url: "http://h/y.pdf",
      etag: '"e"',
      lastModified: undefined,
      total: 10,
    });
    // b is held by this (live) process now: a third claim must not take it.
    expect((await claimTempSlot(out, "http://h/y.pdf")).sidecar).toBeUndefined();
    await releaseTempSlot(b);
    expect(fs.readdirSync(tempDir(out)).filter((n) => n.endsWith(".json"))).toEqual([]);
  });
  test("a slot owned by another host is never taken over", async () => {
    const a = await claimTempSlot(out, "http://h/z.pdf");
    fs.writeFileSync(a.sidecar as string, JSON.stringify({ pid: 1, host: "some-other-host" }));
    expect((await claimTempSlot(out, "http://h/z.pdf")).sidecar).toBeUndefined();
  });
  test("sweep removes only files older than the threshold", () => {
    fs.mkdirSync(tempDir(out), { recursive: true });
    const old = join(tempDir(out), "old.part");
    const fresh = join(tempDir(out), "fresh.part");
    fs.writeFileSync(old, "x");
    fs.writeFileSync(fresh, "y");
    const now = Date.now();
    fs.utimesSync(old, new Date(now - 10_000), new Date(now - 10_000));
    expect(sweepTempFiles(out, 5_000, now)).toBe(1);
    expect(fs.readdirSync(tempDir(out))).toEqual(["fresh.part"]);
    expect(sweepTempFiles(join(out, "missing"), 5_000, now)).toBe(0);
  });
});
