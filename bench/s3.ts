// The library on object storage vs a local directory, in the same run: the same set of PDF-shaped
// files served from loopback (Bun.serve, its own process) downloaded through the pipeline (stream +
// SHA-256 + classify + publish) into a fresh local library and into `s3://bench/<round>` on s3rver
// (its own process, files in a temp directory), `--parallel` downloads at a time, who goes first
// alternating per round. Then a child publishes two `--rss-gib` GiB files to S3 at once (multipart
// from the temp file) and reports its peak RSS (VmHWM). s3rver writes what it receives to disk and
// answers on the same machine. A real store runs on other machines, so by default s3rver gets the
// last CPU to itself (taskset) and this process and the web server the others, in both phases: the
// client has the same CPUs for the local and the S3 run, and the store's work does not take them
// (`--store-cpu shared` leaves every process on every CPU: the ratio then also pays for s3rver). The
// CPU seconds of this process and of s3rver in each phase are printed to tell the two costs apart.
// Usage: bun bench/s3.ts [--files N] [--mib N] [--parallel N] [--rounds N] [--rss-gib N] [--no-rss]
//   [--store-cpu N|shared]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultConfig } from "../src/config/schema.ts";
import { type DownloadDeps, downloadCandidate } from "../src/download/candidate.ts";
import { HashingThreads } from "../src/download/offload.ts";
import { createDiskSyncer } from "../src/download/syncer.ts";
import type { Library } from "../src/library/library.ts";
import { S3Library } from "../src/library/s3.ts";
import { makeBenchClient } from "./download-client.ts";

const MiB = 1024 * 1024;
const { values: args, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    files: { type: "string", default: "60" },
    mib: { type: "string", default: "2" },
    parallel: { type: "string", default: "8" },
    rounds: { type: "string", default: "2" },
    "rss-gib": { type: "string", default: "1" },
    "no-rss": { type: "boolean", default: false },
    "rss-child": { type: "boolean", default: false },
    "store-cpu": { type: "string" },
  },
});

const root = fs.mkdtempSync(join(tmpdir(), "docstokg-bench-s3-"));
const children: ReturnType<typeof spawn>[] = [];
process.on("exit", () => {
  for (const c of children) c.kill();
  fs.rmSync(root, { recursive: true, force: true });
});

function s3Library(endpoint: string, prefix: string, stateDir: string): S3Library {
  const config = defaultConfig();
  config.out_dir = `s3://bench/${prefix}`;
  config.state_dir = stateDir;
  config.s3.endpoint = endpoint;
  fs.mkdirSync(stateDir, { recursive: true });
  return new S3Library({
    config,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER", variables: [] },
  });
}

if (args["rss-child"]) {
  // Child mode: publish the given files to S3 concurrently, then report peak resident memory.
  const [endpoint, ...files] = positionals as [string, ...string[]];
  const lib = s3Library(endpoint, "rss", join(root, "state"));
  await Promise.all(
    files.map(async (f, i) => {
      const sha = (await Bun.file(`${f}.sha`).text()).trim();
      await lib.publish({
        tempPath: f,
        kind: "pdf",
        sha256: sha,
        bytes: fs.statSync(f).size,
        artifactId: `rss-${i}`,
        contentType: "application/pdf",
      });
    }),
  );
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1];
  console.log(JSON.stringify({ peakRssMiB: Number(hwm) / 1024 }));
  process.exit(0);
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** Starts a script in its own bun process and waits for the port it prints. */
async function child(code: string): Promise<number> {
  const file = join(root, `child-${children.length}.ts`);
  fs.writeFileSync(file, code);
  const c = spawn(process.execPath, [file], {
    cwd: join(import.meta.dir, ".."),
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(c);
  return new Promise((resolve) => c.stdout?.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
}

const files = Number(args.files);
const size = Number(args.mib) * MiB;
const s3Dir = join(root, "s3rver");
fs.mkdirSync(s3Dir);
const s3Port = await child(`import S3rver from "s3rver";
const s = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: ${JSON.stringify(s3Dir)}, configureBuckets: [{ name: "bench" }] });
console.log((await s.run()).port);`);
const endpoint = `http://127.0.0.1:${s3Port}`;
const webPort = await child(`const body = new Uint8Array(${size});
const head = new TextEncoder().encode("%PDF-1.7\\n"); body.set(head);
const tail = new TextEncoder().encode("\\n%%EOF\\n"); body.set(tail, body.length - tail.length);
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch(req) {
  const n = Number(new URL(req.url).pathname.slice(3));
  const b = body.slice(); new DataView(b.buffer).setUint32(64, n);
  return new Response(b, { headers: { "content-type": "application/pdf" } }); } });
console.log(server.port);`);
const origin = `http://127.0.0.1:${webPort}`;
const parallel = Number(args.parallel);
const client = makeBenchClient(4 * 1024 * MiB, origin, parallel);
const syncer = createDiskSyncer();
const hashers = new HashingThreads();
const downloadConfig = { ...defaultConfig().download, max_bytes: 4 * 1024 * MiB };

async function fetchSet(outDir: string, library: Library | undefined, round: number): Promise<number> {
  const deps: DownloadDeps = {
    http: client.http,
    outDir,
    library,
    download: downloadConfig,
    now: () => performance.now(),
    syncer,
    hashers,
  };
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < files) {
        const i = next++;
        const r = await downloadCandidate(deps, {
          url: `${origin}/f/${round * 100_000 + i}`,
          artifactId: `w${i}`,
        });
        if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

let local = 0;
let s3 = 0;
const s3rverPid = children[0]?.pid as number;

/** Every thread of `pid` (and those it starts later) on `cpus` (a taskset list such as "0-2"). */
function pin(pid: number, cpus: string): void {
  const r = Bun.spawnSync(["taskset", "-a", "-p", "-c", cpus, String(pid)], { stdout: "ignore" });
  if (r.exitCode !== 0) throw new Error(`taskset -c ${cpus} ${pid} failed: ${r.stderr}`);
}
const cpus = navigator.hardwareConcurrency;
const storeCpu = args["store-cpu"] ?? (cpus >= 2 ? String(cpus - 1) : "shared");
let placement = "every process on every CPU";
if (storeCpu !== "shared") {
  const n = Number(storeCpu);
  if (!Number.isInteger(n) || n < 0 || n >= cpus || cpus < 2)
    throw new Error(`--store-cpu: give a CPU number below ${cpus} (and at least 2 CPUs), or "shared"`);
  const others = Array.from({ length: cpus }, (_, i) => i).filter((i) => i !== n);
  pin(s3rverPid, String(n));
  for (const pid of [process.pid, children[1]?.pid as number]) pin(pid, others.join(","));
  placement = `s3rver alone on CPU ${n}, this process and the web server on CPU ${others.join(",")}`;
}
console.log(`placement: ${placement}`);
/** CPU seconds of this process and of s3rver in each phase. */
const cpu = { local: { self: 0, s3rver: 0 }, s3: { self: 0, s3rver: 0 } };
const measured = async (phase: "local" | "s3", run: () => Promise<void>) => {
  const self0 = process.cpuUsage();
  const srv0 = cpuSeconds(s3rverPid);
  await run();
  const self = process.cpuUsage(self0);
  cpu[phase].self += (self.user + self.system) / 1e6;
  cpu[phase].s3rver += cpuSeconds(s3rverPid) - srv0;
};
for (let round = 0; round < Number(args.rounds); round++) {
  const runLocal = () =>
    measured("local", async () => {
      local += await fetchSet(join(root, `lib-${round}`), undefined, round);
    });
  const runS3 = () =>
    measured("s3", async () => {
      s3 += await fetchSet(root, s3Library(endpoint, `r${round}`, join(root, `state-${round}`)), round);
    });
  if (round % 2 === 0) {
    await runLocal();
    await runS3();
  } else {
    await runS3();
    await runLocal();
  }
  fs.rmSync(join(root, `lib-${round}`), { recursive: true, force: true });
}
const total = (files * size * Number(args.rounds)) / MiB;
console.log(
  `download set ${files} × ${args.mib} MiB × ${args.rounds} rounds, ${parallel} at a time: local ${(total / local).toFixed(1)} MiB/s, S3 ${(total / s3).toFixed(1)} MiB/s, ratio ${(local / s3).toFixed(2)}`,
);
console.log(
  `  CPU s: local ${cpu.local.self.toFixed(2)} in ${local.toFixed(2)} s wall (s3rver idle ${cpu.local.s3rver.toFixed(2)}); S3 ${cpu.s3.self.toFixed(2)} + s3rver ${cpu.s3.s3rver.toFixed(2)} in ${s3.toFixed(2)} s wall`,
);

if (!args["no-rss"]) {
  const gib = Number(args["rss-gib"]);
  const big = [0, 1].map((i) => join(root, `big-${i}.pdf`));
  for (const [i, f] of big.entries()) {
    const h = new Bun.CryptoHasher("sha256");
    const w = Bun.file(f).writer();
    const chunk = new Uint8Array(8 * MiB).fill(i + 1);
    for (let n = 0; n < gib * 128; n++) {
      w.write(chunk);
      h.update(chunk);
    }
    await w.end();
    fs.writeFileSync(`${f}.sha`, h.digest("hex"));
  }
  const c = Bun.spawnSync([process.execPath, import.meta.path, "--rss-child", endpoint, ...big], {
    stderr: "inherit",
  });
  console.log(`two ${gib} GiB files to S3 at once: ${String(c.stdout).trim()}`);
}
client.close();
process.exit(0);
