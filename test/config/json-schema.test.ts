import { expect, test } from "bun:test";
import { configJsonSchema } from "../../src/config/json-schema.ts";
import { ConfigSchema, defaultConfig } from "../../src/config/schema.ts";

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: unknown;
  default?: unknown;
  minimum?: number;
  pattern?: string;
}

const schema = JSON.parse(JSON.stringify(configJsonSchema())) as JsonSchemaNode & { $schema: string };

test("is JSON Schema describing every top-level key, and nothing else", () => {
  expect(schema.$schema).toMatch(/^http:\/\/json-schema\.org\//);
  expect(schema.type).toBe("object");
  expect(schema.additionalProperties).toBe(false);
  expect(Object.keys(schema.properties ?? {}).sort()).toEqual(Object.keys(ConfigSchema.entries).sort());
});

test("carries types, bounds, patterns and the same defaults as the schema", () => {
  const props = schema.properties ?? {};
  const workers = props.orchestrator?.properties?.max_workers;
  expect(workers).toMatchObject({
    type: "integer",
    minimum: 1,
    default: defaultConfig().orchestrator.max_workers,
  });
  const rate = props.politeness?.properties?.rates?.properties?.metadata;
  expect(rate?.type).toBe("string");
  expect(new RegExp(rate?.pattern ?? "^$").test("1/3s")).toBe(true);
  expect(new RegExp(rate?.pattern ?? "^$").test("fast")).toBe(false);
  expect(props.queue?.additionalProperties).toBe(false);
  expect(props.state_dir?.default).toBe("./state");
});
