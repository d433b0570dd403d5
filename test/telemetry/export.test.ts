// manifest export: CSV through Python's csv module (a real RFC 4180 reader) must give back exactly
// the manifest's fields, titles with commas, quotes and newlines included; JSONL is the manifest line
// format; filters; backpressure and an early-closing reader.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { PassThrough, Writable } from "node:stream";
import {
  CSV_COLUMNS,
  csvField,
  csvRecord,
  exportOutcomes,
  parseSince,
  SinkClosed,
} from "../../src/telemetry/export.ts";
import { tempDir } from "../support/temp.ts";
import { buildReportFixture, type ReportFixture } from "./report-fixture.ts";

let root: string;
let fx: ReportFixture;
beforeEach(() => {
  root = tempDir("export");
  fx = buildReportFixture(root);
});
afterEach(() => {
  fx.db.close();
  rmSync(root, { recursive: true, force: true });
});

async function exportText(
  ...args: Parameters<typeof exportOutcomes> extends [unknown, unknown, ...infer R] ? R : never
) {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  const n = await exportOutcomes(fx.db, sink, ...args);
  sink.end();
  return { n, text: Buffer.concat(chunks).toString("utf8") };
}

/** Parse CSV text with Python's csv module; rows as lists of strings. */
async function pythonCsv(text: string): Promise<string[][]> {
  const proc = Bun.spawn(
    [
      "python3",
      "-c",
      "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))))",
      `${root}/out.csv`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  await Bun.write(`${root}/out.csv`, text);
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`python csv failed: ${err}`);
  return JSON.parse(out) as string[][];
}

describe("csv fields (RFC 4180)", () => {
  test("quoted only when needed; quotes doubled; null is empty", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("line\nbreak")).toBe('"line\nbreak"');
    expect(csvField("cr\rx")).toBe('"cr\rx"');
    expect(csvField(null)).toBe("");
    expect(csvField(42)).toBe("42");
    expect(csvField({ a: "b,c" })).toBe('"{""a"":""b,c""}"');
    expect(csvRecord(["a", "b"])).toBe("a,b\r\n");
  });
});

describe("manifest export", () => {
  test("CSV round-trips through a real CSV parser to the manifest's JSONL fields", async () => {
    const csv = await exportText("csv");
    const jsonl = await exportText("jsonl");
    expect(csv.n).toBe(10);
    expect(jsonl.n).toBe(10);
    const rows = await pythonCsv(csv.text);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(11);
    const lines = jsonl.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown> & { work: Record<string, unknown> });
    lines.forEach((line, i) => {
      const flat: Record<string, unknown> = { ...line, ...line.work };
      const expected = CSV_COLUMNS.map((c) => {
        const v = flat[c];
        return v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
      });
      expect(rows[i + 1]).toEqual(expected);
    });
    const two = rows.find((r) => r[CSV_COLUMNS.indexOf("artifact_id")] === "doi:10.1/two");
    expect(two?.[CSV_COLUMNS.indexOf("title")]).toBe('Commas, "quotes"\nand a newline');
    expect(two?.[CSV_COLUMNS.indexOf("year")]).toBe("2020");
    const five = rows.find((r) => r[CSV_COLUMNS.indexOf("artifact_id")] === "doi:10.1/five");
    expect(five?.[CSV_COLUMNS.indexOf("meta")]).toBe('{"batch":"b,1"}');
  });

  test("JSONL lines are the manifest format: version 1, seq order, secrets in URLs redacted", async () => {
    const { text } = await exportText("jsonl");
    const lines = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(lines.every((l) => l.v === 2)).toBe(true);
    expect(lines[0].url).toBe("https://files.example/1.pdf?api_key=REDACTED");
    expect(text).not.toContain("secret");
    expect(lines[0].finished_at).toBe("2026-01-10T12:00:01.000Z");
  });

  test("--state and --since filter; both together", async () => {
    expect((await exportText("jsonl", { state: "error" })).n).toBe(3);
    expect((await exportText("jsonl", { state: "done" })).n).toBe(6);
    // finished at T0+5000 or later: jobs 3, 6, 7, 8, 9 and job 5's second outcome.
    const since = Date.UTC(2026, 0, 10, 12, 0, 5);
    expect((await exportText("jsonl", { since })).n).toBe(6);
    const both = await exportText("csv", { since, state: "done" });
    expect(both.n).toBe(2);
    expect((await pythonCsv(both.text)).length).toBe(3);
  });

  test("pages past the batch size in seq order and waits for drain (backpressure)", async () => {
    const insert = fx.db.query(
      "INSERT INTO outcomes (job_id, artifact_id, state, reason, finished_at, attempts) VALUES (10, 'doi:10.1/ten', 'error', 'timeout', ?, 1)",
    );
    fx.db.transaction(() => {
      for (let i = 0; i < 2500; i++) insert.run(Date.UTC(2026, 0, 12) + i);
    })();
    let drains = 0;
    let last = 0;
    let ordered = true;
    let pending = "";
    // A slow consumer with a tiny buffer: write() says "full" after every chunk.
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _enc, done) {
        pending += chunk.toString();
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const l of lines) {
          const seq = JSON.parse(l).seq as number;
          if (seq <= last) ordered = false;
          last = seq;
        }
        setTimeout(done, 1);
      },
    });
    slow.on("drain", () => drains++);
    const n = await exportOutcomes(fx.db, slow, "jsonl");
    expect(n).toBe(2510);
    expect(ordered).toBe(true);
    expect(drains).toBeGreaterThanOrEqual(3);
  });

  test("a destination that closes early stops the export with SinkClosed", async () => {
    const insert = fx.db.query(
      "INSERT INTO outcomes (job_id, artifact_id, state, reason, finished_at, attempts) VALUES (10, 'doi:10.1/ten', 'error', 'timeout', 1, 1)",
    );
    fx.db.transaction(() => {
      for (let i = 0; i < 3000; i++) insert.run();
    })();
    const sink = new Writable({
      highWaterMark: 16,
      write(_c, _e, done) {
        setTimeout(() => {
          sink.destroy();
          done();
        }, 1);
      },
    });
    await expect(exportOutcomes(fx.db, sink, "jsonl")).rejects.toBeInstanceOf(SinkClosed);
  });
});

describe("--since", () => {
  test("dates and date-times, UTC unless zoned", () => {
    expect(parseSince("2026-01-31")).toBe(Date.UTC(2026, 0, 31));
    expect(parseSince("2026-01-31T12:30:00Z")).toBe(Date.UTC(2026, 0, 31, 12, 30));
    expect(parseSince("2026-01-31T12:30")).toBe(Date.UTC(2026, 0, 31, 12, 30));
    expect(parseSince("2026-01-31 12:30:15.5")).toBe(Date.UTC(2026, 0, 31, 12, 30, 15, 500));
    expect(parseSince("2026-01-31T12:30:00+02:00")).toBe(Date.UTC(2026, 0, 31, 10, 30));
  });
  test("anything else is refused", () => {
    for (const bad of ["yesterday", "2026-13-01", "1700000000000", "2026-01-31T25:00Z", ""]) {
      expect(parseSince(bad)).toBeNull();
    }
  });
});
