// Checking recorded arrivals against a rate budget (tests and bench/limits.ts).

/**
 * How much longer than measured the tightest window would have to be for its arrivals to fit
 * burst + t / interval (ms; <= 0 means every window is within budget as measured).
 */
export function windowShortfallMs(arrivals: number[], intervalMs: number, burst: number): number {
  const at = [...arrivals].sort((a, b) => a - b);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < at.length; i++) {
    for (let j = i + burst; j < at.length; j++) {
      const span = (at[j] as number) - (at[i] as number);
      worst = Math.max(worst, (j - i + 1 - burst) * intervalMs - span);
    }
  }
  return worst;
}
