// `npm run demo`: the main job end to end on this machine. Starts the simulated scholarly web and
// API services of the test suite on loopback (127.0.0.x), writes a config pointing every resolver
// at them, imports the catalogue of test works, runs `dist/docstokg queue run --drain` and prints
// `queue stats` and `report`. Nothing leaves the machine.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startApis } from "../test/support/apis.ts";
import { buildCatalogue } from "../test/support/catalogue.ts";
import { prepareRunDir } from "../test/support/catalogue-run.ts";
import { startWeb } from "../test/support/web.ts";

const ROOT = resolve(import.meta.dir, "..");
const binary = join(ROOT, "dist", "docstokg");
if (!existsSync(binary)) {
  process.stderr.write("dist/docstokg is missing: run `npm run build` first (npm run demo does)\n");
  process.exit(1);
}

const say = (text: string) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

async function docstokg(args: string[], cwd: string): Promise<number> {
  process.stdout.write(`$ docstokg ${args.join(" ")}\n`);
  const proc = Bun.spawn([binary, ...args], {
    cwd,
    stdout: "inherit",
    stderr: "inherit",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, DOCSTOKG_LOG_FORMAT: "pretty" },
  });
  return proc.exited;
}

const started = performance.now();
const works = buildCatalogue(4);
const web = await startWeb();
try {
  const sim = await startApis(web, works);
  const dir = mkdtempSync(join(tmpdir(), "docstokg-demo-"));
  const run = prepareRunDir(dir, sim, works, {
    politeness: { breaker_reset_s: 1 },
    // The flaky host cools down exponentially (8 s, 16 s, …): leave its works for a later run.
    orchestrator: { drain_max_delay_s: 5 },
    status: { enabled: true, listen: "127.0.0.1:0" },
  });
  say(`a simulated scholarly web: ${web.hosts.length} loopback hosts (APIs, publishers, repositories)`);
  process.stdout.write(
    `${works.length} works: open copies behind every resolver, closed works, dead links, a captcha wall, a flaky host\nwork directory: ${dir}\n`,
  );
  const cfg = ["--config", run.configFile];

  say("import the works");
  if ((await docstokg(["queue", "import", run.worksFile, ...cfg], dir)) !== 0) process.exit(1);

  say("run the queue until it drains");
  const code = await docstokg(["queue", "run", "--drain", "--workers", "16", ...cfg], dir);
  if (code !== 0) {
    process.stderr.write(`queue run exited ${code}\n`);
    process.exit(1);
  }

  say("what happened");
  await docstokg(["queue", "stats", ...cfg], dir);
  say("report: yield, politeness, objectives, every stored file re-hashed");
  await docstokg(["report", "--verify", ...cfg], dir);
  say("where things are");
  process.stdout.write(
    [
      `library (content-addressed PDFs, by-id links): ${run.outDir}`,
      `manifest (one line per outcome):               ${join(run.stateDir, "manifest.jsonl")}`,
      `look closer: dist/docstokg queue list --state error --config ${run.configFile}`,
      `demo finished in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      "",
    ].join("\n"),
  );
} finally {
  await web.stop();
}
