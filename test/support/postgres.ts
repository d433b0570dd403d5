// A throwaway PostgreSQL for tests and benches: Debian's server binaries, a temp cluster owned by the
// `postgres` user (initdb refuses root), loopback only, trust auth, fsync off, one fresh database per
// caller, stopped at the end (explicitly, and by an exit hook so a crashed run leaves nothing behind).
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";

/** Where Debian's `postgresql` package puts the server binaries (override with TEST_PG_BIN). */
const PG_BIN = process.env.TEST_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface TestPostgres {
  /** A fresh, empty database on the server; its URL. Dropped again by `stop()`. */
  createDatabase(prefix?: string): Promise<string>;
  /** The server's maintenance URL (database `postgres`). */
  readonly adminUrl: string;
  /**
   * Restart the server (pg_ctl restart, fast mode: every connection is cut) and wait until it takes
   * connections again. Only for a cluster this harness started; throws on TEST_DATABASE_URL.
   */
  restart(): Promise<void>;
  /** Drop what this harness created and stop the cluster it started (idempotent). */
  stop(): Promise<void>;
}

/** Why PostgreSQL is unavailable here, or null when the binaries are present. */
function unavailable(): string | null {
  if (process.env.TEST_DATABASE_URL) return null;
  if (!existsSync(join(PG_BIN, "initdb"))) return `no PostgreSQL server binaries in ${PG_BIN}`;
  return null;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Run a server binary, as the `postgres` user when we are root (initdb and postgres refuse root). */
function pgCommand(args: string[], asUser: string | null): string[] {
  const [bin, ...rest] = args;
  return asUser
    ? ["runuser", "-u", asUser, "--", join(PG_BIN, bin as string), ...rest]
    : [join(PG_BIN, bin as string), ...rest];
}

function runPg(args: string[], asUser: string | null): { status: number | null; output: string } {
  const command = pgCommand(args, asUser);
  const r = spawnSync(command[0] as string, command.slice(1), { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/**
 * `runPg` without blocking the event loop: simulated hosts served by the same process keep
 * answering (and timing arrivals) while the command runs.
 */
async function runPgAsync(
  args: string[],
  asUser: string | null,
): Promise<{ status: number | null; output: string }> {
  const p = Bun.spawn(pgCommand(args, asUser), { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  const [status, out, err] = await Promise.all([
    p.exited,
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
  ]);
  return { status, output: `${out}${err}` };
}

interface Cluster {
  dir: string;
  data: string;
  port: number;
  user: string | null;
}

const running = new Set<Cluster>();
let exitHookInstalled = false;

function stopCluster(c: Cluster): void {
  if (!running.delete(c)) return;
  runPg(["pg_ctl", "-D", c.data, "-m", "immediate", "-w", "-t", "20", "stop"], c.user);
  rmSync(c.dir, { recursive: true, force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous on purpose: "exit" handlers cannot await, and a cluster must never outlive the run.
  process.on("exit", () => {
    for (const c of [...running]) stopCluster(c);
  });
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      for (const c of [...running]) stopCluster(c);
      process.exit(code);
    });
  }
}

/** initdb + pg_ctl start on a temp directory and a free loopback port. */
async function startCluster(settings: Record<string, string>): Promise<Cluster> {
  const user = process.getuid?.() === 0 ? "postgres" : null;
  const dir = mkdtempSync(join(tmpdir(), "docstokg-pg-"));
  if (user) {
    const uid = Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const cluster: Cluster = { dir, data, port: 0, user };
  const init = runPg(
    ["initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
    user,
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed in ${data}:\n${init.output}`);
  }
  installExitHook();
  const options = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: dir,
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
    max_connections: "200",
    ...settings,
  };
  // A port found free can be taken before the server binds it: try a few.
  for (let tries = 0; tries < 5; tries++) {
    cluster.port = await freePort();
    const conf = Object.entries({ ...options, port: String(cluster.port) })
      .map(([k, v]) => `${k} = '${v}'`)
      .join("\n");
    writeFileSync(join(data, "postgresql.auto.conf"), `${conf}\n`);
    running.add(cluster);
    const start = runPg(
      ["pg_ctl", "-D", data, "-l", join(dir, "server.log"), "-w", "-t", "30", "start"],
      user,
    );
    if (start.status === 0) return cluster;
    running.delete(cluster);
    const log = Bun.file(join(dir, "server.log"));
    const text = (await log.exists()) ? await log.text() : start.output;
    if (!/could not bind|Address already in use/i.test(text) || tries === 4) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`PostgreSQL did not start on 127.0.0.1:${cluster.port}:\n${text.slice(-2000)}`);
    }
  }
  throw new Error("unreachable");
}

let counter = 0;

/**
 * Start a throwaway PostgreSQL (or use the server named by TEST_DATABASE_URL). Answers null when
 * PostgreSQL is not installed and the run is not CI; under CI=true a missing or broken server
 * throws, so PostgreSQL tests fail instead of skipping.
 */
export async function startTestPostgres(settings: Record<string, string> = {}): Promise<TestPostgres | null> {
  const why = unavailable();
  if (why) {
    if (process.env.CI === "true") throw new Error(`PostgreSQL tests need a server: ${why}`);
    return null;
  }
  const external = process.env.TEST_DATABASE_URL;
  const cluster = external ? null : await startCluster(settings);
  const adminUrl = external ?? `postgres://postgres@127.0.0.1:${cluster?.port}/postgres`;
  const admin = new SQL({ url: adminUrl, max: 1 });
  const created: string[] = [];
  let stopped = false;
  return {
    adminUrl,
    async createDatabase(prefix = "t") {
      const name = `docstokg_${prefix.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${++counter}`;
      await admin.unsafe(`CREATE DATABASE "${name}"`);
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async restart() {
      if (!cluster) throw new Error("restart(): only a cluster this harness started can be restarted");
      const r = await runPgAsync(
        [
          "pg_ctl",
          "-D",
          cluster.data,
          "-l",
          join(cluster.dir, "server.log"),
          "-m",
          "fast",
          "-w",
          "-t",
          "30",
          "restart",
        ],
        cluster.user,
      );
      if (r.status !== 0) throw new Error(`pg_ctl restart failed:\n${r.output}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // On an external server, drop what we made; a throwaway cluster simply goes away whole.
      if (external) {
        for (const name of created) await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }
      await admin.close();
      if (cluster) stopCluster(cluster);
    },
  };
}
