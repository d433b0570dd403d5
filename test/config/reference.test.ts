import { expect, test } from "bun:test";
import { join } from "node:path";
import { withReference } from "../../scripts/config-doc.ts";
import { formatPath, leafKeys } from "../../src/config/introspect.ts";
import { SCHEMA } from "../../src/config/load.ts";
import { configReference } from "../../src/config/reference.ts";

const readme = await Bun.file(join(import.meta.dir, "../../README.md")).text();

test("the README's configuration reference is exactly the one generated from the schema", () => {
  // On failure: bun run scripts/config-doc.ts --write
  expect(withReference(readme, configReference())).toBe(readme);
});

test("the reference documents every key of the schema", () => {
  const reference = configReference();
  for (const { path } of leafKeys(SCHEMA)) {
    if (path.join(".") === "politeness.hosts") continue; // documented per host as politeness.hosts.<host>.*
    expect(reference).toContain(`| \`${formatPath(path)}\` |`);
  }
  expect(reference).toContain("| `politeness.hosts.<host>.rate` |");
  expect(reference).toContain("| `S2_API_KEY` | `resolvers.semantic_scholar.api_key` |");
});

test("the README gives the two fresh-machine commands", () => {
  expect(readme).toContain("npm ci && npm run demo");
  expect(readme).toContain("npm ci && npm test");
});
