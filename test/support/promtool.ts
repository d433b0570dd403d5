// Runs `promtool check metrics` on an exposition; null when promtool is not installed (the caller
// then calls warnPromtoolMissing: a failure under CI=true, where .ci/run installs it; a loud warning
// on a developer machine that may not have it).
import { toolMissing } from "./tools.ts";

export function promtoolCheck(text: string): { code: number; output: string } | null {
  const promtool = Bun.which("promtool");
  if (!promtool) return null;
  const p = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text) });
  return { code: p.exitCode, output: `${p.stdout.toString()}${p.stderr.toString()}` };
}

/** Throws under CI=true; warns otherwise. */
export function warnPromtoolMissing(): void {
  toolMissing("promtool", "/metrics with `promtool check metrics`", "apt-get install prometheus");
}
