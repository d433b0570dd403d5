// Running the built binary as a long-lived runner: spawn it, watch its stderr (JSON log lines) for
// an event, signal or kill it, and read the state it left behind.
import { Database } from "bun:sqlite";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { builtBinary } from "../support/binary.ts";

export interface RunnerProcess {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** Resolves with the first match of `re` in stderr (waits for more output). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number>;
}

async function pump(stream: ReadableStream<Uint8Array>, onText: (t: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onText(decoder.decode(value, { stream: true }));
  }
}

export async function spawnRunner(
  args: string[],
  o: { cwd: string; env?: Record<string, string> },
): Promise<RunnerProcess> {
  const binary = await builtBinary();
  const proc = Bun.spawn([binary, ...args], {
    cwd: o.cwd,
    env: o.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: o.cwd },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  let out = "";
  const listeners = new Set<() => void>();
  const pumped = Promise.all([
    pump(proc.stderr, (t) => {
      err += t;
      for (const l of listeners) l();
    }),
    pump(proc.stdout, (t) => {
      out += t;
    }),
  ]);
  const exited = proc.exited.then(async (code) => {
    await pumped;
    for (const l of listeners) l();
    return code;
  });
  return {
    proc,
    stderr: () => err,
    stdout: () => out,
    exited,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        let finished = false;
        const check = () => {
          const m = err.match(re);
          if (m) {
            done();
            resolve(m);
          } else if (proc.exitCode !== null && proc.killed === false && finished === false) {
            // keep waiting for the last output to be pumped; exited() wakes us once more
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${re} in runner stderr:\n${err.slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          finished = true;
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        exited.then(() => {
          if (!finished) {
            check();
            if (!finished) {
              done();
              reject(new Error(`runner exited before ${re} appeared:\n${err.slice(-2000)}`));
            }
          }
        });
        check();
      });
    },
  };
}

/** The state database, read-only. */
export function openState(stateDir: string): Database {
  return new Database(join(stateDir, "queue.db"), { readonly: true });
}

export type StateCounts = Record<"queued" | "in_progress" | "done" | "skipped" | "error", number>;

export function stateCounts(db: Database): StateCounts {
  const out: StateCounts = { queued: 0, in_progress: 0, done: 0, skipped: 0, error: 0 };
  for (const r of db
    .query<{ state: string; n: number }, []>("SELECT state, count(*) AS n FROM jobs GROUP BY state")
    .all())
    out[r.state as keyof StateCounts] = r.n;
  return out;
}

export function manifestLines(
  stateDir: string,
): { seq: number; artifact_id: string; state: string; reason: string }[] {
  const path = join(stateDir, "manifest.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Stored files whose bytes no longer match the SHA-256 recorded in their outcome. */
export function corruptFiles(db: Database, outDir: string): string[] {
  const bad: string[] = [];
  for (const o of db
    .query<{ path: string; sha256: string }, []>(
      "SELECT path, sha256 FROM outcomes WHERE state = 'done' AND path IS NOT NULL",
    )
    .all()) {
    const file = join(outDir, o.path);
    const sha = existsSync(file) ? createHash("sha256").update(readFileSync(file)).digest("hex") : "missing";
    if (sha !== o.sha256) bad.push(`${o.path}: ${sha}`);
  }
  return bad;
}

/** Files left in the library's temp directory. */
export function tempFiles(outDir: string): string[] {
  const dir = join(outDir, ".tmp");
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** One line of a state directory's manifest.jsonl, the fields the fleet tests compare. */
export interface ManifestRecord {
  seq: number;
  artifact_id: string;
  state: string;
  sha256: string | null;
  path: string | null;
}

/** The lines of a state directory's manifest (none when it has no manifest yet). */
export function manifestRecords(stateDir: string): ManifestRecord[] {
  const file = join(stateDir, "manifest.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManifestRecord);
}
