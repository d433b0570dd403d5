import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  blockedSignal,
  classifyPayload,
  hopelessHead,
  type Payload,
  PDF_TRAILER_WINDOW,
  SNIFF_HEAD_BYTES,
  sniffMarkup,
} from "../../src/download/classify.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures");
const opts = { minPdfBytes: 1024, acceptXml: false };
const enc = new TextEncoder();

/** What the stream keeps of a whole body: its first and last bytes and its size. */
function payloadOf(bytes: Uint8Array): Payload {
  return {
    head: bytes.subarray(0, SNIFF_HEAD_BYTES),
    tail: bytes.subarray(Math.max(0, bytes.length - PDF_TRAILER_WINDOW)),
    bytes: bytes.length,
  };
}
const fixture = (dir: string, name: string) => new Uint8Array(readFileSync(join(FIXTURES, dir, name)));
const text = (s: string) => payloadOf(enc.encode(s));

describe("real PDFs", () => {
  const names = readdirSync(join(FIXTURES, "pdf")).filter((n) => n.endsWith(".pdf"));
  test("the fixture set covers several producers and structures", () => {
    expect(names.length).toBeGreaterThanOrEqual(6);
  });
  for (const name of names) {
    test(`${name} is a PDF`, () => {
      expect(classifyPayload(payloadOf(fixture("pdf", name)), opts)).toEqual({
        accept: true,
        kind: "pdf",
        contentType: "application/pdf",
      });
    });
    test(`${name} cut in half is truncated`, () => {
      const bytes = fixture("pdf", name);
      const v = classifyPayload(payloadOf(bytes.subarray(0, Math.floor(bytes.length / 2))), opts);
      expect(v).toMatchObject({ accept: false, reason: "truncated", looksLike: "pdf" });
    });
  }
  test("a real PDF below min_pdf_bytes is not_pdf (a stub, not a paper)", () => {
    const bytes = fixture("pdf", "ghostscript-pdf13.pdf");
    const v = classifyPayload(payloadOf(bytes), { ...opts, minPdfBytes: bytes.length + 1 });
    expect(v).toMatchObject({ accept: false, reason: "not_pdf", looksLike: "pdf" });
  });
});

describe("PDF signature windows", () => {
  const pdf = (prefix: string, body: number, suffix: string) =>
    text(`${prefix}%PDF-1.7\n${"x".repeat(body)}\n%%EOF${suffix}`);
  test("header after up to 1 KiB of leading junk is accepted, beyond it is not", () => {
    expect(classifyPayload(pdf(" ".repeat(1000), 2000, "\n"), opts).accept).toBe(true);
    expect(classifyPayload(pdf(" ".repeat(1030), 2000, "\n"), opts)).toMatchObject({ reason: "not_pdf" });
  });
  test("%%EOF within the last 2 KiB is accepted, further from the end is truncated", () => {
    expect(classifyPayload(pdf("", 4000, "\0".repeat(2000)), opts).accept).toBe(true);
    expect(classifyPayload(pdf("", 4000, "\0".repeat(2100)), opts)).toMatchObject({ reason: "truncated" });
  });
  test("exactly min_pdf_bytes is enough", () => {
    const p = pdf("", 10, "\n");
    expect(classifyPayload(p, { ...opts, minPdfBytes: p.bytes }).accept).toBe(true);
    expect(classifyPayload(p, { ...opts, minPdfBytes: p.bytes + 1 }).accept).toBe(false);
  });
});

describe("real HTML pages", () => {
  test("a landing page with citation_pdf_url is html_only (to be scraped)", () => {
    const v = classifyPayload(payloadOf(fixture("api", "landing-page-citation-pdf-url.html")), opts);
    expect(v).toMatchObject({ accept: false, reason: "html_only", looksLike: "html" });
  });
  test("DocBook HTML 4.01 with upper-case tags and the nginx welcome page are HTML", () => {
    for (const name of ["docbook-shared-mime-info-index.html", "nginx-welcome.html"]) {
      expect(classifyPayload(payloadOf(fixture("html", name)), opts)).toMatchObject({ reason: "html_only" });
    }
  });
  test("a Cloudflare challenge and a login wall are blocked", () => {
    expect(classifyPayload(payloadOf(fixture("html", "cloudflare-challenge.html")), opts)).toMatchObject({
      reason: "blocked",
    });
    expect(classifyPayload(payloadOf(fixture("html", "login-wall.html")), opts)).toMatchObject({
      reason: "blocked",
      detail: expect.stringContaining("login"),
    });
  });
  test("HTML served with a PDF name is still HTML (classification ignores names and types)", () => {
    const v = classifyPayload(
      text("\uFEFF\n  <!-- generated -->\n<html><body>Please wait</body></html>"),
      opts,
    );
    expect(v).toMatchObject({ reason: "html_only" });
  });
});

describe("XML", () => {
  const jats = () => payloadOf(fixture("xml", "jats-article.xml"));
  test("JATS is kept only when accept_xml is on", () => {
    expect(classifyPayload(jats(), { ...opts, acceptXml: true })).toEqual({
      accept: true,
      kind: "xml",
      contentType: "application/xml",
    });
    expect(classifyPayload(jats(), opts)).toMatchObject({
      accept: false,
      reason: "not_pdf",
      looksLike: "xml",
    });
  });
  test("XML with another root is not_pdf even with accept_xml", () => {
    const v = classifyPayload(text('<?xml version="1.0"?>\n<OAI-PMH><error/></OAI-PMH>'), {
      ...opts,
      acceptXml: true,
    });
    expect(v).toMatchObject({ accept: false, reason: "not_pdf", looksLike: "xml" });
  });
  test("a doctype with an internal subset is stepped over", () => {
    expect(sniffMarkup(enc.encode('<!DOCTYPE article [ <!ENTITY a "b"> ]>\n<article/>'))).toEqual({
      type: "xml-article",
    });
  });
  test("XHTML behind an XML declaration is HTML", () => {
    expect(sniffMarkup(enc.encode('<?xml version="1.0"?>\n<!DOCTYPE html>\n<html/>'))).toEqual({
      type: "html",
    });
  });
});

describe("anything else", () => {
  test("empty, binary, JSON and plain text are not_pdf", () => {
    expect(classifyPayload(text(""), opts)).toMatchObject({ reason: "not_pdf", detail: "empty body" });
    expect(classifyPayload(payloadOf(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0])), opts)).toMatchObject({
      reason: "not_pdf",
      looksLike: "other",
    });
    expect(classifyPayload(text('{"error":"not found"}'), opts)).toMatchObject({ reason: "not_pdf" });
    expect(classifyPayload(text("Hello, this is text"), opts)).toMatchObject({ reason: "not_pdf" });
  });
});

describe("blockedSignal", () => {
  test("strong challenge markers win even on a page announcing a PDF", () => {
    expect(
      blockedSignal('<title>Just a moment...</title><meta name="citation_pdf_url" content="/x.pdf">'),
    ).toContain("Cloudflare");
  });
  test("a weak marker is ignored on a page announcing its PDF", () => {
    const page = '<meta name="citation_pdf_url" content="/x.pdf"><div class="g-recaptcha"></div>';
    expect(blockedSignal(page)).toBeNull();
    expect(blockedSignal('<div class="g-recaptcha"></div>')).toBe("captcha page");
  });
  test("access denied and robot checks", () => {
    expect(blockedSignal("<html><title>Access Denied</title></html>")).toContain("Access denied");
    expect(
      blockedSignal("<p>Our systems have detected unusual traffic from your computer network.</p>"),
    ).toBe("human-verification page");
    expect(blockedSignal("<p>An ordinary landing page.</p>")).toBeNull();
  });
});

describe("hopelessHead: the first KiB decides when nothing kept or scraped can follow", () => {
  const kib = (start: string, fill = 0x20) => {
    const b = new Uint8Array(1024).fill(fill);
    b.set(enc.encode(start));
    return b;
  };
  test("binary junk, JSON and plain text are judged not_pdf, as the whole body would be", () => {
    for (const head of [new Uint8Array(1024), kib('{"error": "x"}'), kib("Just some text")]) {
      expect(hopelessHead(head)).toContain("neither a PDF nor markup");
      expect(classifyPayload(payloadOf(head), opts)).toMatchObject({ accept: false, reason: "not_pdf" });
    }
  });
  test("undecided: fewer bytes than the window, a PDF header late in the window, markup, a BOM, only whitespace", () => {
    expect(hopelessHead(new Uint8Array(1023))).toBeNull();
    expect(hopelessHead(kib(`${"\0".repeat(900)}%PDF-1.7`))).toBeNull();
    expect(hopelessHead(kib("  \n<!-- a long comment that the window may cut"))).toBeNull();
    expect(hopelessHead(kib("\uFEFF<?xml version='1.0'?>"))).toBeNull();
    expect(hopelessHead(kib(""))).toBeNull();
  });
});
