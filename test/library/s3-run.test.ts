// `queue run` into `out_dir = "s3://bucket/prefix"` as users run it: the built binary over the
// simulated web, a real S3 server (s3rver) on loopback. Every work's object is under its SHA-256
// key with the right bytes, its pointer object names it, `manifest export` gives s3:// URLs,
// `report --verify` exits 0, then 1 once an object is overwritten behind the program's back; wrong
// credentials or a missing bucket end the run at start with one line and exit 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { byIdName } from "../../src/library/layout.ts";
import { contentKey, parseS3Url } from "../../src/library/location.ts";
import { openState } from "../runner/harness.ts";
import { runBinary } from "../support/binary.ts";
import { makePdf } from "../support/pdf.ts";
import { S3_KEY, S3_SECRET, type S3Server, startS3 } from "../support/s3.ts";
import { tempDir } from "../support/temp.ts";
import { bytesResponse, startWeb } from "../support/web.ts";

const web = await startWeb();
let s3: S3Server;
const dirs: string[] = [];
beforeAll(async () => {
  s3 = await startS3("corpus");
});
afterAll(async () => {
  await web.stop();
  await s3?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
const OUT = "s3://corpus/team/library";

async function prepare(n: number) {
  const dir = tempDir("s3run");
  dirs.push(dir);
  const host = await web.host();
  const works: { id: string; pdf: Uint8Array }[] = [];
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) {
    const pdf = makePdf(`s3 run work ${i}`, { minBytes: 30_000 + i * 1000 });
    host.route(`/w${i}.pdf`, () => bytesResponse(pdf, { "content-type": "application/pdf" }));
    works.push({ id: `doi:10.5555/s3run${i}`, pdf });
    lines.push(JSON.stringify({ doi: `10.5555/s3run${i}`, pdf_urls: [host.url(`/w${i}.pdf`)] }));
  }
  const config = join(dir, "docstokg.json");
  writeFileSync(
    config,
    JSON.stringify({
      state_dir: join(dir, "state"),
      out_dir: OUT,
      network: { allow_private: ["127.0.0.0/8"] },
      resolvers: { tiers: [["direct"]] },
      status: { enabled: false },
      orchestrator: { max_workers: 2, poll_interval_s: 0.05, drain_max_delay_s: 2 },
    }),
  );
  writeFileSync(join(dir, "works.jsonl"), `${lines.join("\n")}\n`);
  const env = (over: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    AWS_ACCESS_KEY_ID: S3_KEY,
    AWS_SECRET_ACCESS_KEY: S3_SECRET,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    ...over,
  });
  const imported = await runBinary(["queue", "import", "works.jsonl", "--config", config], {
    cwd: dir,
    env: env(),
  });
  expect(imported.code).toBe(0);
  return { dir, config, works, env };
}

describe("queue run into S3", () => {
  test("objects under their SHA-256 keys, pointers, s3:// URLs in the export; verify 0, then 1 after corruption", async () => {
    const p = await prepare(4);
    const run = await runBinary(["queue", "run", "--drain", "--config", p.config, "--log-format", "json"], {
      cwd: p.dir,
      env: p.env(),
    });
    expect(run.code).toBe(0);
    const loc = parseS3Url(OUT);
    for (const w of p.works) {
      const key = contentKey(loc, "pdf", sha(w.pdf));
      // SPEC 14: <prefix>/<kind>/<sha[0:2]>/<sha>.<ext>
      expect(key).toBe(`team/library/pdf/${sha(w.pdf).slice(0, 2)}/${sha(w.pdf)}.pdf`);
      expect(sha(new Uint8Array(await s3.client.file(key).arrayBuffer()))).toBe(sha(w.pdf));
      const h = new Bun.CryptoHasher("sha256").update(w.id).digest("hex");
      const pointerKey = `team/library/by-id/${h.slice(0, 2)}/${h.slice(2, 4)}/${byIdName(w.id)}.json`;
      expect(await s3.client.file(pointerKey).json()).toEqual({
        artifact_id: w.id,
        sha256: sha(w.pdf),
        key,
        bytes: w.pdf.length,
        content_type: "application/pdf",
      });
    }
    const db = openState(join(p.dir, "state"));
    try {
      expect(db.query("SELECT state, count(*) AS n FROM jobs GROUP BY state").all()).toEqual([
        { state: "done", n: 4 },
      ]);
    } finally {
      db.close();
    }

    const exported = await runBinary(["manifest", "export", "--config", p.config], {
      cwd: p.dir,
      env: p.env(),
    });
    expect(exported.code).toBe(0);
    const paths = exported.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).path as string)
      .sort();
    expect(paths).toEqual(p.works.map((w) => `s3://corpus/${contentKey(loc, "pdf", sha(w.pdf))}`).sort());

    const ok = await runBinary(["report", "--verify", "--config", p.config], { cwd: p.dir, env: p.env() });
    expect(ok.code).toBe(0);

    const victim = p.works[2]?.pdf as Uint8Array;
    const flipped = new Uint8Array(victim);
    flipped[200] = (flipped[200] as number) ^ 0xff;
    await s3.client.write(contentKey(loc, "pdf", sha(victim)), flipped);
    const bad = await runBinary(["report", "--verify", "--config", p.config], { cwd: p.dir, env: p.env() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`corrupt s3://corpus/${contentKey(loc, "pdf", sha(victim))}`);
  }, 120_000);

  test("wrong credentials, a missing bucket, no credentials: exit 2 with one line, nothing leased", async () => {
    const p = await prepare(1);
    const cases: [Record<string, string>, string[], RegExp][] = [
      [
        { AWS_ACCESS_KEY_ID: "WRONGKEYID", AWS_SECRET_ACCESS_KEY: "wrong-secret-value" },
        [],
        /refused the credentials/,
      ],
      [{}, ["--out", "s3://missing-bucket/x"], /bucket "missing-bucket" does not exist/],
      [{ AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" }, [], /no credentials in the environment/],
    ];
    for (const [over, extra, re] of cases) {
      const r = await runBinary(["queue", "run", "--drain", "--config", p.config, ...extra], {
        cwd: p.dir,
        env: p.env(over),
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toContain("wrong-secret-value");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    const db = openState(join(p.dir, "state"));
    try {
      expect(db.query("SELECT state, attempts FROM jobs").all()).toEqual([{ state: "queued", attempts: 0 }]);
    } finally {
      db.close();
    }
  }, 120_000);
});
