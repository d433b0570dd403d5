// Prints the configuration reference generated from the schema; `--write` puts it into README.md
// between its markers, `--check` exits 1 when the README's copy is out of date.
import { join } from "node:path";
import { configReference, REFERENCE_END, REFERENCE_START } from "../src/config/reference.ts";

const README = join(import.meta.dir, "..", "README.md");

/** The README text with its reference section replaced by `reference`. */
export function withReference(readme: string, reference: string): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start)
    throw new Error(`README.md lacks the markers ${REFERENCE_START} … ${REFERENCE_END}`);
  return `${readme.slice(0, start + REFERENCE_START.length)}\n\n${reference}\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const mode = process.argv[2];
  const reference = configReference();
  if (mode === "--write" || mode === "--check") {
    const current = await Bun.file(README).text();
    const next = withReference(current, reference);
    if (mode === "--write") {
      if (next !== current) await Bun.write(README, next);
      process.stdout.write(next === current ? "README.md is up to date\n" : "README.md updated\n");
    } else if (next !== current) {
      process.stderr.write(
        "README.md's configuration reference is out of date: bun run scripts/config-doc.ts --write\n",
      );
      process.exit(1);
    }
  } else {
    process.stdout.write(reference);
  }
}
