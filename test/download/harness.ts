// Shared set-up of the download tests: a temp library, the HTTP client pointed at the simulated web,
// and helpers that list what ended up in the library and in its temp directory.
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, defaultConfig } from "../../src/config/schema.ts";
import type { DownloadDeps } from "../../src/download/candidate.ts";
import { TEMP_DIR } from "../../src/download/temp.ts";
import { createHttpClient, type Transport } from "../../src/net/fetch.ts";
import type { HttpClient } from "../../src/net/types.ts";
import { MemoryPoliteness } from "../support/politeness.ts";

export interface ClientOptions {
  idleTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxBytes?: number;
  acceptXml?: boolean;
}

/** Dials loopback only: a test that tried to reach any other address fails loudly. */
const loopbackOnly: Transport = (url, init) => {
  const host = new URL(url).hostname;
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`test transport: refusing to dial ${url}`);
  return fetch(url, init);
};

export function testConfig(o: ClientOptions = {}): Config {
  const c = defaultConfig();
  c.network.allow_private = ["127.0.0.0/8"];
  c.network.connect_timeout_s = 2;
  c.network.idle_timeout_s = (o.idleTimeoutMs ?? 5000) / 1000;
  c.network.total_timeout_s = (o.totalTimeoutMs ?? 15_000) / 1000;
  c.download.max_bytes = o.maxBytes ?? 8 * 1024 * 1024;
  c.download.accept_xml = o.acceptXml ?? false;
  return c;
}

/** The real HTTP client over an in-memory politeness port (which counts the slots still held). */
export function makeClient(config: Config, politeness = new MemoryPoliteness()): HttpClient {
  return createHttpClient({ config, politeness, version: "0.0.0-test", transport: loopbackOnly });
}

export function makeLibrary(): string {
  return fs.mkdtempSync(join(tmpdir(), "dl-lib-"));
}

export function makeDeps(
  outDir: string,
  o: ClientOptions = {},
  politeness = new MemoryPoliteness(),
): DownloadDeps {
  const config = testConfig(o);
  return {
    http: makeClient(config, politeness),
    outDir,
    download: config.download,
    now: () => performance.now(),
  };
}

/** Files stored in the library (content-addressed kinds only, not by-id links or temp files). */
export function storedFiles(outDir: string): string[] {
  return walk(outDir).filter((p) => !p.includes(`/${TEMP_DIR}/`) && !p.includes("/by-id/"));
}

export function tempFiles(outDir: string): string[] {
  const dir = join(outDir, TEMP_DIR);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

export const sha256 = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
