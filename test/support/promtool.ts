// Runs `promtool check metrics` on an exposition; null when promtool is not installed (the caller
// then says so loudly: CI installs it, a developer machine may not have it).
export function promtoolCheck(text: string): { code: number; output: string } | null {
  const promtool = Bun.which("promtool");
  if (!promtool) return null;
  const p = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text) });
  return { code: p.exitCode, output: `${p.stdout.toString()}${p.stderr.toString()}` };
}

export function warnPromtoolMissing(): void {
  console.warn(
    "\n!!!!! promtool NOT FOUND: /metrics was NOT validated with `promtool check metrics`. Install it (apt-get install prometheus). !!!!!\n",
  );
}
