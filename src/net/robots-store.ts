// robots.txt verdicts shared by every process on one state database: several runners read each
// origin's robots.txt once per TTL between them, not once each. The rows live in src/store (sqlite/
// and postgres/robots.ts); they hold the verdict, not the file: the group of rules that applies to
// our product token (JSON, patterns escaped as parsed; each reader compiles them once), "allow all",
// or why the file could not be read, each with its expiry.
import type { Reason } from "../core/reasons.ts";
import type { Maybe } from "../store/maybe.ts";
import type { RobotsGroup } from "./robots-parse.ts";

export type StoredRobots =
  | { kind: "rules"; group: RobotsGroup; expires: number }
  | { kind: "allow_all"; expires: number }
  | { kind: "unavailable"; failure: { reason: Reason; message: string }; expires: number };

export interface RobotsStore {
  /** The stored verdict of `origin`, if any (expired ones too: the caller decides). */
  get(origin: string): Maybe<StoredRobots | undefined>;
  put(origin: string, entry: StoredRobots): Maybe<void>;
}

export interface RobotsRow {
  kind: StoredRobots["kind"];
  detail: string | null;
  expires_at: number;
}

/** A stored row as a verdict; an unreadable row is as good as none (the file is fetched again). */
export function robotsFromRow(row: RobotsRow): StoredRobots | undefined {
  try {
    if (row.kind === "allow_all") return { kind: "allow_all", expires: row.expires_at };
    const detail = JSON.parse(row.detail ?? "null");
    if (row.kind === "rules") return { kind: "rules", group: detail as RobotsGroup, expires: row.expires_at };
    return { kind: "unavailable", failure: detail, expires: row.expires_at };
  } catch {
    return undefined;
  }
}

/** The detail column of a verdict: its rules or its failure as JSON. */
export function robotsDetail(e: StoredRobots): string | null {
  const detail = e.kind === "rules" ? e.group : e.kind === "unavailable" ? e.failure : null;
  return detail === null ? null : JSON.stringify(detail);
}
