// Crash safety of the main job: the built runner is killed with SIGKILL at random moments of a
// few-hundred-work run and restarted each time. At the end every job is terminal, every stored file
// matches its recorded SHA-256, the manifest holds each outcome exactly once, no temp file remains,
// and no work was downloaded again after its result had been committed.
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { startApis } from "../support/apis.ts";
import { emptyDir } from "../support/binary.ts";
import { crashRun } from "../support/crash-run.ts";
import { startWeb } from "../support/web.ts";

const WORKS = 300;
const KILLS = 5;

const web = await startWeb();
const sim = await startApis(web, []);
const dir = emptyDir("docstokg-crash-");
afterAll(async () => {
  await web.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(`${KILLS} random kill -9 during a ${WORKS}-work run: nothing lost, nothing twice, nothing corrupt`, async () => {
  const r = await crashRun({
    web,
    sim,
    dir,
    works: WORKS,
    kills: KILLS,
    hosts: 6,
    seed: Number(process.env.CRASH_SEED ?? 7),
  });
  expect(r.kills).toBeGreaterThanOrEqual(KILLS - 1);
  expect(r.exitCode).toBe(0);
  expect(r.counts).toEqual({ queued: 0, in_progress: 0, done: WORKS, skipped: 0, error: 0 });
  expect(r.corrupt).toEqual([]);
  expect([r.manifestLines, r.manifestSeqs, r.manifestArtifacts]).toEqual([WORKS, WORKS, WORKS]);
  expect(r.tempFiles).toEqual([]);
  expect(r.late).toEqual([]);
}, 120_000);
