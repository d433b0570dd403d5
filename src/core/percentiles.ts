// Nearest-rank percentiles, also picked from a sorted stream in constant memory: pure, shared by
// the report's indicators (telemetry/sli.ts) and the stores that aggregate rows for it (store/sqlite/report.ts).

export interface Distribution {
  count: number;
  p50: number | null;
  p95: number | null;
}

/** 1-based nearest rank of percentile p among n sorted values: ceil(p/100 · n), at least 1. */
export function nearestRank(n: number, p: number): number {
  if (n <= 0) return 0;
  return Math.min(n, Math.max(1, Math.ceil((p / 100) * n - 1e-9)));
}

/** The nearest-rank percentile of ascending values (null when empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  return sorted[nearestRank(n, p) - 1] ?? null;
}

/** p50 and p95 of values in any order (sorts a copy). */
export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

/**
 * Percentiles per group from (key, value) pairs pushed in (key, value) order, given each group's
 * size up front (a GROUP BY count). Holds one group's position at a time, so memory does not grow
 * with the rows; a push is a comparison or two.
 */
export class GroupedPercentiles {
  private readonly out = new Map<string, Distribution>();
  private key: string | undefined;
  private group: Distribution | undefined;
  private index = 0;
  private rank50 = 0;
  private rank95 = 0;

  constructor(counts: ReadonlyMap<string, number>) {
    for (const [k, n] of counts) this.out.set(k, { count: n, p50: null, p95: null });
  }

  push(key: string, value: number): void {
    if (key !== this.key) {
      this.key = key;
      this.index = 0;
      this.group = this.out.get(key);
      this.rank50 = this.group ? nearestRank(this.group.count, 50) : 0;
      this.rank95 = this.group ? nearestRank(this.group.count, 95) : 0;
    }
    this.index++;
    if (!this.group) return;
    if (this.index === this.rank50) this.group.p50 = value;
    if (this.index === this.rank95) this.group.p95 = value;
  }

  result(): Map<string, Distribution> {
    return this.out;
  }
}

/** GroupedPercentiles over an iterable of rows. */
export function groupedDistributions(
  rows: Iterable<{ key: string; value: number }>,
  counts: ReadonlyMap<string, number>,
): Map<string, Distribution> {
  const picker = new GroupedPercentiles(counts);
  for (const row of rows) picker.push(row.key, row.value);
  return picker.result();
}

/** Percentiles of an ascending stream whose length is known. */
export function sortedDistribution(values: Iterable<number>, count: number): Distribution {
  const picker = new GroupedPercentiles(new Map([["", count]]));
  for (const value of values) picker.push("", value);
  return picker.result().get("") ?? { count: 0, p50: null, p95: null };
}
