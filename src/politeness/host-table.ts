// The host table: how fast and how wide docstokg may talk to each host. Role defaults from config,
// replaced by the built-in facts about known services (docs/resolvers.md), replaced in turn by
// `politeness.hosts.<host>` in config; limits a host announces itself can only tighten the result.
// Pure: built from the config once, asked per request.
import type { Config } from "../config/schema.ts";
import type { Role } from "../net/types.ts";
import { parseRate } from "./rate.ts";

export const ROLES: readonly Role[] = ["metadata", "landing", "artifact"];

export interface HostPolicy {
  host: string;
  /** Milliseconds between two requests of each role. */
  intervalMs: Record<Role, number>;
  /** Requests that may go back to back before the interval applies. */
  burst: number;
  /** Requests in flight at once, across every process sharing the database. */
  maxConcurrent: number;
  /** First cool-down after a 429/503 without Retry-After; doubles on each repeat. */
  initialBackoffMs: number;
  /** Where the rate came from, for `config print` and the status page. */
  source: "defaults" | "built-in" | "config";
}

interface BuiltinHost {
  rate: string;
  maxConcurrent?: number;
  burst?: number;
  initialBackoffMs?: number;
}

/** What the host table needs to know besides config: credentials change some services' limits. */
export interface HostTableOptions {
  /** A contact email puts Crossref requests in the polite pool (10/s, 3 concurrent). */
  contactEmail?: string;
  /** An NCBI API key raises the NCBI limit from 3/s to 10/s. */
  ncbiApiKey?: string;
}

/** Published or recorded limits of the services the resolvers call (docs/resolvers.md). */
export function builtinHosts(opts: HostTableOptions): Record<string, BuiltinHost> {
  const arxiv: BuiltinHost = { rate: "1/3s", maxConcurrent: 1, burst: 1 };
  const ncbi: BuiltinHost = { rate: opts.ncbiApiKey ? "10/s" : "3/s" };
  // The Wayback Machine answers 429 without Retry-After and asks for about a minute of quiet.
  const wayback = { initialBackoffMs: 60_000 };
  return {
    "arxiv.org": arxiv,
    "export.arxiv.org": arxiv,
    "www.ncbi.nlm.nih.gov": ncbi,
    "eutils.ncbi.nlm.nih.gov": ncbi,
    "pmc.ncbi.nlm.nih.gov": ncbi,
    "api.crossref.org": opts.contactEmail
      ? { rate: "10/s", maxConcurrent: 3 }
      : { rate: "5/s", maxConcurrent: 1 },
    "api.unpaywall.org": { rate: "10/s" },
    "api.openalex.org": { rate: "10/s" },
    "api.semanticscholar.org": { rate: "1/s", burst: 1 },
    "www.ebi.ac.uk": { rate: "10/s" },
    "web.archive.org": { rate: "8/s", ...wayback },
    // The availability API has no published figure; it sits on the same index as CDX (0.4/s), so
    // stay well below the capture rate.
    "archive.org": { rate: "1/s", burst: 1, ...wayback },
    // Repository sources (docs/resolvers.md has where each figure comes from).
    "api.core.ac.uk": { rate: "1/s", burst: 1, maxConcurrent: 2 },
    "zenodo.org": { rate: "1/s", maxConcurrent: 2 },
    "api.figshare.com": { rate: "1/s", burst: 1, maxConcurrent: 2 },
    "api.archives-ouvertes.fr": { rate: "2/s", maxConcurrent: 2 },
    "api.osf.io": { rate: "1/s", burst: 1, maxConcurrent: 2 },
    "api.openaire.eu": { rate: "1/min", burst: 1, maxConcurrent: 1 },
  };
}

export interface HostTable {
  policyFor(host: string): HostPolicy;
}

/** Limits a host announced in its response headers (see `parseAnnouncedLimits`). */
export interface AnnouncedLimits {
  intervalMs?: number;
  maxConcurrent?: number;
}

interface Override {
  intervalMs: Partial<Record<Role, number>>;
  maxConcurrent?: number;
  burst?: number;
  initialBackoffMs?: number;
  source: HostPolicy["source"];
}

/** Build the table; rates are parsed here so a bad value fails at start with its key path. */
export function createHostTable(config: Pick<Config, "politeness">, opts: HostTableOptions = {}): HostTable {
  const p = config.politeness;
  const roleDefault = (role: Role) => parseRate(p.rates[role] ?? "", `politeness.rates.${role}`);
  const defaults: Record<Role, number> = {
    metadata: roleDefault("metadata"),
    landing: roleDefault("landing"),
    artifact: roleDefault("artifact"),
  };
  const overrides = new Map<string, Override>();
  for (const [host, b] of Object.entries(builtinHosts(opts))) {
    const interval = parseRate(b.rate, `built-in rate of ${host}`);
    overrides.set(host, {
      intervalMs: { metadata: interval, landing: interval, artifact: interval },
      maxConcurrent: b.maxConcurrent,
      burst: b.burst,
      initialBackoffMs: b.initialBackoffMs,
      source: "built-in",
    });
  }
  for (const [rawHost, h] of Object.entries(p.hosts)) {
    const host = rawHost.trim().toLowerCase();
    const key = `politeness.hosts.${rawHost}`;
    const base = overrides.get(host);
    const intervalMs: Partial<Record<Role, number>> = { ...base?.intervalMs };
    if (h.rate !== undefined) {
      const all = parseRate(h.rate, `${key}.rate`);
      for (const role of ROLES) intervalMs[role] = all;
    }
    for (const role of ROLES) {
      const r = h.roles?.[role];
      if (r !== undefined) intervalMs[role] = parseRate(r, `${key}.roles.${role}`);
    }
    overrides.set(host, {
      intervalMs,
      maxConcurrent: h.max_concurrent ?? base?.maxConcurrent,
      burst: h.burst ?? base?.burst,
      initialBackoffMs: base?.initialBackoffMs,
      source: "config",
    });
  }

  return {
    policyFor(host: string): HostPolicy {
      const o = overrides.get(host);
      return {
        host,
        intervalMs: {
          metadata: o?.intervalMs.metadata ?? defaults.metadata,
          landing: o?.intervalMs.landing ?? defaults.landing,
          artifact: o?.intervalMs.artifact ?? defaults.artifact,
        },
        burst: o?.burst ?? p.burst,
        maxConcurrent: o?.maxConcurrent ?? p.max_per_host,
        initialBackoffMs: o?.initialBackoffMs ?? 1000,
        source: o?.source ?? "defaults",
      };
    },
  };
}

/**
 * Tighten a policy with what the host announced: a longer interval and a lower concurrency are
 * adopted, anything more generous than configured is ignored (an announcement never speeds us up).
 */
export function applyAnnounced(policy: HostPolicy, a: AnnouncedLimits | undefined): HostPolicy {
  if (!a || (a.intervalMs === undefined && a.maxConcurrent === undefined)) return policy;
  const slower = (ms: number) => (a.intervalMs !== undefined && a.intervalMs > ms ? a.intervalMs : ms);
  return {
    ...policy,
    intervalMs: {
      metadata: slower(policy.intervalMs.metadata),
      landing: slower(policy.intervalMs.landing),
      artifact: slower(policy.intervalMs.artifact),
    },
    maxConcurrent:
      a.maxConcurrent !== undefined ? Math.min(policy.maxConcurrent, a.maxConcurrent) : policy.maxConcurrent,
  };
}

/** Longest interval adopted from an announcement: a garbled header must not stall a host for hours. */
export const MAX_ANNOUNCED_INTERVAL_MS = 60_000;

type HeaderSource = Headers | Record<string, string | undefined>;

function header(h: HeaderSource, name: string): string | undefined {
  if (h instanceof Headers) return h.get(name) ?? undefined;
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function parseDuration(value: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? "s").toLowerCase();
  return n * (unit === "ms" ? 1 : unit === "m" ? 60_000 : 1000);
}

/**
 * Limits announced by a response (Crossref: `x-rate-limit-limit: 10`, `x-rate-limit-interval: 1s`,
 * `x-concurrency-limit: 3`). A rate is read only from a limit *and* an interval, so counters of
 * other meanings (OpenAlex's daily `x-ratelimit-limit` without an interval) are not mistaken for it.
 */
export function parseAnnouncedLimits(headers: HeaderSource): AnnouncedLimits | undefined {
  const out: AnnouncedLimits = {};
  const limit = header(headers, "x-rate-limit-limit") ?? header(headers, "x-ratelimit-limit");
  const interval = header(headers, "x-rate-limit-interval") ?? header(headers, "x-ratelimit-interval");
  if (limit !== undefined && interval !== undefined) {
    const count = Number(limit.trim());
    const periodMs = parseDuration(interval);
    if (Number.isFinite(count) && count > 0 && periodMs !== undefined && periodMs > 0) {
      out.intervalMs = Math.min(periodMs / count, MAX_ANNOUNCED_INTERVAL_MS);
    }
  }
  const conc = header(headers, "x-concurrency-limit");
  if (conc !== undefined && /^\s*\d+\s*$/.test(conc) && Number(conc) >= 1) out.maxConcurrent = Number(conc);
  return out.intervalMs === undefined && out.maxConcurrent === undefined ? undefined : out;
}
