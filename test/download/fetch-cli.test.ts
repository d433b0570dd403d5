import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makePdf } from "../support/pdf.ts";
import { type SimHost, type SimWeb, startWeb } from "../support/web.ts";
import { makeLibrary, sha256, storedFiles, tempFiles } from "./harness.ts";

let web: SimWeb;
let host: SimHost;
const pdf = makePdf("Fetched from the command line", { minBytes: 20_000 });
beforeAll(async () => {
  web = await startWeb();
  host = await web.host({ name: "cli.test" });
  host.pdf("/paper.pdf", pdf);
  host.landing("/landing", { title: "Not a file" });
});
afterAll(() => web.stop());

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

async function fetchCli(out: string, ...ids: string[]) {
  const state = fs.mkdtempSync(join(tmpdir(), "docstokg-fetch-state-"));
  const child = Bun.spawn([process.execPath, MAIN, "fetch", ...ids, "--out", out, "--state-dir", state], {
    env: {
      ...process.env,
      DOCSTOKG_NETWORK__ALLOW_PRIVATE: '["127.0.0.0/8"]',
      DOCSTOKG_CONFIG: "",
      // A failed URL would otherwise be looked up in the (real) Wayback Machine: stay on loopback.
      DOCSTOKG_RESOLVERS__WAYBACK__ENABLED: "false",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  fs.rmSync(state, { recursive: true, force: true });
  return { stdout, stderr, code };
}

test("fetch <url> stores the file and prints its outcome line; exit 0", async () => {
  const out = makeLibrary();
  try {
    const r = await fetchCli(out, host.url("/paper.pdf"));
    expect(r.code).toBe(0);
    const [reason, url, path, digest] = r.stdout.trim().split("\t");
    expect([reason, url, digest]).toEqual(["ok", host.url("/paper.pdf"), `sha256=${sha256(pdf)}`]);
    expect(storedFiles(out)).toEqual([path as string]);
    expect(new Uint8Array(fs.readFileSync(path as string))).toEqual(pdf);
    expect(tempFiles(out)).toEqual([]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 20_000);

test("a URL that is not a file prints its reason; exit 1", async () => {
  const out = makeLibrary();
  try {
    const r = await fetchCli(out, host.url("/landing"));
    expect(r.code).toBe(1);
    expect(r.stdout).toStartWith(`html_only\t${host.url("/landing")}\t`);
    expect(storedFiles(out)).toEqual([]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 20_000);

test("an input that is not an http(s) URL is a usage error; exit 2", async () => {
  const r = await fetchCli(join(tmpdir(), "docstokg-never-created"), "ftp://example.org/x.pdf");
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('expected an http(s) URL, got "ftp://example.org/x.pdf"');
});
