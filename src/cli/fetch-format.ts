// What `fetch` and `resolve` print: a job step's result as one tab-separated line or one JSON object
// per work (with the attempts the step recorded), and a plan's candidates by tier and resolver.
import { extname, join, resolve } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Reason } from "../core/reasons.ts";
import { byIdPath, type StoredKind } from "../library/layout.ts";
import type { PlanProgress } from "../resolve/progress.ts";
import type { StepResult } from "../runner/step.ts";
import type { AttemptRecord } from "../store/types.ts";

/** One request or candidate try, as `fetch --json` prints it (tiers 1-based, times ISO-8601 UTC). */
export interface FetchAttempt {
  role: string;
  resolver?: string;
  tier?: number;
  url?: string;
  host?: string;
  http_status?: number;
  reason?: string;
  bytes?: number;
  elapsed_ms?: number;
  rate_wait_ms?: number;
  held_back_ms?: number;
  at?: string;
}

/** The line `fetch` prints per work (and its JSON form). */
export interface FetchOutcome {
  id: string;
  ok: boolean;
  reason: Reason;
  transient?: boolean;
  /** When trying again may succeed (Retry-After, cool-down, breaker reset, a wait beyond politeness.max_wait_s). */
  retry_at?: string;
  resolver?: string;
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
  /** Every request and candidate try that went out, in order (what `queue run` records as attempts). */
  attempts: FetchAttempt[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Only the fields that carry a value: JSON lines stay short and keep their old shape. */
function present<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;
}

export function fetchAttempt(a: AttemptRecord): FetchAttempt {
  return present({
    role: a.role ?? "artifact",
    resolver: a.resolver ?? undefined,
    tier: a.tier ?? undefined,
    url: a.url ?? undefined,
    host: a.host ?? undefined,
    http_status: a.httpStatus ?? undefined,
    reason: a.reason ?? undefined,
    bytes: a.bytes ?? undefined,
    elapsed_ms: a.elapsedMs ?? undefined,
    rate_wait_ms: a.rateWaitMs ?? undefined,
    held_back_ms: a.heldBackMs ?? undefined,
    at: a.at === undefined ? undefined : iso(a.at),
  });
}

const KINDS: Record<string, StoredKind> = { ".pdf": "pdf", ".xml": "xml", ".html": "html" };

/** The work's outcome from the job step's result; paths absolute under the library `outDir`. */
export function fetchOutcome(id: string, r: StepResult, outDir: string): FetchOutcome {
  const attempts = r.attempts.map(fetchAttempt);
  if (!r.ok)
    return present({
      id,
      ok: false,
      reason: r.reason,
      transient: r.transient,
      retry_at: r.retryAt === undefined ? undefined : iso(r.retryAt),
      message: r.message,
      attempts,
    });
  const d = r.detail;
  const path = d.path ? join(resolve(outDir), d.path) : undefined;
  const kind = path ? KINDS[extname(path)] : undefined;
  return present({
    id,
    ok: true,
    reason: r.reason,
    resolver: d.resolver ?? undefined,
    tier: d.tier ?? undefined,
    url: d.url ?? undefined,
    final_url: d.finalUrl ?? undefined,
    path,
    by_id_path: kind ? byIdPath(outDir, id, kind) : undefined,
    sha256: d.sha256 ?? undefined,
    bytes: d.bytes ?? undefined,
    license: d.license ?? undefined,
    license_url: d.licenseUrl ?? undefined,
    version: d.version ?? undefined,
    host_type: d.hostType ?? undefined,
    oa_status: d.oaStatus ?? undefined,
    attempts,
  });
}

/**
 * One tab-separated line per work. Obtained: reason, the URL the file came from, the library path,
 * digest, size, the work as given and which resolver/tier found it. Not obtained: reason, the work
 * as given, and why (`(transient)` when a later attempt may succeed, and from when it may).
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
  const retry = o.retry_at ? `; try again after ${o.retry_at}` : "";
  return [o.reason, input, `${o.transient ? "(transient) " : ""}${o.message ?? ""}${retry}`].join("\t");
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

export function listingOf(id: string, tiers: Config["resolvers"]["tiers"], progress: PlanProgress): Listing {
  const byTier: Listing["tiers"] = tiers.map((names, t) => {
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
  return { id, derived: progress.derived, tiers: byTier };
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
