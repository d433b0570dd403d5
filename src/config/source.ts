// Where a configuration value came from, so `config print` and every error message can say it.

export type Source =
  | { kind: "default" }
  | { kind: "file"; file: string }
  | { kind: "env"; variable: string }
  | { kind: "flag"; flag: string };

/** One value for one key path, as a layer (file, environment, flags) supplies it. */
export interface Setting {
  path: string[];
  value: unknown;
  source: Source;
}

export const DEFAULT_SOURCE: Source = { kind: "default" };

/** `default`, `file ./docstokg.toml`, `env DOCSTOKG_STATE_DIR`, `flag --workers`. */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case "default":
      return "default";
    case "file":
      return `file ${source.file}`;
    case "env":
      return `env ${source.variable}`;
    case "flag":
      return `flag ${source.flag}`;
  }
}

/** The suffix an error message gets so the reader knows what to fix. */
export function sourceHint(source: Source | undefined): string {
  if (!source || source.kind === "default") return "";
  if (source.kind === "file") return ` (in ${source.file})`;
  if (source.kind === "env") return ` (from env ${source.variable})`;
  return ` (from ${source.flag})`;
}

/** A configuration that cannot be used; `problems` holds one line per wrong key, file or value. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}
