// Read-only queries on a thread of their own, with its own connection to the database file: counts
// over millions of rows (the status page's yield) take seconds, and on the serving thread they would
// stall every request, heartbeat and download of the process meanwhile. One query batch at a time;
// each batch runs in one read transaction, so its answers describe one moment.
import type { Database } from "bun:sqlite";

export interface ReadQuery {
  sql: string;
  params?: (string | number | null)[];
}

// Plain JavaScript, so the compiled binary can start it from a Blob like the hashing threads.
const THREAD_SOURCE = `
const { Database } = require("bun:sqlite");
let db;
self.onmessage = (event) => {
  const { id, path, queries } = event.data;
  try {
    if (!db) {
      db = new Database(path, { readonly: true });
      db.run("PRAGMA busy_timeout = 5000");
    }
    const results = db.transaction(() => queries.map((q) => db.query(q.sql).all(...(q.params || []))))();
    postMessage({ id, results });
  } catch (error) {
    postMessage({ id, error: String((error && error.message) || error) });
  }
};
`;

type Pending = { resolve(rows: unknown[][]): void; reject(error: Error): void };

export class QueryThread {
  private worker: Worker | undefined;
  private sourceUrl: string | undefined;
  private next = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly path: string) {}

  /** Runs the queries in one read transaction on the thread; rows per query, in order. */
  run(queries: readonly ReadQuery[]): Promise<unknown[][]> {
    const worker = this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, path: this.path, queries });
    });
  }

  close(): void {
    this.worker?.terminate();
    this.worker = undefined;
    if (this.sourceUrl) URL.revokeObjectURL(this.sourceUrl);
    this.sourceUrl = undefined;
    for (const p of this.pending.values()) p.reject(new Error("query thread closed"));
    this.pending.clear();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    this.sourceUrl ??= URL.createObjectURL(new Blob([THREAD_SOURCE], { type: "application/javascript" }));
    const worker = new Worker(this.sourceUrl, { smol: true } as WorkerOptions);
    // An idle query thread must not keep the process alive.
    (worker as unknown as { unref(): void }).unref();
    worker.onmessage = (event: MessageEvent) => {
      const msg = event.data as { id: number; results?: unknown[][]; error?: string };
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.results ?? []);
    };
    worker.onerror = (event) => {
      const error = new Error(`query thread failed: ${(event as ErrorEvent).message ?? "unknown error"}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.worker = undefined;
    };
    this.worker = worker;
    return worker;
  }
}

/** A query thread on the database's own file; none for an in-memory database. */
export function queryThreadFor(db: Database): QueryThread | undefined {
  const file = db.filename;
  return file && file !== ":memory:" ? new QueryThread(file) : undefined;
}
