// The manifest of one state directory when the outcomes live in PostgreSQL (SPEC 13): the directory
// has an instance id (kept in `<state_dir>/instance-id`, so a restarted runner continues its
// predecessor's claims); the instance claims committed outcomes, appends them to its manifest.jsonl,
// fsyncs, and marks them appended. Appenders of one instance take its advisory lock in turn.
// After a crash between append and mark, the claimed rows come back as unappended: the ones the
// file already ends with (same seq order) are skipped, the rest appended.
import { randomUUID } from "node:crypto";
import { closeSync, fdatasyncSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { SQL } from "bun";
import {
  claimOutcomes,
  lockManifestInstance,
  markAppended,
  unappendedOutcomes,
  unlockManifestInstance,
} from "../store/postgres/outbox.ts";
import { manifestLine, repairTail } from "./manifest.ts";

export const INSTANCE_FILE = "instance-id";

/** The state directory's instance id, created once (exclusively: two starting runners agree on it). */
export function stateInstanceId(stateDir: string): string {
  const file = join(stateDir, INSTANCE_FILE);
  try {
    writeFileSync(file, `${randomUUID()}\n`, { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const id = readFileSync(file, "utf8").trim();
  if (!/^[\w-]{8,}$/.test(id))
    throw new Error(`${file}: expected an instance id, found ${JSON.stringify(id)}`);
  return id;
}

export interface FleetManifestOptions {
  sql: SQL;
  path: string;
  instance: string;
  batch?: number;
  onReconcile?: (info: { skipped: number; tornBytes: number }) => void;
}

export class FleetManifestWriter {
  private readonly batch: number;
  constructor(private readonly o: FleetManifestOptions) {
    this.batch = o.batch ?? 500;
  }

  /** Appends every committed outcome this instance claims; answers the lines appended. */
  async flush(): Promise<number> {
    const conn = await this.o.sql.reserve();
    try {
      await lockManifestInstance(conn, this.o.instance);
      try {
        let total = 0;
        for (;;) {
          const pending = await unappendedOutcomes(conn, this.o.instance, this.batch);
          const rows = pending.length > 0 ? pending : await claimOutcomes(conn, this.o.instance, this.batch);
          if (rows.length === 0) return total;
          total += this.append(rows, pending.length > 0);
          await markAppended(
            conn,
            this.o.instance,
            rows.map((r) => r.seq),
          );
          if (rows.length < this.batch && pending.length === 0) return total;
        }
      } finally {
        await unlockManifestInstance(conn, this.o.instance);
      }
    } finally {
      conn.release();
    }
  }

  /** Writes the rows (by seq) not already at the file's end; answers how many were written. */
  private append(rows: Awaited<ReturnType<typeof claimOutcomes>>, recovering: boolean): number {
    const fd = openSync(this.o.path, "a+");
    try {
      const tail = repairTail(fd);
      let from = 0;
      if (recovering && tail.lastSeq !== null) {
        const at = rows.findIndex((r) => r.seq === tail.lastSeq);
        if (at >= 0) from = at + 1;
      }
      if (from > 0 || tail.tornBytes > 0) this.o.onReconcile?.({ skipped: from, tornBytes: tail.tornBytes });
      const todo = rows.slice(from);
      if (todo.length === 0) return 0;
      const data = Buffer.from(todo.map(manifestLine).join(""), "utf8");
      for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
      fdatasyncSync(fd);
      return todo.length;
    } finally {
      closeSync(fd);
    }
  }
}
