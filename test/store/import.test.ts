import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { PassThrough } from "node:stream";
import { gzipSync } from "node:zlib";
import { defaultConfig } from "../../src/config/schema.ts";
import { openDatabase } from "../../src/store/db.ts";
import { type ImportOptions, type InvalidLine, importStream } from "../../src/store/import.ts";
import { checkRejectsPath, RejectsFile, RejectsPathError } from "../../src/store/rejects-file.ts";
import { sqliteOutboxStore } from "../../src/store/sqlite/outbox.ts";
import { queuePolicy, SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { exportOutcomes } from "../../src/telemetry/export.ts";
import { manifestLine } from "../../src/telemetry/manifest.ts";
import { fixtureText } from "../support/fixtures.ts";
import { tempDir } from "../support/temp.ts";

let dir: string;
let queue: SqliteJobQueue;

beforeEach(() => {
  dir = tempDir("import");
  queue = new SqliteJobQueue(openDatabase(`${dir}/queue.db`), queuePolicy(defaultConfig().queue), {
    now: () => 1_000,
  });
});
afterEach(() => {
  queue.db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function importBytes(bytes: Uint8Array | string, options: Partial<ImportOptions> = {}) {
  const invalid: InvalidLine[] = [];
  const source = new Blob([typeof bytes === "string" ? bytes : new Uint8Array(bytes)]).stream();
  const summary = await importStream(queue, source, {
    format: "auto",
    rejectsPath: `${dir}/in.rejects`,
    onInvalid: (l) => invalid.push(l),
    ...options,
  });
  return { summary, invalid };
}

const oaWork = fixtureText("openalex-work-oa.json");

const MIXED = [
  "# a comment",
  "10.1038/nature12373",
  "",
  '{"doi":"10.1/a","pdf_urls":["https://example.org/a.pdf"],"batch":7}',
  "   ",
  "not an identifier",
  JSON.stringify(JSON.parse(oaWork)),
  "https://doi.org/10.1186/1744-8603-1-8",
  '{"doi":"broken"}',
  "{oops",
  "PMC3531190",
].join("\n");

describe("importStream", () => {
  test("mixed formats: counts, invalid lines with numbers and reasons, rejects file holds them whole", async () => {
    const { summary, invalid } = await importBytes(MIXED);
    expect(summary).toMatchObject({ lines: 11, added: 4, duplicate: 1, invalid: 3, readError: null });
    expect(summary.rejectsPath).toBe(`${dir}/in.rejects`);
    expect(invalid.map((l) => l.lineNo)).toEqual([6, 9, 10]);
    expect(invalid[1]?.reason).toContain("doi: expected a DOI");
    expect(invalid[2]?.reason).toBe("not valid JSON");
    expect(readFileSync(`${dir}/in.rejects`, "utf8")).toBe('not an identifier\n{"doi":"broken"}\n{oops\n');
    const job = await queue.show("doi:10.1/a");
    expect(job?.job.artifact.meta).toEqual({ batch: 7 });
    // The OpenAlex record and the bare DOI line are one job.
    expect((await queue.show("doi:10.1186/1744-8603-1-8"))?.job.artifact.openalex).toBe("W2144516619");
  });

  test("importing the same input twice adds nothing", async () => {
    await importBytes(MIXED);
    const { summary } = await importBytes(MIXED);
    expect(summary).toMatchObject({ added: 0, duplicate: 5, invalid: 3 });
    expect((await queue.stats()).total).toBe(4);
  });

  test("gzip input, committed in batches", async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `10.5555/${i}`).join("\n");
    const { summary } = await importBytes(gzipSync(lines), { batchSize: 333 });
    expect(summary).toMatchObject({ lines: 5000, added: 5000, invalid: 0, rejectsPath: null });
    expect((await queue.stats()).counts.queued).toBe(5000);
  });

  test("binary garbage and invalid UTF-8 become invalid lines; valid lines around them are kept", async () => {
    const garbage = new Uint8Array(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
    const input = Buffer.concat([
      Buffer.from("10.1/before\n"),
      Buffer.from(garbage),
      Buffer.from("\n"),
      Buffer.from([0xc3, 0x28, 0x0a]),
      Buffer.from("10.1/after\n"),
    ]);
    const { summary, invalid } = await importBytes(input);
    expect(summary.added).toBe(2);
    expect(summary.invalid).toBeGreaterThan(0);
    expect(invalid.some((l) => l.reason === "not valid UTF-8")).toBe(true);
    expect(await queue.show("doi:10.1/before")).not.toBeNull();
    expect(await queue.show("doi:10.1/after")).not.toBeNull();
    // Every invalid line is in the rejects file byte for byte.
    expect(readFileSync(`${dir}/in.rejects`).includes(Buffer.from([0xc3, 0x28, 0x0a]))).toBe(true);
  });

  test("a 10 MB line is one invalid line, written whole to the rejects file; import goes on", async () => {
    const huge = `{"doi":"10.1/huge","title":"${"z".repeat(10 * 1024 * 1024)}"}`;
    const { summary, invalid } = await importBytes(`10.1/a\n${huge}\n10.1/b\n`);
    expect(summary).toMatchObject({ added: 2, invalid: 1 });
    expect(invalid[0]).toEqual({ lineNo: 2, reason: "line longer than 1048576 bytes" });
    expect(readFileSync(`${dir}/in.rejects`, "utf8")).toBe(`${huge}\n`);
  });

  test("a truncated gzip stops with a clear reason after committing what was read", async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `10.7777/${i}`).join("\n");
    const gz = gzipSync(lines);
    const { summary } = await importBytes(gz.subarray(0, Math.floor(gz.length * 0.6)));
    expect(summary.readError).toContain("damaged or truncated");
    expect(summary.added).toBeGreaterThan(10_000);
    expect(summary.added).toBeLessThan(50_000);
    expect((await queue.stats()).total).toBe(summary.added);
  });

  test("a default priority applies to works without one", async () => {
    await importBytes('10.1/p\n{"doi":"10.1/q","priority":9}\n', { priority: 3 });
    expect((await queue.show("doi:10.1/p"))?.job.priority).toBe(3);
    expect((await queue.show("doi:10.1/q"))?.job.priority).toBe(9);
  });

  test("--format openalex rejects lines that are not OpenAlex works", async () => {
    const { summary, invalid } = await importBytes(`${JSON.stringify(JSON.parse(oaWork))}\n10.1/x\n`, {
      format: "openalex",
    });
    expect(summary).toMatchObject({ added: 1, invalid: 1 });
    expect(invalid[0]?.lineNo).toBe(2);
  });

  test("a database failure is an error of its own, not a damaged input", async () => {
    const dir2 = tempDir("import-closed");
    const db = openDatabase(`${dir2}/queue.db`);
    const closed = new SqliteJobQueue(db, queuePolicy(defaultConfig().queue), { now: () => 1_000 });
    db.close();
    const run = importStream(closed, new Blob(["10.1/a\n"]).stream(), {
      format: "auto",
      rejectsPath: `${dir2}/r`,
    });
    await expect(run).rejects.toThrow();
    rmSync(dir2, { recursive: true, force: true });
  });

  test("no rejects file is created when every line is valid", async () => {
    const { summary } = await importBytes("10.1/ok\n");
    expect(summary.rejectsPath).toBeNull();
    expect(existsSync(`${dir}/in.rejects`)).toBe(false);
  });
});

describe("the rejects file", () => {
  test("a second import leaves only its own invalid lines; a clean one removes the old file", async () => {
    await importBytes("bad one\nbad two\nbad three\n");
    await importBytes("10.1/ok\nstill bad\n");
    expect(readFileSync(`${dir}/in.rejects`, "utf8")).toBe("still bad\n");
    const { summary } = await importBytes("10.1/ok2\n");
    expect(summary.rejectsPath).toBeNull();
    expect(existsSync(`${dir}/in.rejects`)).toBe(false);
    // No temp file is left beside it.
    expect(readdirSync(dir).filter((name) => name.includes("rejects"))).toEqual([]);
  });

  test("a symbolic link at the destination is refused before anything is imported; its target is untouched", async () => {
    writeFileSync(`${dir}/victim`, "precious\n");
    symlinkSync(`${dir}/victim`, `${dir}/in.rejects`);
    const run = importBytes("10.1/ok\nbad line\n");
    await expect(run).rejects.toBeInstanceOf(RejectsPathError);
    await expect(importBytes("10.1/ok\nbad line\n")).rejects.toThrow(
      `rejects file ${dir}/in.rejects: is a symbolic link`,
    );
    expect(readFileSync(`${dir}/victim`, "utf8")).toBe("precious\n");
    expect(lstatSync(`${dir}/in.rejects`).isSymbolicLink()).toBe(true);
    expect((await queue.stats()).total).toBe(0);
  });

  test("a link planted during the import is replaced by the rename, never written through", async () => {
    writeFileSync(`${dir}/victim`, "precious\n");
    const rejects = new RejectsFile(`${dir}/in.rejects`);
    rejects.write("bad line");
    symlinkSync(`${dir}/victim`, `${dir}/in.rejects`);
    rejects.commit();
    expect(readFileSync(`${dir}/victim`, "utf8")).toBe("precious\n");
    expect(lstatSync(`${dir}/in.rejects`).isFile()).toBe(true);
    expect(readFileSync(`${dir}/in.rejects`, "utf8")).toBe("bad line\n");
  });

  test("a directory at the destination is refused", () => {
    mkdirSync(`${dir}/in.rejects`);
    expect(() => checkRejectsPath(`${dir}/in.rejects`)).toThrow("is a directory");
  });
});

describe("meta keys named like Object.prototype members", () => {
  test("survive import, the store, the manifest and manifest export (JSONL and CSV)", async () => {
    const line = JSON.stringify({ doi: "10.1/proto", title: "T" }).replace(
      /}$/,
      ',"__proto__":{"polluted":true},"constructor":"c","toString":"s","meta":{"__proto__":"m","hasOwnProperty":1,"valueOf":[2]}}',
    );
    const { summary } = await importBytes(`${line}\n`);
    expect(summary).toMatchObject({ added: 1, invalid: 0 });
    const expectedJson =
      '{"__proto__":"m","hasOwnProperty":1,"valueOf":[2],"constructor":"c","toString":"s"}';
    const shown = await queue.show("doi:10.1/proto");
    expect(JSON.stringify(shown?.job.artifact.meta)).toBe(expectedJson);
    expect(Object.keys(shown?.job.artifact.meta ?? {})).toEqual(Object.keys(JSON.parse(expectedJson)));
    // Nothing was polluted on the way.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const [job] = await queue.lease("t", 1);
    if (!job) throw new Error("nothing leased");
    await queue.ack(job.id, job.token, { state: "done", reason: "ok" });
    const [outcome] = sqliteOutboxStore(queue.db).outcomesAfter(0, 10);
    if (!outcome) throw new Error("no outcome");
    expect(JSON.stringify(JSON.parse(manifestLine(outcome)).meta)).toBe(expectedJson);
    for (const format of ["jsonl", "csv"] as const) {
      const sink = new PassThrough();
      const chunks: Buffer[] = [];
      sink.on("data", (c: Buffer) => chunks.push(c));
      await exportOutcomes(queue.db, sink, format);
      const text = Buffer.concat(chunks).toString("utf8");
      expect(text).toContain(format === "csv" ? expectedJson.replaceAll('"', '""') : expectedJson);
    }
  });
});
