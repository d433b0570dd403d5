// System tools some tests need (promtool, systemd-analyze). CI installs them (.ci/run), so there a
// missing tool is a failure; on a developer machine the test says loudly what it did not check.
export const inCi = process.env.CI === "true";

/**
 * Call where a test finds `tool` missing: throws under CI=true (the test fails instead of passing
 * without checking anything), warns otherwise.
 */
export function toolMissing(tool: string, what: string, install: string): void {
  const line = `${tool} NOT FOUND: ${what} was NOT checked. Install it (${install}).`;
  if (inCi) throw new Error(`${line} CI=true: CI installs it (.ci/run), so its absence is a failure.`);
  console.warn(`\n!!!!! ${line} !!!!!\n`);
}
