// Group commit: the commits of jobs that finish in the same turn of the event loop are written in
// one database transaction. Each job's commit stays its own compare-and-set on its lease token (a
// savepoint inside the transaction), so batching changes cost, not meaning: a stale token still
// changes nothing, and one failing commit does not undo the others.
import type { JobQueue, LeasedJob } from "../store/types.ts";
import type { Commit } from "./decide.ts";
import { write } from "./worker.ts";

/** Runs `fn` inside one write transaction of the queue's database (its statements run synchronously). */
export type Transactor = (fn: () => void) => void;

interface Pending {
  job: LeasedJob;
  commit: Commit;
  resolve(ok: boolean): void;
  reject(e: unknown): void;
}

export class CommitBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly transact?: Transactor,
  ) {}

  write(job: LeasedJob, commit: Commit): Promise<boolean> {
    // Only acks are batched: one synchronous statement each. Fail/release take several steps.
    if (!this.transact || commit.kind !== "ack") return write(this.queue, job, commit);
    return new Promise((resolve, reject) => {
      this.pending.push({ job, commit, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    let results: Promise<boolean>[] = [];
    try {
      // The queue's methods run their SQL synchronously when called, so every ack lands inside
      // this transaction.
      (this.transact as Transactor)(() => {
        for (const p of batch) results.push(write(this.queue, p.job, p.commit));
      });
    } catch {
      // The transaction failed and rolled back (database busy): commit one by one instead.
      results = batch.map((p) => write(this.queue, p.job, p.commit));
    }
    for (const [i, p] of batch.entries()) (results[i] as Promise<boolean>).then(p.resolve, p.reject);
  }
}
