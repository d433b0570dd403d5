// A hostile robots.txt against the built binary: a rule that makes a backtracking matcher run for
// seconds per URL (`/*a*a*…*b` against long paths of `a`), padded to 500 KiB with ~24,000 ordinary
// rules. While `queue run` works on that host, /healthz keeps answering within 1 s, and the works end
// within 5 s: allowed files are fetched, the disallowed one is refused.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startApis } from "../support/apis.ts";
import { emptyDir, runBinary } from "../support/binary.ts";
import { prepareRunDir } from "../support/catalogue-run.ts";
import { makePdf } from "../support/pdf.ts";
import { startWeb } from "../support/web.ts";
import { openState, spawnRunner } from "./harness.ts";

const web = await startWeb();
const sim = await startApis(web, []);
const dir = emptyDir("docstokg-hostile-robots-");
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

function hostileRobots(): string {
  const lines = ["User-agent: *", "Disallow: /*a*a*a*a*a*a*a*a*a*a*b", "Disallow: /private/"];
  let size = lines.join("\n").length;
  for (let i = 0; size < 500 * 1024 - 64; i++) {
    const line = `Disallow: /archive-${i}/*.tmp$`;
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join("\n")}\n`;
}

test("a hostile robots.txt does not stall the runner: /healthz answers within 1 s, works end within 5 s", async () => {
  const site = await web.host({ name: "hostile.site.test" });
  site.robots(hostileRobots());
  // 50-character paths of `a` and no `b`: the worst case for a backtracking `.*a.*a…b`.
  const allowed = [0, 1, 2].map((i) => `/${"a".repeat(44)}${i}.pdf`);
  for (const path of allowed) site.pdf(path, makePdf(`hostile ${path}`, { minBytes: 3000 }));
  // One file arrives slowly (about 1 s), so the status endpoint is asked while work is in flight.
  site.fault(allowed[0] as string, { kind: "drip", chunkBytes: 300, intervalMs: 100 });
  const disallowed = `/private/${"a".repeat(40)}.pdf`;
  site.pdf(disallowed, makePdf("private"));

  const run = prepareRunDir(dir, sim, [], {
    status: { enabled: true },
    orchestrator: { drain_max_delay_s: 1 },
  });
  const works = [...allowed, disallowed].map((path, n) => ({ pdf_urls: [site.url(path)], meta: { n } }));
  await Bun.write(run.worksFile, works.map((w) => `${JSON.stringify(w)}\n`).join(""));
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir };
  expect(
    (await runBinary(["queue", "import", run.worksFile, "--config", run.configFile], { cwd: dir, env })).code,
  ).toBe(0);

  const started = performance.now();
  const runner = await spawnRunner(
    ["queue", "run", "--drain", "--workers", "4", "--status", "127.0.0.1:0", "--config", run.configFile],
    { cwd: dir, env },
  );
  let exitedAt = 0;
  const exited = runner.exited.then((code) => {
    exitedAt = performance.now();
    return code;
  });
  const [, base] = await runner.waitFor(/status endpoint at (http:\/\/127\.0\.0\.1:\d+\/)/, 5_000);

  // Ask /healthz over and over until the runner stops serving; every answer must come within 1 s.
  // A stalled event loop shows as a timeout (the kernel still accepts the connection); a refused
  // connection means the server was closed: the runner is shutting down.
  const slow: string[] = [];
  let answered = 0;
  while (exitedAt === 0 && performance.now() - started < 10_000) {
    const t0 = performance.now();
    try {
      const r = await fetch(new URL("/healthz", base), { signal: AbortSignal.timeout(1_000) });
      await r.arrayBuffer();
      if (r.status === 200) answered++;
      else slow.push(`status ${r.status}`);
    } catch (error) {
      if ((error as Error).name !== "TimeoutError") break;
      slow.push(`no answer within ${Math.round(performance.now() - t0)} ms`);
    }
    await Promise.race([exited, Bun.sleep(50)]);
  }
  await Promise.race([exited, Bun.sleep(Math.max(0, 5_000 - (performance.now() - started)))]);
  if (exitedAt === 0) runner.proc.kill("SIGKILL"); // stalled: no graceful shutdown to wait for
  const code = await exited;

  expect(slow).toEqual([]);
  expect(answered).toBeGreaterThan(3);
  expect(code).toBe(0);
  expect(exitedAt - started).toBeLessThan(5_000);
  expect(site.hits("/robots.txt").length).toBe(1);
  for (const path of allowed) expect(site.hits(path).length).toBe(1);
  expect(site.hits(disallowed)).toEqual([]);

  const db = openState(run.stateDir);
  try {
    const states = db
      .query<{ n: number; state: string; reason: string | null }, []>(
        "SELECT json_extract(artifact, '$.meta.n') AS n, state, last_reason AS reason FROM jobs ORDER BY n",
      )
      .all();
    expect(states.map((s) => s.state)).toEqual(["done", "done", "done", "skipped"]);
    expect(states[3]?.reason).toBe("robots_disallowed");
  } finally {
    db.close();
  }
}, 60_000);
