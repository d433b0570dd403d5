// Human formatting of counts, bytes, rates and durations, shared by the progress line, the dashboard
// and the report so the same figure reads the same everywhere.

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"];

/** 1234567 → "1.2 MB" (decimal units, like curl and most download tools). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "–";
  let i = 0;
  let v = n;
  while (v >= 1000 && i < BYTE_UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${BYTE_UNITS[i]}`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Jobs per second with sensible precision: 0.25 → "0.25/s", 12.3 → "12.3/s", 1234 → "1,234/s". */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec) || perSec < 0) return "–/s";
  if (perSec >= 100) return `${formatCount(perSec)}/s`;
  if (perSec >= 10) return `${perSec.toFixed(1)}/s`;
  return `${perSec.toFixed(2)}/s`;
}

/** Seconds → "45s", "3m12s", "2h05m", "3d04h"; "–" when unknown or infinite. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, "0")}h`;
}
