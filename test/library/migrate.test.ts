// The library layout and its migration. Pure path rules; then, against the built binary, a library
// turned back into the legacy layout: a runner reuses its stored URLs as they are, `library migrate`
// is stopped halfway and killed, run again to the end, and `report --verify` passes afterwards.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  byIdName,
  byIdShard,
  legacyPath,
  shardedPath,
  storedPathCandidates,
} from "../../src/library/layout.ts";
import { builtBinary, emptyDir } from "../support/binary.ts";
import { buildSmallLibrary, type SmallLibrary } from "../support/small-library.ts";
import { type SimWeb, startWeb } from "../support/web.ts";

const SHA = `ab${"c".repeat(62)}`;

describe("layout paths", () => {
  test("legacy and sharded content paths map onto each other; nothing else is touched", () => {
    expect(shardedPath(`pdf/ab/${SHA}.pdf`)).toBe(`pdf/ab/cc/${SHA}.pdf`);
    expect(shardedPath(`/srv/lib/xml/ab/${SHA}.xml`)).toBe(`/srv/lib/xml/ab/cc/${SHA}.xml`);
    expect(legacyPath(`pdf/ab/cc/${SHA}.pdf`)).toBe(`pdf/ab/${SHA}.pdf`);
    for (const p of [
      `pdf/ab/cc/${SHA}.pdf`, // already sharded
      `pdf/cd/${SHA}.pdf`, // shard that is not the digest's
      `pdf/ab/${SHA}.xml`, // extension of another kind
      `by-id/doi_10.1_x-0123456789ab.pdf`,
      `mypdf/ab/${SHA}.pdf`,
    ]) {
      expect(shardedPath(p)).toBeNull();
    }
    expect(storedPathCandidates(`pdf/ab/${SHA}.pdf`)).toEqual([`pdf/ab/${SHA}.pdf`, `pdf/ab/cc/${SHA}.pdf`]);
    expect(storedPathCandidates("by-id/x.pdf")).toEqual(["by-id/x.pdf"]);
  });

  test("a by-id name's shard comes from the id hash it ends with", () => {
    const name = byIdName("doi:10.1038/nature12373");
    const h = createHash("sha256").update("doi:10.1038/nature12373").digest("hex");
    expect(byIdShard(`${name}.pdf`)).toBe(`${h.slice(0, 2)}/${h.slice(2, 4)}`);
    expect(byIdShard("notes.txt")).toBeNull();
    expect(byIdShard(`${name}.pdf.abc123.new`)).toBeNull();
  });
});

let web: SimWeb;
let dir: string;
let lib: SmallLibrary;
let binary: string;

/** Every file under `root` (relative paths), recursively. */
function files(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => join(d.parentPath, d.name).slice(root.length + 1))
    .sort();
}

const LEGACY_CONTENT = /^(pdf|xml|html)\/[0-9a-f]{2}\/[0-9a-f]{64}\.\w+$/;
const SHARDED_CONTENT = /^(pdf|xml|html)\/[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.\w+$/;
const LEGACY_BY_ID = /^by-id\/[^/]+$/;

/** Moves a sharded library back into the legacy layout and rewrites its records to match. */
function toLegacyLayout(outDir: string, stateDir: string): void {
  for (const rel of files(outDir)) {
    const legacy = legacyPath(rel) ?? (rel.startsWith("by-id/") ? `by-id/${rel.split("/").pop()}` : null);
    if (legacy && legacy !== rel) renameSync(join(outDir, rel), join(outDir, legacy));
  }
  const db = new Database(join(stateDir, "queue.db"));
  for (const table of ["outcomes", "stored_urls"]) {
    for (const r of db
      .query<{ path: string }, []>(`SELECT DISTINCT path FROM ${table} WHERE path IS NOT NULL`)
      .all()) {
      db.query(`UPDATE ${table} SET path = ?1 WHERE path = ?2`).run(legacyPath(r.path) ?? r.path, r.path);
    }
  }
  db.close();
}

function recordedPaths(stateDir: string): string[] {
  const db = new Database(join(stateDir, "queue.db"), { readonly: true });
  try {
    return db
      .query<{ path: string }, []>(
        "SELECT path FROM outcomes WHERE path IS NOT NULL UNION ALL SELECT path FROM stored_urls",
      )
      .all()
      .map((r) => r.path);
  } finally {
    db.close();
  }
}

/** Runs one more work citing `url` (another artifact id) and answers its outcome reason. */
async function reuseRun(url: string, id: string): Promise<string> {
  const artifact = JSON.stringify({ id, pdf_urls: [url] });
  expect((await lib.run(["queue", "enqueue", "--json", artifact])).code).toBe(0);
  const ran = await lib.run(["queue", "run", "--drain"]);
  expect(ran.code, ran.stderr).toBe(0);
  const show = await lib.run(["queue", "show", id, "--json"]);
  return JSON.parse(show.stdout).outcomes.at(-1).reason;
}

beforeAll(async () => {
  web = await startWeb();
  dir = emptyDir("docstokg-migrate-");
  lib = await buildSmallLibrary(web, dir, 3);
  binary = await builtBinary();
  toLegacyLayout(lib.outDir, lib.stateDir);
}, 120_000);

afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe("a library in the legacy layout", () => {
  test("is read as it is: a runner reuses a stored URL with no request, and it verifies", async () => {
    expect(files(lib.outDir).filter((f) => LEGACY_CONTENT.test(f))).toHaveLength(3);
    expect(files(lib.outDir).filter((f) => SHARDED_CONTENT.test(f))).toEqual([]);
    const url = lib.urls[0] as string;
    const path = new URL(url).pathname;
    const before = lib.host.hits(path).length;
    expect(await reuseRun(url, "other:legacy")).toBe("duplicate_content");
    expect(lib.host.hits(path).length).toBe(before);
    // Its by-id link is in the sharded by-id tree, on the legacy copy's inode (no second copy).
    expect(files(lib.outDir).filter((f) => /\.pdf$/.test(f) && !f.startsWith("by-id/"))).toHaveLength(3);
    const verify = await lib.run(["report", "--json", "--verify"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).verify).toMatchObject({ files: 3, ok: 3 });
  }, 60_000);

  test("library migrate, stopped halfway and killed, then run again: everything moved once, records follow, verify passes", async () => {
    // Enough legacy files that the first progress record comes long before the end.
    for (let i = 0; i < 1500; i++) {
      const data = randomBytes(64);
      const sha = createHash("sha256").update(data).digest("hex");
      const rel = `pdf/${sha.slice(0, 2)}/${sha}.pdf`;
      mkdirSync(dirname(join(lib.outDir, rel)), { recursive: true });
      writeFileSync(join(lib.outDir, rel), data);
      linkSync(join(lib.outDir, rel), join(lib.outDir, "by-id", `${byIdName(`pad:${i}`)}.pdf`));
    }
    const legacyBefore = files(lib.outDir).filter(
      (f) => LEGACY_CONTENT.test(f) || LEGACY_BY_ID.test(f),
    ).length;
    const proc = Bun.spawn(
      [binary, "library", "migrate", "--batch", "10", "--log-format", "json", "--config", lib.configFile],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
        stdout: "ignore",
        stderr: "pipe",
      },
    );
    const reader = proc.stderr.getReader();
    let text = "";
    while (!text.includes("migrating the library")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`migrate ended before its first progress record:\n${text}`);
      text += new TextDecoder().decode(value);
    }
    proc.kill("SIGSTOP");
    const midway = files(lib.outDir);
    proc.kill("SIGKILL");
    await proc.exited;
    const legacyLeft = midway.filter((f) => LEGACY_CONTENT.test(f) || LEGACY_BY_ID.test(f)).length;
    expect(legacyLeft).toBeGreaterThan(0);
    expect(legacyLeft).toBeLessThan(legacyBefore);

    // Killed halfway, the library still verifies: readers look in both layouts.
    expect((await lib.run(["report", "--verify"])).code).toBe(0);

    const again = await lib.run(["library", "migrate"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("is in the sharded layout");
    const after = files(lib.outDir);
    expect(after.filter((f) => LEGACY_CONTENT.test(f) || LEGACY_BY_ID.test(f))).toEqual([]);
    expect(after.filter((f) => SHARDED_CONTENT.test(f))).toHaveLength(3 + 1500);
    expect(after.filter((f) => /^by-id\/[0-9a-f]{2}\/[0-9a-f]{2}\/[^/]+$/.test(f))).toHaveLength(
      3 + 1 + 1500,
    );
    const recorded = recordedPaths(lib.stateDir);
    expect(recorded.length).toBeGreaterThan(0);
    for (const p of recorded) expect(p).toMatch(SHARDED_CONTENT);

    const verify = await lib.run(["report", "--json", "--verify"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).verify).toMatchObject({ files: 3, ok: 3, missing: 0, corrupt: 0 });

    // Idempotent: a third run finds nothing to do.
    const third = await lib.run(["library", "migrate"]);
    expect(third.stdout).toContain("moved 0 files and 0 by-id links, rewrote 0 recorded paths");

    // And the runner still reuses stored URLs, now from the sharded layout.
    const url = lib.urls[1] as string;
    const before = lib.host.hits(new URL(url).pathname).length;
    expect(await reuseRun(url, "other:sharded")).toBe("duplicate_content");
    expect(lib.host.hits(new URL(url).pathname).length).toBe(before);
  }, 120_000);
});
