// Reading the valibot config schema as data: which schema sits at a key path, what a value there
// must look like in words, and its description. Loading, error messages and the generated reference
// all describe keys through these functions, so they can never disagree with the schema.

/** The parts of a valibot schema or action this module reads. */
export interface SchemaNode {
  kind: string;
  type: string;
  wrapped?: SchemaNode;
  default?: unknown;
  entries?: Record<string, SchemaNode>;
  key?: SchemaNode;
  value?: SchemaNode;
  item?: SchemaNode;
  options?: readonly unknown[];
  pipe?: readonly SchemaNode[];
  requirement?: unknown;
  message?: unknown;
  description?: string;
}

/** The schema without its optional wrappers (a pipe keeps its base type and actions). */
export function unwrap(node: SchemaNode): SchemaNode {
  let n = node;
  while ((n.type === "optional" || n.type === "nullish" || n.type === "exact_optional") && n.wrapped)
    n = n.wrapped;
  return n;
}

/** The schema at a key path, or undefined when no such key exists. Record keys match anything. */
export function schemaAt(root: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const key of path) {
    if (!node) return undefined;
    const n = unwrap(node);
    if (n.entries) node = Object.hasOwn(n.entries, key) ? n.entries[key] : undefined;
    else if (n.type === "record" && n.value) node = n.value;
    else if (n.type === "array" && n.item && /^\d+$/.test(key)) node = n.item;
    else return undefined;
  }
  return node;
}

function action(node: SchemaNode, type: string): SchemaNode | undefined {
  return unwrap(node).pipe?.find((a) => a.type === type);
}

/** The key's documentation from `v.description(...)`, if any. */
export function describeKey(node: SchemaNode): string | undefined {
  let n: SchemaNode | undefined = node;
  while (n) {
    const d = n.pipe?.find((a) => a.type === "description")?.description;
    if (d) return d;
    n = n.wrapped;
  }
  return undefined;
}

/** The default the schema applies when the key is absent (undefined when it has none). */
export function defaultOf(node: SchemaNode): unknown {
  let n: SchemaNode | undefined = node;
  while (n && (n.type === "optional" || n.type === "nullish" || n.type === "exact_optional")) {
    if (n.default !== undefined) return typeof n.default === "function" ? n.default() : n.default;
    n = n.wrapped;
  }
  return undefined;
}

function bounds(node: SchemaNode): string {
  const min = action(node, "min_value")?.requirement;
  const max = action(node, "max_value")?.requirement;
  const parts = [min === undefined ? "" : `≥ ${min}`, max === undefined ? "" : `≤ ${max}`].filter(Boolean);
  return parts.length ? ` ${parts.join(" and ")}` : "";
}

function itemsOf(node: SchemaNode): string {
  const n = unwrap(node);
  if (n.type === "array" && n.item) return `lists of ${itemsOf(n.item)}`;
  if (n.type === "picklist") return `names (${(n.options ?? []).join(", ")})`;
  if (n.type === "string" && !n.pipe?.some((a) => a.kind === "validation")) return "strings";
  if (n.type === "number") return action(n, "integer") ? "integers" : "numbers";
  return `items, each ${describeExpected(n)}`;
}

/** What a value at this node must be, in words: `an integer ≥ 1`, `a rate like "2/s"…`. */
export function describeExpected(node: SchemaNode): string {
  const n = unwrap(node);
  switch (n.type) {
    case "number":
      return `${action(n, "integer") ? "an integer" : "a number"}${bounds(n)}`;
    case "boolean":
      return "true or false";
    case "string": {
      for (const t of ["regex", "check", "email", "url"]) {
        const m = action(n, t)?.message;
        if (typeof m === "string") return m;
      }
      if (action(n, "email")) return "an email address";
      if (action(n, "url")) return "a URL";
      const min = action(n, "min_length")?.requirement;
      return typeof min === "number" && min > 0 ? "a non-empty string" : "a string";
    }
    case "picklist":
      return `one of ${(n.options ?? []).map((o) => JSON.stringify(o)).join(", ")}`;
    case "array":
      return n.item ? `a list of ${itemsOf(n.item)}` : "a list";
    case "strict_object":
    case "object":
    case "loose_object":
    case "record":
      return "a table of settings";
    default:
      return `a value of type ${n.type}`;
  }
}

/** Every key path that holds a value (not a table), in schema order, with its node. */
export function leafKeys(
  root: SchemaNode,
  prefix: string[] = [],
): Array<{ path: string[]; node: SchemaNode }> {
  const n = unwrap(root);
  if (!n.entries) return [{ path: prefix, node: root }];
  const out: Array<{ path: string[]; node: SchemaNode }> = [];
  for (const [key, child] of Object.entries(n.entries)) {
    const c = unwrap(child);
    if (c.entries) out.push(...leafKeys(child, [...prefix, key]));
    else out.push({ path: [...prefix, key], node: child });
  }
  return out;
}

/** A key path for people: dots between keys, quotes around keys that contain dots or spaces. */
export function formatPath(path: readonly (string | number)[]): string {
  return path
    .map((k) => (typeof k === "number" ? `[${k}]` : /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)))
    .join(".")
    .replaceAll(".[", "[");
}
