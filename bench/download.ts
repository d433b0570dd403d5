// Download pipeline throughput against curl, and peak memory on large files.
// Serves generated PDF-shaped files from a private nginx on 127.0.0.1 (own config, own process,
// temp directory removed at the end), then in the same run:
//   1. curl --parallel (8) fetches every file to disk: the baseline;
//   2. docstokg's pipeline (stream + SHA-256 + classify + fsync + publish) fetches the same files
//      into a fresh library, 8 transfers at a time (see below), one disk syncer shared by all;
//   3. a child process downloads two 1 GiB files concurrently and reports its peak RSS (VmHWM).
// Each set is fetched `--rounds` times by both, who goes first alternating per round, after a `sync`
// each time, and the times are summed, so load from other processes hits both sides alike.
// Parallelism: both sides move at most `--parallel` (8) bodies at a time. curl runs 8 transfers;
// docstokg runs `--callers` (24) downloads through the real politeness gate with the server's host
// limited to 8 concurrent requests, as a runner's workers share a host's slots: a host slot is held
// from the request until the body has arrived, so a finished body's flushes and publication run
// while another transfer uses the slot. The gate counts the transfers in flight; a set that ever
// had more than `--parallel` at once fails the benchmark.
// Usage: bun bench/download.ts [--small N] [--big N] [--big-mib N] [--rss-gib N] [--parallel N]
//   [--callers N] [--rounds N] [--no-rss] [--verbose]
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type DownloadDeps, downloadCandidate } from "../src/download/candidate.ts";
import { HashingThreads } from "../src/download/offload.ts";
import { createDiskSyncer } from "../src/download/syncer.ts";
import { type BenchClient, makeBenchClient } from "./download-client.ts";

const MiB = 1024 * 1024;
/** Files fetched once by each side, untimed, before the first timed round. */
const WARM_UP_FILES = 64;

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
    callers: { type: "string", default: "24" },
    rounds: { type: "string", default: "2" },
    "no-rss": { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    "rss-child": { type: "boolean", default: false },
  },
});

// One syncer and one set of hashing threads for every download of the process, as a runner holds.
const syncer = createDiskSyncer();
const hashers = new HashingThreads();

function deps(outDir: string, client: BenchClient): DownloadDeps {
  return {
    syncer,
    hashers,
    http: client.http,
    outDir,
    download: {
      max_bytes: 4 * 1024 * MiB,
      min_pdf_bytes: 1024,
      accept_xml: false,
      max_candidates: 24,
      retries: 3,
      job_budget_s: 3600,
      temp_max_age_s: 86400,
    },
    now: () => performance.now(),
  };
}

if (args["rss-child"]) {
  // Child mode: download the given URLs concurrently, then report peak resident memory.
  const [out, ...urls] = positionals as [string, ...string[]];
  const client = makeBenchClient(4 * 1024 * MiB, urls[0] as string, urls.length);
  const rs = await Promise.all(
    urls.map((url, i) => downloadCandidate(deps(out, client), { url, artifactId: `rss-${i}` })),
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

async function pipelineAll(
  urls: string[],
  out: string,
  callers: number,
  client: BenchClient,
): Promise<number> {
  const d = deps(out, client);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < urls.length) {
        const i = next++;
        const r = await downloadCandidate(d, { url: urls[i] as string, artifactId: `bench:${i}` });
        if (!r.ok) throw new Error(`${urls[i]}: ${r.reason} ${r.message}`);
      }
    }),
  );
  return performance.now() - t0;
}

/** CPU ticks of the machine (/proc/stat) and of this process's threads by name, for `--verbose`. */
function cpuSnapshot(): { sys: number[]; threads: Map<string, number> } {
  const sys = (fs.readFileSync("/proc/stat", "utf8").split("\n")[0] as string)
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const threads = new Map<string, number>();
  for (const t of fs.readdirSync("/proc/self/task")) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${t}/stat`, "utf8");
      const comm = st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(f[11]) + Number(f[12]);
      threads.set(comm, (threads.get(comm) ?? 0) + ticks);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return { sys, threads };
}

/** How busy the machine was between two snapshots, and which of this process's threads used the CPU. */
function cpuDiff(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>): string {
  const d = b.sys.map((v, i) => v - (a.sys[i] ?? 0));
  const total = d.reduce((x, y) => x + y, 0);
  const idle = (d[3] ?? 0) + (d[4] ?? 0);
  const parts = [...b.threads]
    .map(([k, v]) => [k, v - (a.threads.get(k) ?? 0)] as const)
    .filter(([, v]) => v > 0);
  return `machine busy ${(((total - idle) / total) * 100).toFixed(0)} % (user ${d[0]} sys ${d[2]} iowait ${d[4]} softirq ${d[6]} ticks); this process ${parts.map(([k, v]) => `${k}:${v}`).join(" ")}`;
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
  const callers = Number(args.callers);
  const client = makeBenchClient(4 * 1024 * MiB, nginx.origin, parallel);
  console.log(
    `nginx on ${nginx.origin}; ${parallel} transfers at a time (curl --parallel-max, docstokg's host slots); ${callers} docstokg downloads started at a time; ${navigator.hardwareConcurrency} cores`,
  );

  let warmedUp = false;
  let curlMsTotal = 0;
  let oursMsTotal = 0;
  let bytesTotal = 0;
  for (const set of sets) {
    if (set.files.length === 0) continue;
    const urls = set.files.map((f) => `${nginx?.origin}/${f}`);
    spawnSync("curl", ["--silent", "--parallel", "--config", "/dev/stdin", "-o", "/dev/null"], {
      input: urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(""),
    }); // warm the page cache so neither side pays for the first read
    if (!warmedUp) {
      // One untimed pass of each side over the first files: a runner is a long-lived process, so
      // what is measured is the steady state, not the JIT's first compilations and thread starts.
      warmedUp = true;
      const some = urls.slice(0, WARM_UP_FILES);
      curlAll(some, join(root, "curl-out"), parallel);
      fs.rmSync(join(root, "curl-out"), { recursive: true, force: true });
      await pipelineAll(some, join(root, "library"), callers, client);
      fs.rmSync(join(root, "library"), { recursive: true, force: true });
    }
    let curlMs = 0;
    let oursMs = 0;
    client.gate.maxInFlight = 0;
    const perRound: { curl: number; ours: number }[] = [];
    const runCurl = () => {
      spawnSync("sync"); // neither side inherits the other's dirty pages
      const cpu0 = args.verbose ? cpuSnapshot() : undefined;
      const ms = curlAll(urls, join(root, "curl-out"), parallel);
      if (args.verbose)
        console.log(
          `  curl ${ms.toFixed(0)} ms; cpu ${cpuDiff(cpu0 as ReturnType<typeof cpuSnapshot>, cpuSnapshot())}`,
        );
      curlMs += ms;
      (perRound.at(-1) as { curl: number }).curl = ms;
      fs.rmSync(join(root, "curl-out"), { recursive: true, force: true });
    };
    const runOurs = async () => {
      spawnSync("sync");
      const cpu0 = args.verbose ? cpuSnapshot() : undefined;
      const p0 = client.gate.permits;
      const h0 = client.gate.heldMs;
      const ms = await pipelineAll(urls, join(root, "library"), callers, client);
      if (args.verbose)
        console.log(
          `  ${ms.toFixed(0)} ms, ${client.gate.permits - p0} transfers, mean held ${((client.gate.heldMs - h0) / (client.gate.permits - p0)).toFixed(1)} ms, mean in flight ${((client.gate.heldMs - h0) / ms).toFixed(2)}; cpu ${cpuDiff(cpu0 as ReturnType<typeof cpuSnapshot>, cpuSnapshot())}`,
        );
      oursMs += ms;
      (perRound.at(-1) as { ours: number }).ours = ms;
      fs.rmSync(join(root, "library"), { recursive: true, force: true });
    };
    for (let round = 0; round < Number(args.rounds); round++) {
      perRound.push({ curl: 0, ours: 0 });
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
      `${set.name.padEnd(16)} curl ${fmt(set.bytes, curlMs).padStart(10)}   docstokg ${fmt(set.bytes, oursMs).padStart(10)}   ratio ${((curlMs / oursMs) * 100).toFixed(0)} %   (per round: ${perRound.map((r) => `${((r.curl / r.ours) * 100).toFixed(0)} %`).join(", ")}; at most ${client.gate.maxInFlight} docstokg transfers at once)`,
    );
    if (client.gate.maxInFlight > parallel)
      throw new Error(
        `${client.gate.maxInFlight} transfers in flight at once, over the limit of ${parallel}`,
      );
  }
  console.log(
    `${"all".padEnd(16)} curl ${fmt(bytesTotal, curlMsTotal).padStart(10)}   docstokg ${fmt(bytesTotal, oursMsTotal).padStart(10)}   ratio ${((curlMsTotal / oursMsTotal) * 100).toFixed(0)} % (target ≥ 80 %)`,
  );

  client.close();

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
