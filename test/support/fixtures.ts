// The recorded API samples (read-only, shared) as parsed values, for resolver mapping tests.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURE_DIR = process.env.DOCSTOKG_API_FIXTURES ?? "/work/shared/fixtures/api";

export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURE_DIR, name), "utf8");
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixtureText(name));
}
