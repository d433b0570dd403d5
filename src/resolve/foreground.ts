// One-off resolution and download in the foreground (`docstokg fetch` / `docstokg resolve`): the
// same client, politeness, metadata cache, plan and download pipeline as the runner, wired on the
// state directory's database, plus the printable summaries of what happened.
import type { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import type { Config, ResolverName } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import { sweepTempFiles } from "../download/temp.ts";
import { type DownloadThreads, startDownloadThreads } from "../download/threads.ts";
import { createMetadataCache } from "../net/cache.ts";
import { createHttpClient, type PolitenessGate, type Transport } from "../net/fetch.ts";
import type { Lookup } from "../net/gate.ts";
import { sqliteRobotsStore } from "../net/robots-store.ts";
import type { HttpClient, SlowDownNotice } from "../net/types.ts";
import { createPoliteness } from "../politeness/politeness.ts";
import { type QuotaGate, Quotas } from "../quota/gate.ts";
import { openStateDatabase } from "../store/db.ts";
import {
  prepareRecordStoredUrl,
  type RecordStoredUrl,
  type StoredUrls,
  storedUrls,
} from "../store/stored-urls.ts";
import { VERSION } from "../version.ts";
import { downloadTrier, storedUrlEntry } from "./attempt.ts";
import { resolverSlots, resolverWarnings, runPlan } from "./plan.ts";
import type { PlanProgress } from "./progress.ts";
import { outcomeProvenance } from "./provenance.ts";
import { type ResolverSettings, resolverSettings } from "./resolver.ts";
import type { ResolverSlots } from "./slots.ts";
import type { ResolvableWork } from "./types.ts";

export interface Pipeline {
  config: Config;
  http: HttpClient;
  slots: ResolverSlots;
  settings: ResolverSettings;
  /** Resolvers that cannot run with this configuration (log each once). */
  warnings: string[];
  /** The process's flush and hashing threads, shared by every download. */
  threads: DownloadThreads;
  /** The library's index by canonical URL, shared with the runner: reuse and conditional requests. */
  storedUrls: StoredUrls;
  recordStoredUrl: RecordStoredUrl;
  /** Daily quotas per resolver, counted in the state database with the runners'. */
  quota: QuotaGate;
  close(): void;
}

export interface PipelineOptions {
  env?: Record<string, string | undefined>;
  lookup?: Lookup;
  transport?: Transport;
  now?: () => number;
  /** Told before a 429/503 of a landing page or file is asked again. */
  onSlowDown?: (notice: SlowDownNotice) => void;
}

/**
 * The HTTP client over a state database: its politeness gate, metadata cache and shared robots.txt
 * verdicts (runner and fetch).
 */
export function stateHttpClient(
  db: Database,
  config: Config,
  politeness: PolitenessGate,
  o: PipelineOptions & { now: () => number },
): HttpClient {
  const cache = createMetadataCache(db, {
    defaultTtlMs: config.network.cache_ttl_s * 1000,
    maxBytes: config.network.cache_max_bytes,
  });
  return createHttpClient({
    config,
    politeness,
    version: VERSION,
    cache,
    robotsStore: sqliteRobotsStore(db),
    now: o.now,
    lookup: o.lookup,
    transport: o.transport,
    onSlowDown: o.onSlowDown,
  });
}

export function openPipeline(config: Config, o: PipelineOptions = {}): Pipeline {
  mkdirSync(config.state_dir, { recursive: true });
  // Temp files an interrupted earlier run left behind (partial downloads younger than this resume).
  sweepTempFiles(config.out_dir, config.download.temp_max_age_s * 1000, (o.now ?? Date.now)());
  const db: Database = openStateDatabase(config.state_dir);
  const now = o.now ?? Date.now;
  const politeness = createPoliteness({ db, config, now });
  const http = stateHttpClient(db, config, politeness, { ...o, now });
  const settings = resolverSettings(config, o.env ?? {});
  const threads = startDownloadThreads();
  return {
    config,
    http,
    slots: resolverSlots(config),
    settings,
    warnings: resolverWarnings(config, settings),
    threads,
    storedUrls: storedUrls(db),
    recordStoredUrl: prepareRecordStoredUrl(db),
    quota: new Quotas(db, config, now),
    close() {
      threads.close();
      politeness.close();
      db.close();
    },
  };
}

/** The line `fetch` prints per work (and its JSON form). */
export interface FetchOutcome {
  id: string;
  ok: boolean;
  reason: Reason;
  transient?: boolean;
  resolver?: ResolverName;
  tier?: number;
  url?: string;
  final_url?: string;
  /** The file in the content-addressed store, and its friendly by-id link. */
  path?: string;
  by_id_path?: string;
  sha256?: string;
  bytes?: number;
  /** What a source said about the file (SPEC 16); absent when none said so. */
  license?: string;
  license_url?: string;
  version?: string;
  host_type?: string;
  oa_status?: string;
  message?: string;
}

export async function fetchWork(
  p: Pipeline,
  work: ResolvableWork,
  signal?: AbortSignal,
): Promise<FetchOutcome> {
  const maxWaitMs = p.config.politeness.max_wait_s * 1000;
  const tryCandidate = downloadTrier(
    { http: p.http, outDir: p.config.out_dir, download: p.config.download, now: Date.now, ...p.threads },
    { artifactId: work.id, maxWaitMs, storedUrls: p.storedUrls },
  );
  const r = await runPlan(work, {
    config: p.config,
    settings: p.settings,
    http: p.http,
    slots: p.slots,
    signal,
    maxWaitMs,
    quota: p.quota,
    tryCandidate,
  });
  if (!r.ok) return { id: work.id, ok: false, reason: r.reason, transient: r.transient, message: r.message };
  // No queue to ack here: the file is already durable, so its index entry is written at once.
  const stored = storedUrlEntry(r.outcome, p.config.out_dir);
  if (stored) p.recordStoredUrl(stored, work.id, Date.now());
  const f = r.outcome.file;
  return {
    id: work.id,
    ok: true,
    reason: r.outcome.reason,
    resolver: r.candidate.resolver,
    // Tiers are shown 1-based, as the configuration lists them.
    tier: r.candidate.tier + 1,
    url: f.url,
    final_url: f.finalUrl,
    path: f.path,
    by_id_path: f.byIdPath,
    sha256: f.sha256,
    bytes: f.bytes,
    ...outcomeProvenance(r.candidate.provenance),
  };
}

/**
 * One tab-separated line per work. Obtained: reason, the URL the file came from, the library path,
 * digest, size, the work as given and which resolver/tier found it. Not obtained: reason, the work
 * as given, and why (`(transient)` when a later attempt may succeed).
 */
export function fetchLine(o: FetchOutcome, input: string = o.id): string {
  if (o.ok)
    return [
      o.reason,
      o.url,
      o.path,
      `sha256=${o.sha256}`,
      `bytes=${o.bytes}`,
      `work=${input}`,
      `via=${o.resolver}/tier${o.tier}`,
    ].join("\t");
  return [o.reason, input, `${o.transient ? "(transient) " : ""}${o.message ?? ""}`].join("\t");
}

/** `resolve`: candidates by tier and resolver, with each resolver's state. */
export interface Listing {
  id: string;
  derived: PlanProgress["derived"];
  tiers: {
    tier: number;
    resolvers: {
      name: string;
      state: string;
      reason?: string;
      note?: string;
      candidates: { url: string; kind: string; provenance: Record<string, unknown> }[];
    }[];
  }[];
}

export async function listCandidates(
  p: Pipeline,
  work: ResolvableWork,
  o: { scrapeLanding: boolean; signal?: AbortSignal },
): Promise<Listing> {
  const r = await runPlan(work, {
    config: p.config,
    settings: p.settings,
    http: p.http,
    slots: p.slots,
    signal: o.signal,
    quota: p.quota,
    listOnly: { scrapeLanding: o.scrapeLanding },
  });
  return listingOf(work.id, p.config, r.progress);
}

export function listingOf(id: string, config: Config, progress: PlanProgress): Listing {
  const tiers: Listing["tiers"] = config.resolvers.tiers.map((names, t) => {
    const here = new Set<string>(names);
    // Candidates a resolver of another tier produced here (derived ids feeding `direct`).
    for (const c of progress.candidates) if (c.tier === t) here.add(c.resolver);
    return {
      tier: t + 1,
      resolvers: [...here].map((name) => {
        const rec = progress.resolvers[name];
        const waybackAsked = Object.keys(progress.resolvers).some((k) => k.startsWith("wayback "));
        const state = rec?.state ?? (name === "wayback" && waybackAsked ? "settled" : "not asked");
        return {
          name,
          state,
          reason: rec?.reason,
          note:
            rec?.note ??
            (name === "wayback" && !waybackAsked ? "asked only for URLs that failed to download" : undefined),
          candidates: progress.candidates
            .filter((c) => c.resolver === name && c.tier === t)
            .map((c) => ({ url: c.url, kind: c.kind, provenance: c.provenance as Record<string, unknown> })),
        };
      }),
    };
  });
  return { id, derived: progress.derived, tiers };
}

export function listingText(l: Listing): string {
  const lines = [l.id];
  const derived = Object.entries(l.derived).map(([k, v]) => `${k} ${v}`);
  if (derived.length) lines.push(`  found: ${derived.join(", ")}`);
  for (const t of l.tiers) {
    lines.push(`tier ${t.tier}`);
    for (const r of t.resolvers) {
      const status = [r.state, r.reason, r.note].filter(Boolean).join(": ");
      lines.push(
        `  ${r.name.padEnd(17)}${r.candidates.length ? `${r.candidates.length} candidate(s)` : status}`,
      );
      for (const c of r.candidates) {
        const prov = Object.entries(c.provenance)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ");
        lines.push(`    ${c.kind.padEnd(8)}${c.url}${prov ? `  [${prov}]` : ""}`);
      }
    }
  }
  return `${lines.join("\n")}\n`;
}
