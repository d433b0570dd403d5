// `config schema`: the JSON Schema of the configuration, generated from the valibot schema.
import { toJsonSchema } from "@valibot/to-json-schema";
import { ConfigSchema } from "./schema.ts";

/** The JSON Schema (draft-07) describing a docstokg config file. */
export function configJsonSchema(): Record<string, unknown> {
  // Semantic checks (a rate above zero, a well-formed CIDR) have no JSON Schema form; `config check`
  // applies them.
  const schema = toJsonSchema(ConfigSchema, {
    errorMode: "throw",
    ignoreActions: ["check", "raw_check"],
  }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: "docstokg configuration",
    description: "docstokg.toml / docstokg.json; every key is optional and has a default.",
    ...schema,
  };
}
