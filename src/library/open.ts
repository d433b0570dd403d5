// Opening the configured library: `out_dir` names a local directory or `s3://bucket/prefix`. An
// object-store library is probed (a small object written and deleted) before any work is taken, so
// wrong credentials or a missing bucket end the command at once instead of failing every job.
import { mkdirSync } from "node:fs";
import { s3Credentials } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import { type Library, localLibrary } from "./library.ts";
import { isS3Url } from "./location.ts";
import { S3Library } from "./s3.ts";

/** The library cannot be used as configured (bad out_dir, credentials, bucket): one line, exit 2. */
export class LibraryUnavailableError extends Error {
  override name = "LibraryUnavailableError";
}

/** The library `out_dir` names, not yet checked; a local directory is not created here. */
export function openLibrary(
  config: Pick<Config, "out_dir" | "state_dir" | "s3">,
  env: Record<string, string | undefined>,
): Library {
  if (!isS3Url(config.out_dir)) return localLibrary(config.out_dir);
  const credentials = s3Credentials(env);
  try {
    return new S3Library({ config, credentials });
  } catch (e) {
    throw new LibraryUnavailableError((e as Error).message);
  }
}

/**
 * The library ready for writing: a local directory is created, an object store probed. Throws
 * LibraryUnavailableError with one line naming out_dir and the cause.
 */
export async function openWritableLibrary(
  config: Pick<Config, "out_dir" | "state_dir" | "s3">,
  env: Record<string, string | undefined>,
): Promise<Library> {
  const library = openLibrary(config, env);
  if (!(library instanceof S3Library)) {
    mkdirSync(config.out_dir, { recursive: true });
    return library;
  }
  const c = s3Credentials(env);
  if (!c.accessKeyId || !c.secretAccessKey)
    throw new LibraryUnavailableError(
      `out_dir ${library.location}: no credentials in the environment (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)`,
    );
  mkdirSync(library.tempBase, { recursive: true });
  try {
    await library.probe();
  } catch (e) {
    throw new LibraryUnavailableError((e as Error).message);
  }
  return library;
}
