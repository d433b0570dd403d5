// The environment layer: `DOCSTOKG_<SECTION>__<KEY>` variables (`__` between levels) and the
// conventional credential variables other tools already use. Secrets may also come from files, so a
// unit's environment holds none: `<VAR>_FILE=/path`, or systemd's `LoadCredential=<VAR>:/path`
// (a file named <VAR> in $CREDENTIALS_DIRECTORY). This is the one place credentials are read.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { coerceText } from "./coerce.ts";
import { type SchemaNode, schemaAt } from "./introspect.ts";
import { ConfigError, type Setting } from "./source.ts";

export const ENV_PREFIX = "DOCSTOKG_";

/** DOCSTOKG_ variables that are not configuration keys. */
export const RESERVED_VARIABLES: readonly string[] = [
  "DOCSTOKG_CONFIG",
  "DOCSTOKG_LOG_LEVEL",
  "DOCSTOKG_LOG_FORMAT",
];

/**
 * The reference implementation's feature gates (`DOCSTOKG_ENABLE_IDEMPOTENCY`, `…_STREAMING`, …):
 * left in environments carried over from it, they name nothing here (no key lives under `enable`),
 * so they are ignored with one warning instead of failing every command as unknown keys.
 */
export const REFERENCE_VARIABLE_PREFIX = "DOCSTOKG_ENABLE_";

/** The reference's variables present in `env`, sorted. */
export function referenceVariables(env: Record<string, string | undefined>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith(REFERENCE_VARIABLE_PREFIX) && env[name] !== undefined)
    .sort();
}

/** Well-known variables mapped onto keys; a DOCSTOKG_ variable for the same key wins over them. */
export const CREDENTIAL_VARIABLES: ReadonlyArray<{ variable: string; path: string[] }> = [
  { variable: "UNPAYWALL_EMAIL", path: ["contact_email"] },
  { variable: "S2_API_KEY", path: ["resolvers", "semantic_scholar", "api_key"] },
  { variable: "OPENALEX_API_KEY", path: ["resolvers", "openalex", "api_key"] },
  { variable: "NCBI_API_KEY", path: ["resolvers", "pmc", "api_key"] },
  { variable: "CORE_API_KEY", path: ["resolvers", "core", "api_key"] },
  // The object store's location, as the AWS tools and Bun name it (Bun itself never reads
  // AWS_ENDPOINT_URL_S3): the AWS name wins over Bun's.
  { variable: "S3_REGION", path: ["s3", "region"] },
  { variable: "AWS_REGION", path: ["s3", "region"] },
  { variable: "S3_ENDPOINT", path: ["s3", "endpoint"] },
  { variable: "AWS_ENDPOINT_URL_S3", path: ["s3", "endpoint"] },
];

/** Variables, besides every DOCSTOKG_ key, that may come from a file: the credentials other tools name. */
const FILE_VARIABLES: readonly string[] = [
  ...CREDENTIAL_VARIABLES.map((c) => c.variable),
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "S3_ACCESS_KEY_ID",
  "S3_SECRET_ACCESS_KEY",
  "S3_SESSION_TOKEN",
  "OTEL_EXPORTER_OTLP_HEADERS",
];

/** Whether `variable` may be given through `<variable>_FILE` or the credentials directory. */
export function mayComeFromFile(variable: string): boolean {
  if (FILE_VARIABLES.includes(variable)) return true;
  return (
    variable.startsWith(ENV_PREFIX) &&
    !RESERVED_VARIABLES.includes(variable) &&
    !variable.startsWith(REFERENCE_VARIABLE_PREFIX) &&
    !variable.endsWith("_FILE")
  );
}

export const CREDENTIALS_DIRECTORY = "CREDENTIALS_DIRECTORY";
/** What systemd puts before a file's name when a unit loads a whole directory as credential `docstokg`. */
export const CREDENTIAL_PREFIX = "docstokg_";

/** A secret file's text: trailing line breaks (as editors and `echo` leave them) are not part of it. */
function readSecret(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8").replace(/[\r\n]+$/, "");
  } catch (error) {
    const reason =
      (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error));
    throw new ConfigError([
      `${what}: cannot read ${path} (${reason}); expected a readable file holding the value`,
    ]);
  }
}

/**
 * The environment with secrets from files filled in: `<VAR>_FILE` names a file holding VAR's value,
 * and a file named VAR in `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=VAR:/path`) does the same
 * (or `docstokg_VAR`, as a unit loading the directory /etc/docstokg/credentials names it) does the same
 * when neither is set. The `_FILE` variables themselves are taken out (they name no key). Setting
 * both VAR and VAR_FILE is an error, as is a file that cannot be read.
 */
export function withSecretFiles(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = { ...env };
  const set = (name: string) => out[name] !== undefined && out[name] !== "";
  for (const [name, path] of Object.entries(env)) {
    if (!name.endsWith("_FILE") || path === undefined || path === "") continue;
    const variable = name.slice(0, -"_FILE".length);
    if (!mayComeFromFile(variable)) continue;
    delete out[name];
    if (set(variable)) {
      throw new ConfigError([
        `${variable} and ${name} are both set: give the value one way (the file keeps it out of the environment)`,
      ]);
    }
    out[variable] = readSecret(path, name);
  }
  const dir = env[CREDENTIALS_DIRECTORY];
  if (dir !== undefined && dir !== "" && existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      // A unit's `LoadCredential=docstokg:/etc/docstokg/credentials` names each file docstokg_<file>.
      const variable = name.startsWith(CREDENTIAL_PREFIX) ? name.slice(CREDENTIAL_PREFIX.length) : name;
      if (!mayComeFromFile(variable) || set(variable)) continue;
      out[variable] = readSecret(join(dir, name), `credential ${name} in $${CREDENTIALS_DIRECTORY}`);
    }
  }
  return out;
}

/** Object-store credentials: never configuration keys, so no file can hold them and no output shows them. */
export interface S3Credentials {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** The variables they came from (for messages; never the values). */
  variables: string[];
}

/** The credentials of the environment, AWS names first, then Bun's `S3_*` ones. Empty counts as unset. */
export function s3Credentials(rawEnv: Record<string, string | undefined>): S3Credentials {
  const env = withSecretFiles(rawEnv);
  const variables: string[] = [];
  const pick = (...names: string[]) => {
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value !== "") {
        variables.push(name);
        return value;
      }
    }
    return undefined;
  };
  return {
    accessKeyId: pick("AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID"),
    secretAccessKey: pick("AWS_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY"),
    sessionToken: pick("AWS_SESSION_TOKEN", "S3_SESSION_TOKEN"),
    variables,
  };
}

/** The key path a DOCSTOKG_ variable names: DOCSTOKG_ORCHESTRATOR__MAX_WORKERS → orchestrator.max_workers. */
export function variablePath(variable: string): string[] {
  return variable
    .slice(ENV_PREFIX.length)
    .split("__")
    .map((part) => part.toLowerCase());
}

/** The variable that sets a key path (for documentation). */
export function pathVariable(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.toUpperCase()).join("__");
}

/** Settings from an environment, lowest precedence first. Empty variables count as unset. */
export function envSettings(env: Record<string, string | undefined>, schema: SchemaNode): Setting[] {
  const settings: Setting[] = [];
  const add = (variable: string, path: string[]) => {
    const text = env[variable];
    if (text === undefined || text === "") return;
    settings.push({
      path,
      value: coerceText(text, schemaAt(schema, path)),
      source: { kind: "env", variable },
    });
  };
  for (const { variable, path } of CREDENTIAL_VARIABLES) add(variable, path);
  const own = Object.keys(env)
    .filter(
      (name) =>
        name.startsWith(ENV_PREFIX) &&
        !RESERVED_VARIABLES.includes(name) &&
        !name.startsWith(REFERENCE_VARIABLE_PREFIX),
    )
    .sort();
  for (const variable of own) add(variable, variablePath(variable));
  return settings;
}
