// Secrets from files: `<VAR>_FILE` and systemd's $CREDENTIALS_DIRECTORY (LoadCredential=) fill in
// database_url, API keys, the status token and object-store credentials, so a unit's environment
// holds none; a variable set directly wins over the credentials directory, and both VAR and VAR_FILE,
// or an unreadable file, are configuration errors naming the variable.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { s3Credentials, withSecretFiles } from "../../src/config/env.ts";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/config/source.ts";

const root = mkdtempSync(join(tmpdir(), "docstokg-secrets-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function dirWith(files: Record<string, string>): string {
  const dir = join(root, String(++n));
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  return dir;
}

const load = (env: Record<string, string>) => loadConfig({ env, cwd: root });

describe("<VAR>_FILE", () => {
  test("database_url, an API key and the status token come from files, without the trailing newline", async () => {
    const d = dirWith({
      url: "postgres://fleet:s3cret@db.example/docstokg\n",
      s2: "s2-key\r\n",
      token: "tok\n\n",
    });
    const { config, sources } = await load({
      DOCSTOKG_DATABASE_URL_FILE: join(d, "url"),
      S2_API_KEY_FILE: join(d, "s2"),
      DOCSTOKG_STATUS__TOKEN_FILE: join(d, "token"),
    });
    expect(config.database_url).toBe("postgres://fleet:s3cret@db.example/docstokg");
    expect(config.resolvers.semantic_scholar.api_key).toBe("s2-key");
    expect(config.status.token).toBe("tok");
    expect(sources.database_url).toEqual({ kind: "env", variable: "DOCSTOKG_DATABASE_URL" });
  });

  test("the variable and its _FILE together, or a file that cannot be read, are errors naming them", async () => {
    const d = dirWith({ url: "postgres://db/x" });
    const both = load({
      DOCSTOKG_DATABASE_URL: "postgres://db/y",
      DOCSTOKG_DATABASE_URL_FILE: join(d, "url"),
    });
    await expect(both).rejects.toBeInstanceOf(ConfigError);
    await expect(both).rejects.toThrow("DOCSTOKG_DATABASE_URL and DOCSTOKG_DATABASE_URL_FILE are both set");
    const missing = load({ CORE_API_KEY_FILE: join(d, "nope") });
    await expect(missing).rejects.toThrow(`CORE_API_KEY_FILE: cannot read ${join(d, "nope")} (ENOENT)`);
  });

  test("_FILE of something that is not a key or credential is left alone (and an unknown DOCSTOKG_ key stays an error)", async () => {
    expect(withSecretFiles({ HOME_FILE: "/etc/passwd" })).toEqual({ HOME_FILE: "/etc/passwd" });
    await expect(load({ DOCSTOKG_CONFIG_FILE: "/nonexistent" })).rejects.toBeInstanceOf(ConfigError);
  });
});

describe("$CREDENTIALS_DIRECTORY (systemd LoadCredential=VAR:/path)", () => {
  test("a file named after a variable sets it; files of other names are ignored; the environment wins", async () => {
    const creds = dirWith({
      DOCSTOKG_DATABASE_URL: "postgresql://fleet:pw@db.internal/docstokg\n",
      docstokg_OPENALEX_API_KEY: "oa-key\n", // LoadCredential=docstokg:/etc/docstokg/credentials
      NCBI_API_KEY: "from-credential",
      "unrelated.pem": "-----BEGIN-----",
    });
    const { config } = await load({ CREDENTIALS_DIRECTORY: creds, NCBI_API_KEY: "from-env" });
    expect(config.database_url).toBe("postgresql://fleet:pw@db.internal/docstokg");
    expect(config.resolvers.openalex.api_key).toBe("oa-key");
    expect(config.resolvers.pmc.api_key).toBe("from-env");
  });

  test("object-store credentials come from files too", () => {
    const creds = dirWith({ AWS_SECRET_ACCESS_KEY: "secret\n" });
    const keyFile = dirWith({ id: "AKIA1\n" });
    const c = s3Credentials({ CREDENTIALS_DIRECTORY: creds, AWS_ACCESS_KEY_ID_FILE: join(keyFile, "id") });
    expect(c).toMatchObject({ accessKeyId: "AKIA1", secretAccessKey: "secret" });
    expect(c.variables).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
  });

  test("a missing directory changes nothing", async () => {
    const { config } = await load({ CREDENTIALS_DIRECTORY: join(root, "absent") });
    expect(config.database_url).toBe("");
  });
});
