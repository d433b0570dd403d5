// The program's version and the git commit it was built from. build.ts stamps both through
// `--define`; running from source falls back to package.json and "source".
import pkg from "../package.json" with { type: "json" };

declare const DOCSTOKG_VERSION: string | undefined;
declare const DOCSTOKG_COMMIT: string | undefined;

export const VERSION: string = typeof DOCSTOKG_VERSION === "string" ? DOCSTOKG_VERSION : pkg.version;
export const COMMIT: string = typeof DOCSTOKG_COMMIT === "string" ? DOCSTOKG_COMMIT : "source";

/** The line `--version` prints. */
export function versionLine(): string {
  return `docstokg ${VERSION} (${COMMIT})`;
}
