// Throughput over time from periodic samples of cumulative counters (jobs finished, bytes), kept in
// a fixed-size ring so memory stays constant however long the process runs. The progress line and
// the dashboard chart read rates from it.

export interface ThroughputSample {
  /** Epoch ms. */
  t: number;
  /** Cumulative terminal jobs at t. */
  done: number;
  /** Cumulative bytes at t. */
  bytes: number;
}

export interface RatePoint {
  /** Epoch ms at the end of the interval. */
  t: number;
  jobsPerSec: number;
  bytesPerSec: number;
}

export class ThroughputSampler {
  private readonly ring: ThroughputSample[] = [];
  constructor(private readonly capacity = 360) {
    if (!(capacity >= 2)) throw new Error("a throughput sampler needs room for at least 2 samples");
  }

  record(sample: ThroughputSample): void {
    const last = this.ring[this.ring.length - 1];
    // A clock that went backwards would give negative intervals: keep the later sample only.
    if (last && sample.t <= last.t) this.ring.pop();
    this.ring.push(sample);
    if (this.ring.length > this.capacity) this.ring.shift();
  }

  samples(): readonly ThroughputSample[] {
    return this.ring;
  }

  /** Average rates over the samples of the last `windowMs` (null with fewer than two samples). */
  rate(windowMs: number): { jobsPerSec: number; bytesPerSec: number } | null {
    return windowRate(this.ring, windowMs);
  }
}

/** Average rates between the newest sample and the oldest one within `windowMs` of it. */
export function windowRate(
  samples: readonly ThroughputSample[],
  windowMs: number,
): { jobsPerSec: number; bytesPerSec: number } | null {
  const last = samples[samples.length - 1];
  if (!last) return null;
  let first: ThroughputSample | undefined;
  for (const s of samples) {
    if (s.t >= last.t - windowMs && s.t < last.t) {
      first = s;
      break;
    }
  }
  if (!first) return null;
  const dt = (last.t - first.t) / 1000;
  return {
    jobsPerSec: Math.max(0, last.done - first.done) / dt,
    bytesPerSec: Math.max(0, last.bytes - first.bytes) / dt,
  };
}

/** Rate per interval between consecutive samples (a counter reset counts as zero, not negative). */
export function rateSeries(samples: readonly ThroughputSample[]): RatePoint[] {
  const out: RatePoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as ThroughputSample;
    const b = samples[i] as ThroughputSample;
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    out.push({
      t: b.t,
      jobsPerSec: Math.max(0, b.done - a.done) / dt,
      bytesPerSec: Math.max(0, b.bytes - a.bytes) / dt,
    });
  }
  return out;
}
