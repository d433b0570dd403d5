// Overhead of the HTTP client (URL parse, gate with DNS-free literal, politeness port round trip,
// timers, body guard) per request, against a bare `fetch` of the same loopback server in the same
// run. Usage: bun bench/fetch.ts [requests]   (default 2000; bounded to ~30 s)
import { defaultConfig } from "../src/config/schema.ts";
import { createHttpClient } from "../src/net/fetch.ts";
import type { PolitenessGate } from "../src/net/politeness-port.ts";

const N = Number(process.argv[2] ?? 2000);
const body = new Uint8Array(4096).fill(65);
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body) });
const url = `http://127.0.0.1:${server.port}/a.pdf`;

// A no-op politeness port: this measures the client's own cost, not the limiters (bench/limits.ts).
const politeness: PolitenessGate = {
  acquire: async () => ({ ok: true, waitedMs: 0, release() {} }),
  observe() {},
  setMinInterval() {},
};
const config = defaultConfig();
config.network.allow_private = ["127.0.0.0/8"];
config.politeness.robots = false;
const client = createHttpClient({ config, politeness, version: "bench" });

async function bare() {
  const r = await fetch(url);
  await r.arrayBuffer();
}
async function wrapped() {
  const r = await client.request({ url, role: "artifact" });
  if (!r.ok) throw new Error(r.message);
  await new Response(r.response.body).arrayBuffer();
}

async function time(fn: () => Promise<void>, n: number, deadline: number): Promise<number> {
  const t0 = performance.now();
  let i = 0;
  for (; i < n && performance.now() < deadline; i++) await fn();
  return (performance.now() - t0) / i;
}

const deadline = performance.now() + 30_000;
await time(bare, 200, deadline); // warm up both paths
await time(wrapped, 200, deadline);
const rounds: { bare: number; wrapped: number }[] = [];
for (let round = 0; round < 3; round++) {
  rounds.push({ bare: await time(bare, N / 3, deadline), wrapped: await time(wrapped, N / 3, deadline) });
}
server.stop(true);
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const b = med(rounds.map((r) => r.bare));
const w = med(rounds.map((r) => r.wrapped));
console.log(`bare fetch      ${(b * 1000).toFixed(1)} µs/request`);
console.log(`docstokg client ${(w * 1000).toFixed(1)} µs/request`);
console.log(`overhead        ${((w - b) * 1000).toFixed(1)} µs/request, ratio ${(w / b).toFixed(2)}`);
