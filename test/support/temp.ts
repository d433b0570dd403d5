// Temporary directories for tests that need real files (databases, inputs, rejects).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `docstokg-${prefix}-`));
}
