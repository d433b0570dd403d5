// Downloading one direct http(s) URL in the foreground (`docstokg fetch <url>`): wires the real HTTP
// client and politeness gate to the download pipeline and renders the outcome as one line.
// Politeness state lives in a private in-memory database here; runners share the state database.
import { Database } from "bun:sqlite";
import type { Config } from "../config/schema.ts";
import { canonicalUrl } from "../core/url.ts";
import { createHttpClient } from "../net/fetch.ts";
import type { HttpClient } from "../net/types.ts";
import { Politeness } from "../politeness/politeness.ts";
import { MIGRATIONS } from "../store/migrations.ts";
import { downloadCandidate } from "./candidate.ts";
import { sweepTempFiles } from "./temp.ts";
import type { DownloadResult } from "./types.ts";

/** The canonical form of a direct http(s) URL, or null when the input is not one. */
export function directUrl(input: string): string | null {
  if (!/^https?:\/\//i.test(input.trim())) return null;
  return canonicalUrl(input.trim()) ?? null;
}

export interface ForegroundClient {
  http: HttpClient;
  close(): void;
}

/** The real client over a politeness gate with its own in-memory state. */
export function foregroundClient(config: Config, version: string): ForegroundClient {
  const db = new Database(":memory:");
  for (const m of MIGRATIONS.filter((m) => m.name === "politeness")) m.up(db);
  const politeness = new Politeness({ db, config, renewEveryMs: 0 });
  return {
    http: createHttpClient({ config, politeness, version }),
    close: () => db.close(),
  };
}

export async function fetchDirectUrl(o: {
  url: string;
  config: Config;
  outDir: string;
  http: HttpClient;
  signal?: AbortSignal;
  now?: () => number;
}): Promise<DownloadResult> {
  const now = o.now ?? Date.now;
  sweepTempFiles(o.outDir, o.config.download.temp_max_age_s * 1000, now());
  return downloadCandidate(
    { http: o.http, outDir: o.outDir, download: o.config.download, now },
    { url: o.url, artifactId: `url:${o.url}`, resolver: "direct", signal: o.signal },
  );
}

/** One line per outcome: reason, URL, then the stored path and digest, or what went wrong. */
export function formatOutcome(r: DownloadResult): string {
  if (r.ok)
    return `${r.reason}\t${r.file.url}\t${r.file.path}\tsha256=${r.file.sha256}\tbytes=${r.file.bytes}`;
  return `${r.reason}\t${r.url}\t${r.message}`;
}

/** The outcome as the JSON line `--json` prints (no secrets: URLs only, as requested). */
export function outcomeJson(r: DownloadResult): string {
  if (r.ok) return JSON.stringify({ reason: r.reason, status: r.status, ...r.file, timings: r.timings });
  const { landing: _landing, ...rest } = r;
  return JSON.stringify(rest);
}
