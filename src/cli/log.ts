// The logger every command gets: consola, writing to stderr (stdout is for command output).
// Pretty on a terminal; otherwise one JSON object per line (level, time, msg, fields) that
// journald and log shippers read as is. Secret values never reach either.
import { type ConsolaInstance, type ConsolaReporter, createConsola, type LogObject } from "consola";
import { isSecretKey } from "../config/schema.ts";
import { REDACTED, redactText } from "../core/redact.ts";

export const LOG_LEVELS = {
  silent: Number.NEGATIVE_INFINITY,
  error: 0,
  warn: 1,
  info: 3,
  debug: 4,
  trace: 5,
} as const;
export type LogLevelName = keyof typeof LOG_LEVELS;
export const LOG_FORMATS = ["pretty", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where log lines go: process.stderr, or a collector in tests. */
export interface LogSink {
  write(text: string): unknown;
}

export interface LoggerOptions {
  level: LogLevelName;
  format: LogFormat;
  sink: LogSink;
  /** Values to scrub from every line (API keys, tokens). */
  secrets?: readonly string[];
}

/** consola's type of a line → the level name written in JSON lines. */
function levelName(type: LogObject["type"]): string {
  switch (type) {
    case "fatal":
    case "error":
    case "warn":
    case "debug":
    case "trace":
      return type;
    case "verbose":
      return "trace";
    default:
      return "info";
  }
}

/**
 * Replace every configured secret value inside `text` (short values are ignored so words are not
 * mangled), and redact user-info and secret query parameters of every URL it quotes.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.replaceAll(secret, REDACTED);
  return redactText(out);
}

function plainFields(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return depth > 4 ? "[…]" : value.map((v) => plainFields(v, depth + 1));
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return redactText(value);
  if (typeof value !== "object" || value === null) return value;
  if (depth > 4) return "{…}";
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : plainFields(v, depth + 1);
  return out;
}

/** One log call as the JSON object written for it: `{level, time, msg, tag?, ...fields}`. */
export function logRecord(logObj: LogObject): Record<string, unknown> {
  const words: string[] = [];
  const fields: Record<string, unknown> = {};
  for (const arg of logObj.args) {
    if (arg instanceof Error) {
      words.push(arg.message);
      fields.error = arg.name;
    } else if (typeof arg === "object" && arg !== null && !Array.isArray(arg)) {
      Object.assign(fields, plainFields(arg));
    } else {
      words.push(typeof arg === "string" ? arg : JSON.stringify(arg));
    }
  }
  const record: Record<string, unknown> = { level: levelName(logObj.type), time: logObj.date.toISOString() };
  record.msg = [logObj.message, ...words].filter((w) => w !== undefined && w !== "").join(" ");
  if (logObj.tag) record.tag = logObj.tag;
  for (const [k, v] of Object.entries(fields)) if (!(k in record)) record[k] = v;
  return record;
}

/** A reporter writing one JSON object per line. */
export function jsonReporter(sink: LogSink, secrets: readonly string[]): ConsolaReporter {
  return { log: (logObj) => void sink.write(`${scrub(JSON.stringify(logRecord(logObj)), secrets)}\n`) };
}

function scrubbed(inner: ConsolaReporter, secrets: readonly string[]): ConsolaReporter {
  const clean = (a: unknown): unknown =>
    typeof a === "string"
      ? scrub(a, secrets)
      : a instanceof Error
        ? a
        : typeof a === "object"
          ? plainFields(a)
          : a;
  return {
    log: (logObj, ctx) =>
      inner.log(
        {
          ...logObj,
          message: logObj.message && scrub(logObj.message, secrets),
          args: logObj.args.map(clean),
        },
        ctx,
      ),
  };
}

/** A consola instance for one command run. */
export function createLogger(options: LoggerOptions): ConsolaInstance {
  const secrets = options.secrets ?? [];
  const stream = options.sink as NodeJS.WriteStream;
  // Every line goes to the sink; consola would otherwise send info lines to stdout.
  const base = { level: LOG_LEVELS[options.level], stdout: stream, stderr: stream, throttle: 0 };
  if (options.format === "json")
    return createConsola({ ...base, reporters: [jsonReporter(options.sink, secrets)] });
  const fancy = createConsola({ ...base, fancy: true });
  const [pretty] = fancy.options.reporters;
  return pretty ? createConsola({ ...base, reporters: [scrubbed(pretty, secrets)] }) : fancy;
}
