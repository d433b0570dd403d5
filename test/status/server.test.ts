import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { checkBearer } from "../../src/status/auth.ts";
import { checkListen, isLoopbackHost, ListenError, parseListen } from "../../src/status/listen.ts";
import { startStatusServer } from "../../src/status/server.ts";
import { rawGet } from "../support/raw-http.ts";

describe("listen address", () => {
  test("parses v4, names and bracketed v6", () => {
    expect(parseListen("127.0.0.1:8787")).toEqual({ hostname: "127.0.0.1", port: 8787 });
    expect(parseListen("localhost:0")).toEqual({ hostname: "localhost", port: 0 });
    expect(parseListen("[::1]:9000")).toEqual({ hostname: "::1", port: 9000 });
  });

  test.each(["8787", "127.0.0.1", "127.0.0.1:99999", "::1:80", ":80", "host:port", ""])(
    "refuses %p with the expected form",
    (addr) => {
      expect(() => parseListen(addr)).toThrow(/expected HOST:PORT/);
    },
  );

  test("loopback detection", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "::ffff:127.0.0.1", "LOCALHOST"]) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example.org", "127.0.0.256", "128.0.0.1"]) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  test("a non-loopback bind without a token is refused with a clear message", () => {
    for (const addr of ["0.0.0.0:8787", "[::]:8787", "10.1.2.3:80", "status.example:8787"]) {
      expect(() => checkListen(addr, undefined)).toThrow(ListenError);
      expect(() => checkListen(addr, undefined)).toThrow(/without a token: set status.token/);
      expect(checkListen(addr, "tok").port).toBeGreaterThan(0);
    }
    expect(checkListen("127.0.0.1:8787", undefined).hostname).toBe("127.0.0.1");
  });
});

describe("bearer check", () => {
  test("distinguishes no token configured, wrong token and right token", () => {
    expect(checkBearer("Bearer abc", undefined)).toBe("no_token_configured");
    expect(checkBearer(undefined, "abc")).toBe("unauthorized");
    expect(checkBearer("Bearer abd", "abc")).toBe("unauthorized");
    expect(checkBearer("Bearer abcd", "abc")).toBe("unauthorized");
    expect(checkBearer("Bearer abc", "abc")).toBe("ok");
    expect(checkBearer("bearer abc", "abc")).toBe("ok");
  });
});

describe("startStatusServer", () => {
  test("serves the app on a loopback port and stops", async () => {
    const app = new Hono().get("/healthz", (c) => c.json({ ok: true }));
    const server = startStatusServer("127.0.0.1:0", app, {});
    try {
      expect(server.url.hostname).toBe("127.0.0.1");
      const res = await fetch(new URL("/healthz", server.url));
      expect(await res.json()).toEqual({ ok: true });
    } finally {
      await server.stop();
    }
    await expect(fetch(new URL("/healthz", server.url))).rejects.toThrow();
  });

  test("refuses a non-loopback address without a token before binding anything", () => {
    expect(() => startStatusServer("0.0.0.0:0", new Hono(), {})).toThrow(/non-loopback/);
  });

  test("an address in use is a clear error", async () => {
    const first = startStatusServer("127.0.0.1:0", new Hono(), {});
    try {
      expect(() => startStatusServer(`127.0.0.1:${first.url.port}`, new Hono(), {})).toThrow(
        /cannot listen on/,
      );
    } finally {
      await first.stop();
    }
  });
});

describe("Host header on a loopback bind (DNS rebinding)", () => {
  test("loopback names and addresses with any port are answered; any other name gets 421", async () => {
    const app = new Hono().get("/api/jobs", (c) => c.json({ jobs: ["secret"] }));
    const server = startStatusServer("127.0.0.1:0", app, {});
    try {
      const port = server.url.port;
      for (const host of [
        "localhost",
        `localhost:${port}`,
        "LOCALHOST:1",
        "127.0.0.1",
        `127.0.0.1:${port}`,
        "127.9.8.7:80",
        "[::1]",
        `[::1]:${port}`,
        "localhost.",
      ]) {
        const res = await rawGet(server.url, "/api/jobs", host);
        expect(res.status, host).toBe(200);
        expect(res.body).toContain("secret");
      }
      for (const host of [
        "evil.example",
        `evil.example:${port}`,
        "127.0.0.1.evil.example",
        "localhost.evil.example",
        "10.0.0.1",
        "0.0.0.0",
        "[::2]:80",
        "127.0.0.1:80:80",
        "attacker.localhost",
      ]) {
        const res = await rawGet(server.url, "/api/jobs", host);
        expect(res.status, host).toBe(421);
        expect(res.body).not.toContain("secret");
        expect(JSON.parse(res.body)).toMatchObject({ error: "misdirected" });
      }
    } finally {
      await server.stop();
    }
  });

  test("a non-loopback bind (token required) does not judge names", async () => {
    const app = new Hono().get("/healthz", (c) => c.json({ ok: true }));
    const server = startStatusServer("0.0.0.0:0", app, { token: "tok" });
    try {
      const res = await rawGet(
        new URL(`http://127.0.0.1:${server.url.port}/`),
        "/healthz",
        "status.example.org",
      );
      expect(res.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
