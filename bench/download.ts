// Download pipeline throughput against curl, and peak memory on large files.
// Serves generated PDF-shaped files from a private nginx on 127.0.0.1 (own config, own process,
// temp directory removed at the end), then in the same run:
//   1. curl --parallel (8) fetches every file to disk: the baseline;
//   2. docstokg's pipeline (stream + SHA-256 + classify + fsync + publish) fetches the same files
//      with 8 concurrent downloads into a fresh library;
//   3. a child process downloads two 1 GiB files concurrently and reports its peak RSS (VmHWM).
// Each set is fetched `--rounds` times by both, who goes first alternating per round, after a `sync`
// each time, and the times are summed, so load from other processes hits both sides alike.
// Usage: bun bench/download.ts [--small N] [--big-mib N] [--rss-gib N] [--parallel N] [--rounds N] [--no-rss]
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type DownloadDeps, downloadCandidate } from "../src/download/candidate.ts";
import { createDiskSyncer } from "../src/download/syncer.ts";
import { makeBenchClient } from "./download-client.ts";

const MiB = 1024 * 1024;

const { values: args, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    small: { type: "string", default: "200" },
    "small-mib": { type: "string", default: "2" },
    big: { type: "string", default: "2" },
    "big-mib": { type: "string", default: "512" },
    "rss-gib": { type: "string", default: "1" },
    parallel: { type: "string", default: "8" },
    rounds: { type: "string", default: "2" },
    "no-rss": { type: "boolean", default: false },
    "rss-child": { type: "boolean", default: false },
  },
});

// One syncer for every download of the process, as the runner holds one.
const syncer = createDiskSyncer();

function deps(outDir: string): DownloadDeps {
  return {
    syncer,
    http: makeBenchClient(4 * 1024 * MiB),
    outDir,
    download: {
      max_bytes: 4 * 1024 * MiB,
      min_pdf_bytes: 1024,
      accept_xml: false,
      max_candidates: 24,
      job_budget_s: 3600,
      temp_max_age_s: 86400,
    },
    now: () => performance.now(),
  };
}

if (args["rss-child"]) {
  // Child mode: download the given URLs concurrently, then report peak resident memory.
  const [out, ...urls] = positionals as [string, ...string[]];
  const rs = await Promise.all(
    urls.map((url, i) => downloadCandidate(deps(out), { url, artifactId: `rss-${i}` })),
  );
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1];
  console.log(JSON.stringify({ reasons: rs.map((r) => r.reason), peakRssBytes: Number(hwm) * 1024 }));
  process.exit(0);
}

/** A PDF-shaped file: header, `size` bytes of a shared random block (unique per file via its header), trailer. */
function writePdfLike(path: string, size: number, block: Uint8Array): void {
  const fd = fs.openSync(path, "w");
  try {
    const head = Buffer.from(`%PDF-1.7\n% ${path}\n`);
    const tail = Buffer.from("\n%%EOF\n");
    fs.writeSync(fd, head);
    let left = size - head.length - tail.length;
    while (left > 0) {
      const n = Math.min(left, block.length);
      fs.writeSync(fd, block, 0, n);
      left -= n;
    }
    fs.writeSync(fd, tail);
  } finally {
    fs.closeSync(fd);
  }
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function startNginx(root: string, www: string): Promise<{ origin: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const conf = join(root, "nginx.conf");
  for (const d of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"])
    fs.mkdirSync(join(root, d), { recursive: true });
  fs.writeFileSync(
    conf,
    `worker_processes 2;
daemon off;
pid ${root}/nginx.pid;
error_log ${root}/logs/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${root}/client_body;
  proxy_temp_path ${root}/proxy;
  fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi;
  scgi_temp_path ${root}/scgi;
  default_type application/pdf;
  server { listen 127.0.0.1:${port}; root ${www}; etag on; }
}
`,
  );
  const child = spawn("nginx", ["-p", root, "-c", conf], { stdio: ["ignore", "ignore", "inherit"] });
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`${origin}/`, { method: "HEAD" });
      break;
    } catch {
      await Bun.sleep(25);
    }
  }
  return {
    origin,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

function curlAll(urls: string[], dir: string, parallel: number): number {
  fs.mkdirSync(dir, { recursive: true });
  const cfg = join(dir, "..", "curl.cfg");
  fs.writeFileSync(cfg, urls.map((u, i) => `url = "${u}"\noutput = "${join(dir, `f${i}`)}"\n`).join(""));
  const t0 = performance.now();
  const r = spawnSync("curl", [
    "--silent",
    "--fail",
    "--parallel",
    "--parallel-max",
    String(parallel),
    "--config",
    cfg,
  ]);
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`curl failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function pipelineAll(urls: string[], out: string, parallel: number): Promise<number> {
  const d = deps(out);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < urls.length) {
        const i = next++;
        const r = await downloadCandidate(d, { url: urls[i] as string, artifactId: `bench:${i}` });
        if (!r.ok) throw new Error(`${urls[i]}: ${r.reason} ${r.message}`);
      }
    }),
  );
  return performance.now() - t0;
}

const fmt = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;

const root = fs.mkdtempSync(join(tmpdir(), "docstokg-bench-"));
const www = join(root, "www");
fs.mkdirSync(www);
fs.chmodSync(root, 0o755); // nginx workers run as an unprivileged user when started by root
let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
const cleanup = async () => {
  await nginx?.stop();
  fs.rmSync(root, { recursive: true, force: true });
};
process.on("SIGINT", () => cleanup().then(() => process.exit(130)));

try {
  const parallel = Number(args.parallel);
  const block = crypto.getRandomValues(new Uint8Array(MiB));
  const sets: { name: string; files: string[]; bytes: number }[] = [
    { name: `${args.small} × ${args["small-mib"]} MiB`, files: [], bytes: 0 },
    { name: `${args.big} × ${args["big-mib"]} MiB`, files: [], bytes: 0 },
  ];
  const addFiles = (set: (typeof sets)[number], prefix: string, count: number, size: number) => {
    for (let i = 0; i < count; i++) {
      const name = `${prefix}-${i}.pdf`;
      writePdfLike(join(www, name), size, block);
      set.files.push(name);
      set.bytes += size;
    }
  };
  addFiles(sets[0] as (typeof sets)[number], "small", Number(args.small), Number(args["small-mib"]) * MiB);
  addFiles(sets[1] as (typeof sets)[number], "big", Number(args.big), Number(args["big-mib"]) * MiB);
  nginx = await startNginx(root, www);
  console.log(`nginx on ${nginx.origin}; parallelism ${parallel}; ${navigator.hardwareConcurrency} cores`);

  let curlMsTotal = 0;
  let oursMsTotal = 0;
  let bytesTotal = 0;
  for (const set of sets) {
    if (set.files.length === 0) continue;
    const urls = set.files.map((f) => `${nginx?.origin}/${f}`);
    spawnSync("curl", ["--silent", "--parallel", "--config", "/dev/stdin", "-o", "/dev/null"], {
      input: urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(""),
    }); // warm the page cache so neither side pays for the first read
    let curlMs = 0;
    let oursMs = 0;
    const runCurl = () => {
      spawnSync("sync"); // neither side inherits the other's dirty pages
      curlMs += curlAll(urls, join(root, "curl-out"), parallel);
      fs.rmSync(join(root, "curl-out"), { recursive: true, force: true });
    };
    const runOurs = async () => {
      spawnSync("sync");
      oursMs += await pipelineAll(urls, join(root, "library"), parallel);
      fs.rmSync(join(root, "library"), { recursive: true, force: true });
    };
    for (let round = 0; round < Number(args.rounds); round++) {
      // Alternate who goes first, so drift in the machine's load does not favour one side.
      if (round % 2 === 0) {
        runCurl();
        await runOurs();
      } else {
        await runOurs();
        runCurl();
      }
    }
    set.bytes *= Number(args.rounds);
    curlMsTotal += curlMs;
    oursMsTotal += oursMs;
    bytesTotal += set.bytes;
    console.log(
      `${set.name.padEnd(16)} curl ${fmt(set.bytes, curlMs).padStart(10)}   docstokg ${fmt(set.bytes, oursMs).padStart(10)}   ratio ${((curlMs / oursMs) * 100).toFixed(0)} %`,
    );
  }
  console.log(
    `${"all".padEnd(16)} curl ${fmt(bytesTotal, curlMsTotal).padStart(10)}   docstokg ${fmt(bytesTotal, oursMsTotal).padStart(10)}   ratio ${((curlMsTotal / oursMsTotal) * 100).toFixed(0)} % (target ≥ 80 %)`,
  );

  if (!args["no-rss"]) {
    for (const f of fs.readdirSync(www)) fs.rmSync(join(www, f));
    const size = Number(args["rss-gib"]) * 1024 * MiB;
    writePdfLike(join(www, "rss-0.pdf"), size, block);
    writePdfLike(join(www, "rss-1.pdf"), size, block);
    const child = Bun.spawn(
      [
        process.execPath,
        import.meta.path,
        "--rss-child",
        join(root, "library-rss"),
        `${nginx.origin}/rss-0.pdf`,
        `${nginx.origin}/rss-1.pdf`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    const report = JSON.parse(await new Response(child.stdout).text()) as {
      reasons: string[];
      peakRssBytes: number;
    };
    await child.exited;
    console.log(
      `peak RSS downloading 2 × ${args["rss-gib"]} GiB concurrently: ${(report.peakRssBytes / MiB).toFixed(0)} MiB (target ≤ 150 MB; outcomes ${report.reasons.join(", ")})`,
    );
  }
} finally {
  await cleanup();
}
