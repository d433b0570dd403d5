// Turning the text of an environment variable or a flag into the type the schema expects at that
// key. Best effort: text that does not fit is passed through unchanged so validation reports it
// with the key, the value and what was expected.
import { type SchemaNode, unwrap } from "./introspect.ts";

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The value `text` stands for at a key whose schema is `node` (undefined: unknown key). */
export function coerceText(text: string, node: SchemaNode | undefined): unknown {
  if (!node) return text;
  const n = unwrap(node);
  const trimmed = text.trim();
  switch (n.type) {
    case "number": {
      const num = Number(trimmed);
      return trimmed !== "" && Number.isFinite(num) ? num : text;
    }
    case "boolean": {
      const lower = trimmed.toLowerCase();
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : text;
    }
    case "array": {
      if (trimmed.startsWith("[")) return parseJson(trimmed);
      if (trimmed === "") return [];
      return trimmed.split(",").map((part) => coerceText(part.trim(), n.item));
    }
    case "strict_object":
    case "object":
    case "loose_object":
    case "record":
      return trimmed.startsWith("{") ? parseJson(trimmed) : text;
    default:
      return text;
  }
}
