import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { downloadCandidate } from "../../src/download/candidate.ts";
import { makePdf } from "../support/pdf.ts";
import { type SimHost, type SimWeb, startWeb } from "../support/web.ts";
import { makeDeps, makeLibrary, sha256, storedFiles, tempFiles } from "./harness.ts";
import { rangedFile } from "./ranged.ts";

let web: SimWeb;
let host: SimHost;
beforeAll(async () => {
  web = await startWeb();
  host = await web.host({ name: "crash.test" });
});
afterAll(() => web.stop());

const file = makePdf("Killed mid-download", { minBytes: 3 * 1024 * 1024 });

/** Starts a download in a child process and SIGKILLs it once at least 1 MiB is on disk. */
async function killMidDownload(out: string, path: string): Promise<number> {
  const child = Bun.spawn(
    [process.execPath, join(import.meta.dir, "child-download.ts"), out, host.url(path), "doi:10.1/k"],
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const part = () => tempFiles(out).find((f) => f.endsWith(".part"));
  const size = () => {
    const p = part();
    return p ? fs.statSync(join(out, ".tmp", p)).size : 0;
  };
  const deadline = Date.now() + 8000;
  while (size() < 1024 * 1024 && Date.now() < deadline) await Bun.sleep(10);
  child.kill("SIGKILL");
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  return size();
}

for (const ranges of [true, false]) {
  test(`kill -9 mid-download leaves nothing in the library; the next attempt ${ranges ? "resumes" : "restarts"}`, async () => {
    const out = makeLibrary();
    const path = ranges ? "/k-ranged.pdf" : "/k-plain.pdf";
    try {
      host.route(path, rangedFile({ bytes: file, etag: '"k1"', ranges }));
      host.fault(path, { kind: "drip", chunkBytes: 64 * 1024, intervalMs: 20, times: 1 });
      const onDisk = await killMidDownload(out, path);
      expect(onDisk).toBeGreaterThanOrEqual(1024 * 1024);
      expect(onDisk).toBeLessThan(file.length);
      expect(storedFiles(out)).toEqual([]);
      expect(tempFiles(out).sort()).toEqual(
        expect.arrayContaining([expect.stringMatching(/\.part$/), expect.stringMatching(/\.json$/)]),
      );

      const r = await downloadCandidate(makeDeps(out), { url: host.url(path), artifactId: "doi:10.1/k" });
      expect(r).toMatchObject({ ok: true, reason: "ok", file: { sha256: sha256(file), bytes: file.length } });
      if (!r.ok) return;
      expect(r.resumedFrom).toBe(ranges ? onDisk : 0);
      expect(host.hits(path).at(-1)?.headers.get("range")).toBe(`bytes=${onDisk}-`);
      expect(new Uint8Array(fs.readFileSync(r.file.path))).toEqual(file);
      expect(storedFiles(out)).toEqual([r.file.path]);
      expect(tempFiles(out)).toEqual([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 20_000);
}
