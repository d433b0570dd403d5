// Child of the reuse crash test: runs one job over the simulated web and stops to be killed either
// after the download (file published, nothing committed) or after the ack.
// Usage: bun reuse-child.ts <dir> <url> <before-ack|after-ack>
import { openRunner } from "./reuse-harness.ts";

const [dir, url, mode] = process.argv.slice(2) as [string, string, string];
const runner = openRunner(dir);
if (mode === "before-ack") {
  const job = await runner.lease("crash-a", url);
  const step = await runner.step(job, { signal: new AbortController().signal, saveProgress() {} });
  process.stdout.write(`downloaded ${step.reason}\n`);
} else {
  const out = await runner.run("crash-a", url);
  process.stdout.write(`acked ${out.commit.kind} ${out.committed}\n`);
}
// Wait here to be killed: nothing more is written.
setInterval(() => {}, 60_000);
