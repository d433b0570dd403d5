// The compiled docstokg binary for tests that run the real thing. Built once per distinct source
// tree (keyed by a hash of src/, build.ts and package.json) into the temp directory, so a test
// run never uses a stale binary and repeated runs do not rebuild.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../..");

function sourceHash(): string {
  const hash = createHash("sha256");
  const files = [
    "build.ts",
    "package.json",
    "package-lock.json",
    ...[...new Bun.Glob("src/**/*").scanSync({ cwd: ROOT })].sort(),
  ];
  for (const file of files) {
    hash.update(file);
    hash.update(readFileSync(join(ROOT, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

let building: Promise<string> | undefined;

async function build(): Promise<string> {
  // One folder per checkout, so cleaning old builds never touches another checkout's binary.
  const checkout = createHash("sha256").update(ROOT).digest("hex").slice(0, 8);
  const home = join(tmpdir(), "docstokg-test-bin", checkout);
  const dir = join(home, sourceHash());
  const binary = join(dir, "docstokg");
  if (existsSync(binary)) return binary;
  mkdirSync(home, { recursive: true });
  const staging = mkdtempSync(join(home, "staging-"));
  const proc = Bun.spawn(
    [process.execPath, "run", join(ROOT, "build.ts"), "--outfile", join(staging, "docstokg")],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`building the binary failed (exit ${code}):\n${out}${err}`);
  try {
    renameSync(staging, dir);
  } catch {
    // another test process finished the same build first; its copy is identical
    rmSync(staging, { recursive: true, force: true });
  }
  for (const old of readdirSync(home)) {
    if (old !== dir.split("/").pop() && !old.startsWith("staging-"))
      rmSync(join(home, old), { recursive: true, force: true });
  }
  return binary;
}

/** The path of a binary built from the current sources. */
export function builtBinary(): Promise<string> {
  building ??= build();
  return building;
}

export interface BinaryResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Working directory (default: a new empty directory). */
  cwd?: string;
  /** Environment (default: only PATH and HOME, so the caller's DOCSTOKG_ variables do not leak in). */
  env?: Record<string, string>;
  stdin?: string;
}

/** A fresh empty directory under the system temp directory. */
export function emptyDir(prefix = "docstokg-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Run the built binary with `args` and collect its exit code and output. */
export async function runBinary(args: readonly string[], options: RunOptions = {}): Promise<BinaryResult> {
  const binary = await builtBinary();
  const cwd = options.cwd ?? emptyDir();
  const env = options.env ?? { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd };
  const proc = Bun.spawn([binary, ...args], {
    cwd,
    env,
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (!options.cwd) rmSync(cwd, { recursive: true, force: true });
  return { code, stdout, stderr };
}
