// The throughput chart of a page over the state (`docstokg serve`): outcome counts and bytes sampled
// from the outcomes of either database (store/reads), seeded with the last hour so the chart starts
// full. The page itself is wired in app/status.ts and app/serve.ts.
import { Database } from "bun:sqlite";
import { type Maybe, mapMaybe } from "../store/maybe.ts";
import type { StateReads } from "../store/reads.ts";
import { sqliteReads } from "../store/sqlite/reads.ts";
import type { ThroughputSampler } from "../telemetry/throughput.ts";

/**
 * Outcome counts and bytes since the chart's window began, advanced incrementally by seq (a
 * primary-key range scan). Older outcomes are not counted: only the rates matter. On SQLite each
 * call answers at once; on PostgreSQL it answers a promise.
 */
export class OutcomeTotals {
  private lastSeq = 0;
  done = 0;
  bytes = 0;
  private readonly reads: StateReads;

  constructor(source: Database | StateReads) {
    this.reads = source instanceof Database ? sqliteReads(source) : source;
  }

  /** Fills the sampler with one sample per minute of the last `minutes`, ending now. */
  seed(sampler: ThroughputSampler, now: number, minutes = 60): Maybe<void> {
    const from = Math.floor(now / 60000) * 60000 - minutes * 60000;
    return mapMaybe(this.reads.outcomesPerMinute(from), (rows) => {
      let m = from / 60000;
      sampler.record({ t: from, done: 0, bytes: 0 });
      for (const r of rows) {
        // Minutes without outcomes still get a sample, so the chart shows the gap as zero.
        for (; m < r.m; m++) sampler.record({ t: (m + 1) * 60000, done: this.done, bytes: this.bytes });
        this.done += r.n;
        this.bytes += r.b;
        this.lastSeq = Math.max(this.lastSeq, r.s);
        sampler.record({ t: Math.min(now, (r.m + 1) * 60000), done: this.done, bytes: this.bytes });
        m = r.m + 1;
      }
      // Everything committed so far is now accounted for (older outcomes deliberately left out).
      return mapMaybe(this.reads.maxOutcomeSeq(), (s) => {
        this.lastSeq = Math.max(this.lastSeq, s);
      });
    }) as Maybe<void>;
  }

  /** Adds the outcomes committed since the last call. */
  advance(): Maybe<void> {
    return mapMaybe(this.reads.outcomesAfter(this.lastSeq), (r) => {
      if (r.n === 0) return;
      this.done += r.n;
      this.bytes += r.b;
      this.lastSeq = r.s ?? this.lastSeq;
    });
  }
}
