import { describe, expect, test } from "bun:test";
import { isSecretParam, REDACTED, redactDeep, redactText, redactUrl } from "../../src/core/redact.ts";

describe("redactUrl", () => {
  test("keeps harmless parameters and non-URLs as written", () => {
    expect(redactUrl("https://x.example/a?id=1&keyword=k")).toBe("https://x.example/a?id=1&keyword=k");
    expect(redactUrl("https://x.example/a?q=a%20b+c&id=1")).toBe("https://x.example/a?q=a%20b+c&id=1");
    expect(redactUrl("not a url")).toBe("not a url");
    expect(redactText("no urls here")).toBe("no urls here");
  });

  test("every known secret parameter is redacted, whatever its case or prefix", () => {
    const names = [
      "api_key",
      "apikey",
      "key",
      "token",
      "access_token",
      "sig",
      "signature",
      "X-Amz-Signature",
      "X-Amz-Credential",
      "X-Amz-Security-Token",
      "password",
      "S2_API_KEY",
      "client_secret",
      "email",
      "mailto",
    ];
    for (const name of names) {
      expect(isSecretParam(name)).toBe(true);
      expect(redactUrl(`https://x.example/a?${name}=s3cr3t&page=2`)).toBe(
        `https://x.example/a?${name}=${REDACTED}&page=2`,
      );
    }
    for (const name of ["keyword", "monkey_id", "id", "tokenizer", "page"])
      expect(isSecretParam(name)).toBe(false);
  });

  test("user-info is dropped, even with an @ in the password; fragments survive", () => {
    expect(redactUrl("http://user:p@ss@host.example:8080/a?token=t#frag")).toBe(
      `http://host.example:8080/a?token=${REDACTED}#frag`,
    );
    expect(redactUrl("https://alice@host.example")).toBe("https://host.example");
  });

  test("URLs inside text and inside nested values", () => {
    expect(redactText('GET "https://u:pw@a.example/x?key=k1" then https://b.example/?sig=zz')).toBe(
      'GET "https://a.example/x?key=REDACTED" then https://b.example/?sig=REDACTED',
    );
    const deep = redactDeep({
      a: ["https://x.example/?api_key=1"],
      b: { c: "https://y.example/?token=2" },
      n: 3,
    });
    expect(JSON.stringify(deep)).toBe(
      '{"a":["https://x.example/?api_key=REDACTED"],"b":{"c":"https://y.example/?token=REDACTED"},"n":3}',
    );
  });
});
