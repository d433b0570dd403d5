// Shared by the `queue` subcommands: output helpers and the checks of their numeric flags.
import { UsageError } from "./common.ts";

export function out(text: string): void {
  process.stdout.write(text);
}

export function err(text: string): void {
  process.stderr.write(text);
}

export function columns(): number {
  return process.stdout.isTTY ? (process.stdout.columns ?? 100) : 200;
}

export function positionals(args: Record<string, unknown>): string[] {
  const rest = args._;
  return Array.isArray(rest) ? rest.map(String) : [];
}

export function wholeNumber(value: unknown, flag: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const n = Number(text);
  if (text === "" || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(
      `${flag}: expected a whole number${min > 0 ? ` >= ${min}` : ""}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

export function priorityFlag(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(String(value).trim());
  if (String(value).trim() === "" || !Number.isSafeInteger(n)) {
    throw new UsageError(
      `--priority: expected a whole number (higher runs first), got ${JSON.stringify(value)}`,
    );
  }
  return n;
}
