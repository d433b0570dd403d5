// Durations as people type them on a command line: a number and a unit (`90d`, `12h`, `30m`, `2w`,
// `45s`); the unit is required, so a bare number is never silently taken as seconds or days.

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Milliseconds of `text`, or null when it is not `<number><s|m|h|d|w>`. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * (UNIT_MS[(m[2] as string).toLowerCase()] as number);
  return Number.isFinite(ms) ? Math.round(ms) : null;
}
