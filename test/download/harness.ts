// Shared set-up of the download tests: a temp library, the HTTP client pointed at the simulated web,
// and helpers that list what ended up in the library and in its temp directory.
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DownloadDeps } from "../../src/download/candidate.ts";
import { TEMP_DIR } from "../../src/download/temp.ts";
import type { HttpClient } from "../../src/net/types.ts";
import { plainClient } from "./plain-client.ts";

export interface ClientOptions {
  idleTimeoutMs?: number;
  totalTimeoutMs?: number;
}

export function makeClient(o: ClientOptions = {}): HttpClient {
  return plainClient(o);
}

export function makeLibrary(): string {
  return fs.mkdtempSync(join(tmpdir(), "dl-lib-"));
}

export function makeDeps(
  outDir: string,
  o: ClientOptions & { maxBytes?: number; acceptXml?: boolean } = {},
): DownloadDeps {
  return {
    http: makeClient(o),
    outDir,
    download: {
      max_bytes: o.maxBytes ?? 8 * 1024 * 1024,
      min_pdf_bytes: 1024,
      accept_xml: o.acceptXml ?? false,
      max_candidates: 24,
      job_budget_s: 600,
      temp_max_age_s: 86400,
    },
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
