// `docstokg fetch` (src/main.ts in a child process) behaves like `queue run` on a host it may not ask
// again soon: a work whose next request would wait longer than politeness.max_wait_s ends with its
// reason and when to try again, the command exits 1, and --json prints the attempts of each work.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FetchOutcome } from "../../src/cli/fetch-format.ts";
import { makePdf } from "../support/pdf.ts";
import { type SimHost, type SimWeb, startWeb } from "../support/web.ts";

let web: SimWeb;
let host: SimHost;
beforeAll(async () => {
  web = await startWeb();
  host = await web.host({ name: "slow.test" });
  host
    .pdf("/a.pdf", makePdf("first", { minBytes: 2048 }))
    .pdf("/b.pdf", makePdf("second", { minBytes: 2048 }));
});
afterAll(() => web.stop());

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

async function fetchCli(...args: string[]) {
  const dir = fs.mkdtempSync(join(tmpdir(), "docstokg-fetch-wait-"));
  const child = Bun.spawn(
    [
      process.execPath,
      MAIN,
      "fetch",
      ...args,
      "--out",
      join(dir, "library"),
      "--state-dir",
      join(dir, "state"),
    ],
    {
      env: {
        ...process.env,
        DOCSTOKG_CONFIG: "",
        DOCSTOKG_NETWORK__ALLOW_PRIVATE: '["127.0.0.0/8"]',
        DOCSTOKG_RESOLVERS__WAYBACK__ENABLED: "false",
        DOCSTOKG_POLITENESS__ROBOTS: "false",
        // One file a minute from a host, and no wait longer than a second: the second work cannot go now.
        DOCSTOKG_POLITENESS__RATES__ARTIFACT: "1/min",
        DOCSTOKG_POLITENESS__MAX_WAIT_S: "1",
        DOCSTOKG_ORCHESTRATOR__MAX_WORKERS: "1",
      },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  fs.rmSync(dir, { recursive: true, force: true });
  return { stdout, stderr, code };
}

test("a wait beyond politeness.max_wait_s ends the work with its reason and retry time; exit 1", async () => {
  const started = Date.now();
  const r = await fetchCli(host.url("/a.pdf"), host.url("/b.pdf"));
  expect(r.code).toBe(1);
  const [first, second] = r.stdout.trim().split("\n");
  expect(first?.split("\t")[0]).toBe("ok");
  const fields = (second ?? "").split("\t");
  expect(fields.slice(0, 2)).toEqual(["rate_limited", host.url("/b.pdf")]);
  const retry = /try again after (\S+)$/.exec(fields[2] ?? "");
  expect(fields[2]).toStartWith("(transient) ");
  // The host's next free turn is about a minute away, well beyond the one second allowed.
  const at = Date.parse(retry?.[1] ?? "");
  expect(at - started).toBeGreaterThan(30_000);
  expect(at - Date.now()).toBeLessThan(61_000);
  expect(r.stderr).toContain("1 of 2 work(s) not obtained");
}, 30_000);

test("--json: retry_at and each work's attempts (a refusal by the limiter is none)", async () => {
  const r = await fetchCli("--json", host.url("/a.pdf"), host.url("/b.pdf"));
  expect(r.code).toBe(1);
  const [first, second] = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as FetchOutcome & { input: string });
  expect(first?.attempts.map((a) => [a.role, a.url, a.http_status, a.reason])).toEqual([
    ["artifact", host.url("/a.pdf"), 200, "ok"],
  ]);
  expect(first?.attempts[0]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(second).toMatchObject({ ok: false, reason: "rate_limited", transient: true, attempts: [] });
  expect(Date.parse(second?.retry_at ?? "")).toBeGreaterThan(Date.now() + 30_000);
}, 30_000);
