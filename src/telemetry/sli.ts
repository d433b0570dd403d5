// Service-level indicators as pure functions over rows: nearest-rank percentiles (core/percentiles.ts,
// re-exported), ratios, and the objectives check. The report gathers rows from
// the database and hands them here, so every figure can be tested with numbers worked out by hand.

export {
  type Distribution,
  distribution,
  GroupedPercentiles,
  groupedDistributions,
  nearestRank,
  percentile,
  sortedDistribution,
} from "../core/percentiles.ts";

/** a / b, or null when b is 0 (a ratio of nothing is unknown, not zero). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

export interface Objectives {
  max_corruption: number;
  max_429_ratio: number;
  max_metadata_rate_wait_p95_ms: number;
}

export type ObjectiveName = "corruption" | "429_ratio" | "metadata_rate_wait_p95";

/**
 * What each objective measures and why its default passes a healthy polite run: `report --help`
 * prints these lines.
 */
export const OBJECTIVE_HELP: Record<ObjectiveName, string> = {
  corruption:
    "stored files missing or not matching their SHA-256 (max_corruption, default 0); measured only with --verify",
  "429_ratio":
    "per host, 429 answers / requests that went out (max_429_ratio, default 0.02): a polite run is rarely told to slow down; any host over it fails",
  metadata_rate_wait_p95:
    "p95 of the wait of metadata (API) requests beyond the configured pacing, i.e. in cool-downs hosts imposed after 429/503 or Retry-After (max_metadata_rate_wait_p95_ms, default 250). Waiting for the configured rates and concurrency is the politeness working and is not counted: a healthy run measures 0",
};

export interface ObjectiveResult {
  name: ObjectiveName;
  /** `unmeasured`: the figure is unknown (no --verify, no requests of that kind). */
  status: "met" | "violated" | "unmeasured";
  /** The bound from `telemetry.objectives`. */
  target: number;
  /** The measured figure (worst host for the 429 ratio); null when unmeasured. */
  actual: number | null;
  /** One line for people: what was measured, and what broke the bound. */
  detail: string;
}

export interface ObjectiveInputs {
  /** Missing plus corrupt files found by --verify; null when files were not verified. */
  corruptFiles: number | null;
  hosts: readonly { host: string; requests: number; responses429: number }[];
  /** p95 of the metadata requests' wait in host-imposed cool-downs (beyond the configured pacing). */
  metadataHeldBackP95Ms: number | null;
}

const pct = (x: number) => `${(100 * x).toFixed(2).replace(/\.?0+$/, "")} %`;

/** Each objective met, violated or unmeasured, in a fixed order. */
export function evaluateObjectives(inputs: ObjectiveInputs, o: Objectives): ObjectiveResult[] {
  const results: ObjectiveResult[] = [];

  const bad = inputs.corruptFiles;
  results.push(
    bad === null
      ? {
          name: "corruption",
          status: "unmeasured",
          target: o.max_corruption,
          actual: null,
          detail: "stored files not verified (run with --verify)",
        }
      : {
          name: "corruption",
          status: bad <= o.max_corruption ? "met" : "violated",
          target: o.max_corruption,
          actual: bad,
          detail: `${bad} stored file(s) missing or not matching their SHA-256 (allowed ${o.max_corruption})`,
        },
  );

  const measured = inputs.hosts.filter((h) => h.requests > 0);
  if (measured.length === 0) {
    results.push({
      name: "429_ratio",
      status: "unmeasured",
      target: o.max_429_ratio,
      actual: null,
      detail: "no requests recorded",
    });
  } else {
    const over = measured
      .map((h) => ({ host: h.host, r: h.responses429 / h.requests, h }))
      .filter((x) => x.r > o.max_429_ratio)
      .sort((a, b) => b.r - a.r || a.host.localeCompare(b.host));
    const worst = Math.max(...measured.map((h) => h.responses429 / h.requests));
    results.push({
      name: "429_ratio",
      status: over.length === 0 ? "met" : "violated",
      target: o.max_429_ratio,
      actual: worst,
      detail:
        over.length === 0
          ? `every host at or under ${pct(o.max_429_ratio)} (worst ${pct(worst)})`
          : `over ${pct(o.max_429_ratio)}: ${over
              .map((x) => `${x.host} ${pct(x.r)} (${x.h.responses429}/${x.h.requests})`)
              .join(", ")}`,
    });
  }

  const p95 = inputs.metadataHeldBackP95Ms;
  results.push(
    p95 === null
      ? {
          name: "metadata_rate_wait_p95",
          status: "unmeasured",
          target: o.max_metadata_rate_wait_p95_ms,
          actual: null,
          detail: "no metadata requests recorded",
        }
      : {
          name: "metadata_rate_wait_p95",
          status: p95 <= o.max_metadata_rate_wait_p95_ms ? "met" : "violated",
          target: o.max_metadata_rate_wait_p95_ms,
          actual: p95,
          detail: `metadata wait in host cool-downs (beyond pacing) p95 ${p95} ms (allowed ${o.max_metadata_rate_wait_p95_ms} ms)`,
        },
  );
  return results;
}
