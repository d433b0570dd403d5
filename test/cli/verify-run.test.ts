// `report --verify` against the built binary: a library written through two spellings of its path
// (`--out library` and `--out /abs/library`) counts each stored file once, and a missing or damaged
// file makes the command exit 1 (as `sha256sum -c` does), with or without --check.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emptyDir } from "../support/binary.ts";
import { buildSmallLibrary, type SmallLibrary } from "../support/small-library.ts";
import { type SimWeb, startWeb } from "../support/web.ts";

const COUNT = 4;
let web: SimWeb;
let dir: string;
let lib: SmallLibrary;

beforeAll(async () => {
  web = await startWeb();
  dir = emptyDir("docstokg-verify-run-");
  lib = await buildSmallLibrary(web, dir, COUNT);
  // The same works fetched again, the library now named by its absolute path.
  expect(
    (await lib.run(["queue", "requeue", ...lib.urls.map((u) => `url:${u}`), "--out", lib.outDir])).code,
  ).toBe(0);
  expect((await lib.run(["queue", "run", "--drain", "--out", lib.outDir])).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every regular file under `root`, recursively. */
function files(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe("report --verify", () => {
  test("each stored file counts once, whichever spelling of --out wrote or reads the library", async () => {
    for (const out of ["library", lib.outDir, "./library/", `${dir}/../${dir.split("/").pop()}/library`]) {
      const r = await lib.run(["report", "--json", "--verify", "--out", out]);
      expect(r.code, r.stderr).toBe(0);
      const v = JSON.parse(r.stdout).verify;
      expect({ out, ...v }).toEqual({
        out,
        files: COUNT,
        ok: COUNT,
        missing: 0,
        corrupt: 0,
        bytes: v.bytes,
        problems: [],
      });
    }
  }, 60_000);

  test("a corrupt file exits 1 and a missing one exits 1, --check or not", async () => {
    const stored = files(join(lib.outDir, "pdf"));
    expect(stored).toHaveLength(COUNT);
    const [damaged, removed] = stored as [string, string];
    const original = await Bun.file(damaged).bytes();
    const flipped = new Uint8Array(original);
    flipped[100] = (flipped[100] ?? 0) ^ 1;
    writeFileSync(damaged, flipped);
    let r = await lib.run(["report", "--verify", "--out", "library"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("0 stored files missing, 1 corrupt of 4 checked");
    expect(r.stdout).toContain("corrupt"); // the report is still printed

    rmSync(removed);
    // The by-id link still holds the removed copy's bytes: the content-addressed name is what is missing.
    r = await lib.run(["report", "--json", "--verify", "--check", "--out", lib.outDir]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).verify).toMatchObject({ files: COUNT, missing: 1, corrupt: 1 });
    expect(r.stderr).toContain("1 stored file missing, 1 corrupt of 4 checked");
    // Without --verify nothing is re-hashed and the exit code does not depend on the files.
    expect((await lib.run(["report"])).code).toBe(0);
    writeFileSync(damaged, original);
  }, 60_000);
});
