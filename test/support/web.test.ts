// The simulated web itself: hosts are distinct loopback addresses, faults behave as documented
// (checked with the platform fetch), and arrivals/concurrency are recorded.
import { afterAll, expect, test } from "bun:test";
import { makePdf } from "./pdf.ts";
import { startWeb } from "./web.ts";

const web = await startWeb();
afterAll(() => web.stop());

async function readAll(res: Response): Promise<number> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.length;
  }
}

test("hosts get distinct loopback addresses and names resolve only through the web's lookup", async () => {
  const a = await web.host({ name: "a.test" });
  const b = await web.host({ name: "b.test" });
  expect(a.address).not.toBe(b.address);
  expect(a.address).toMatch(/^127\.0\.0\.\d+$/);
  expect(await web.lookup("A.test")).toEqual([a.address]);
  await expect(web.lookup("unknown.test")).rejects.toThrow("ENOTFOUND");
});

test("a generated PDF is served whole with its length and is a valid-looking PDF", async () => {
  const h = await web.host();
  const pdf = makePdf("hello (world)");
  h.pdf("/p.pdf", pdf);
  const res = await fetch(h.url("/p.pdf"));
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(res.headers.get("content-type")).toBe("application/pdf");
  expect(bytes).toEqual(pdf);
  const text = new TextDecoder("latin1").decode(bytes);
  expect(text.startsWith("%PDF-1.4")).toBe(true);
  expect(text.trimEnd().endsWith("%%EOF")).toBe(true);
  expect(bytes.length).toBeGreaterThanOrEqual(1024);
  const xref = Number(/startxref\n(\d+)/.exec(text)?.[1]);
  expect(text.slice(xref, xref + 4)).toBe("xref");
});

test("status faults apply `times` times, then the route answers again", async () => {
  const h = await web.host();
  h.pdf("/x.pdf").fault("/x.pdf", { kind: "status", status: 503, times: 2 });
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const r = await fetch(h.url("/x.pdf"));
    await r.arrayBuffer();
    statuses.push(r.status);
  }
  expect(statuses).toEqual([503, 503, 200]);
  expect(h.hits("/x.pdf")).toHaveLength(3);
});

test("reset mid-body and a lying Content-Length are visible to a client", async () => {
  const h = await web.host();
  h.huge("/reset.pdf", 1_000_000).fault("/reset.pdf", { kind: "reset", afterBytes: 1000 });
  h.pdf("/short.pdf", makePdf("s", { minBytes: 5000 })).fault("/short.pdf", {
    kind: "truncate",
    afterBytes: 100,
  });
  const r1 = await fetch(h.url("/reset.pdf"));
  await expect(readAll(r1)).rejects.toThrow();
  const r2 = await fetch(h.url("/short.pdf"));
  expect(r2.headers.get("content-length")).toBe(String(makePdf("s", { minBytes: 5000 }).length));
  const got = await readAll(r2).catch(() => -1);
  expect(got).not.toBe(5000);
});

test("arrivals record concurrency", async () => {
  const h = await web.host();
  h.pdf("/c.pdf").fault("/c.pdf", { kind: "delay", ms: 50 });
  await Promise.all([1, 2, 3].map(() => fetch(h.url("/c.pdf")).then((r) => r.arrayBuffer())));
  expect(h.maxConcurrency()).toBe(3);
  expect(h.maxInWindow(1000)).toBe(3);
});

test("window and interval statistics over recorded arrivals", async () => {
  const h = await web.host();
  h.pdf("/w.pdf");
  for (let i = 0; i < 3; i++) {
    const r = await fetch(h.url("/w.pdf"));
    await r.arrayBuffer();
    await Bun.sleep(30);
  }
  expect(h.requests).toHaveLength(3);
  expect(h.minIntervalMs()).toBeGreaterThanOrEqual(29);
  expect(h.maxInWindow(25)).toBe(1);
  expect(h.maxInWindow(1000)).toBe(3);
  expect(h.maxConcurrency()).toBe(1);
});

test("stopping the web closes every host", async () => {
  const w = await startWeb();
  const h = await w.host();
  h.pdf("/x.pdf");
  await w.stop();
  await expect(fetch(h.url("/x.pdf"))).rejects.toThrow();
});
