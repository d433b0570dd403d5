// Queue-wide settings, today the pause flag every runner honours: lease() reads it in the same
// statement that claims jobs, so a pause takes effect on the very next lease.
import type { Database } from "bun:sqlite";

export function getSetting(db: Database, key: string): string | null {
  return (
    db.query<{ value: string }, [string]>("SELECT value FROM settings WHERE key = ?1").get(key)?.value ?? null
  );
}

export function setSetting(db: Database, key: string, value: string): void {
  db.query(
    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  ).run(key, value);
}

export function isPaused(db: Database): boolean {
  return getSetting(db, "paused") === "1";
}

export function setPaused(db: Database, paused: boolean): void {
  setSetting(db, "paused", paused ? "1" : "0");
}
