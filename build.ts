// Compiles src/main.ts into one self-contained executable (dist/docstokg by default), stamped with
// the package version and git commit, then proves it starts: it runs `--version` from an empty
// directory and fails the build otherwise (bytecode builds can compile fine and still not start).
//
//   bun run build.ts [--target bun-linux-arm64] [--outfile dist/docstokg-arm64] [--no-smoke]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "./package.json" with { type: "json" };

export const MAX_BINARY_BYTES = 120_000_000; // 120 MB, counted in decimal to be strict

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    outfile: { type: "string", default: "dist/docstokg" },
    "no-smoke": { type: "boolean", default: false },
  },
  strict: true,
});

function fail(message: string): never {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

/** The commit being built, `-dirty` when the tree has uncommitted changes; "unknown" outside git. */
function gitCommit(): string {
  const rev = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], {
    cwd: import.meta.dir,
    stderr: "ignore",
  });
  if (rev.exitCode !== 0) return "unknown";
  const status = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], {
    cwd: import.meta.dir,
    stderr: "ignore",
  });
  const dirty = status.exitCode === 0 && status.stdout.toString().trim() !== "";
  return `${rev.stdout.toString().trim()}${dirty ? "-dirty" : ""}`;
}

const outfile = resolve(import.meta.dir, values.outfile);
const target = values.target as Bun.Build.CompileTarget | undefined;
const commit = gitCommit();
const started = performance.now();

const result = await Bun.build({
  entrypoints: [join(import.meta.dir, "src/main.ts")],
  target: "bun",
  format: "esm",
  minify: true,
  sourcemap: "linked",
  bytecode: true,
  define: {
    DOCSTOKG_VERSION: JSON.stringify(pkg.version),
    DOCSTOKG_COMMIT: JSON.stringify(commit),
  },
  compile: {
    ...(target ? { target } : {}),
    outfile,
    // The binary must behave the same wherever it runs: never pick up a stray .env or bunfig.toml.
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
  throw: false,
});
if (!result.success) {
  for (const log of result.logs) process.stderr.write(`${log}\n`);
  fail("compilation failed");
}

const size = statSync(outfile).size;
if (size > MAX_BINARY_BYTES) fail(`${outfile} is ${(size / 1e6).toFixed(1)} MB, above the 120 MB limit`);

const hostTarget = `bun-${process.platform}-${process.arch}`;
const runnable = !target || target.startsWith(hostTarget);
if (!values["no-smoke"] && runnable) {
  const empty = mkdtempSync(join(tmpdir(), "docstokg-smoke-"));
  try {
    const run = Bun.spawnSync([outfile, "--version"], {
      cwd: empty,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: empty },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = run.stdout.toString().trim();
    const expected = `docstokg ${pkg.version} (${commit})`;
    if (run.exitCode !== 0 || out !== expected) {
      fail(`${outfile} does not start (exit ${run.exitCode}): ${out || run.stderr.toString().trim()}`);
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const smoke = runnable && !values["no-smoke"] ? "starts" : "not run here";
process.stdout.write(
  `built ${values.outfile} (${(size / 1e6).toFixed(1)} MB, ${target ?? hostTarget}, ${commit}) in ${seconds}s; ${smoke}\n`,
);
