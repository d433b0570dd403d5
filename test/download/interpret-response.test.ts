import { describe, expect, test } from "bun:test";
import {
  type Interpretation,
  interpretResponse,
  isEncoded,
  type RoundRequest,
  resumableInfo,
  resumeValidator,
  roundHeaders,
} from "../../src/download/interpret-response.ts";
import type { PartialInfo } from "../../src/download/temp.ts";

const URL_ = "http://files.test/a.pdf";
const MAX = 1000;
const partial: PartialInfo = { url: URL_, etag: '"v1"', total: 800 };

const fresh: RoundRequest = { url: URL_, resumeFrom: 0, partial: null, conditional: false, maxBytes: MAX };
const resuming: RoundRequest = { ...fresh, resumeFrom: 300, partial };
const conditional: RoundRequest = { ...fresh, conditional: true };

const body = (start: number, total: number | undefined, encoded = false): Interpretation => ({
  next: "body",
  start,
  total,
  encoded,
});
const startOver = { next: "start_over" } as const;
const truncated206 = (missing: boolean): Interpretation => ({
  next: "start_over",
  failure: {
    reason: "truncated",
    message: `${URL_}: 206 with Content-Range ${missing ? "missing or " : ""}not matching the request`,
  },
});
const tooLarge = (n: number, encoded = false): Interpretation => ({
  next: "refuse",
  failure: {
    reason: "too_large",
    message: `${URL_}: ${n} ${encoded ? "encoded " : ""}bytes announced, over download.max_bytes (${MAX})`,
  },
});

type Row = [string, RoundRequest, number, Record<string, string>, Interpretation];

// Every rule of one round's answer: [case, what was asked, status, headers, decision].
const table: Row[] = [
  // 200: the whole file from byte 0, whatever was asked.
  ["200 with a length", fresh, 200, { "content-length": "500" }, body(0, 500)],
  ["200 without a length", fresh, 200, {}, body(0, undefined)],
  [
    "200 to a Range request starts over in the same round",
    resuming,
    200,
    { "content-length": "800" },
    body(0, 800),
  ],
  ["200 at exactly max_bytes", fresh, 200, { "content-length": String(MAX) }, body(0, MAX)],
  ["200 over max_bytes", fresh, 200, { "content-length": String(MAX + 1) }, tooLarge(MAX + 1)],
  ["200 with an unparsable length", fresh, 200, { "content-length": "lots" }, body(0, undefined)],
  // Content-Encoding: the length is the encoded one; it is checked but does not describe the file.
  [
    "gzip body: no total",
    fresh,
    200,
    { "content-length": "500", "content-encoding": "gzip" },
    body(0, undefined, true),
  ],
  [
    "identity is no encoding",
    fresh,
    200,
    { "content-length": "500", "content-encoding": " Identity " },
    body(0, 500),
  ],
  ["empty encoding is none", fresh, 200, { "content-length": "500", "content-encoding": " " }, body(0, 500)],
  [
    "encoded length over max_bytes",
    fresh,
    200,
    { "content-length": String(MAX + 1), "content-encoding": "br" },
    tooLarge(MAX + 1, true),
  ],
  // 206 continuing the partial.
  [
    "206 continuing the partial",
    resuming,
    206,
    { "content-range": "bytes 300-799/800", etag: '"v1"' },
    body(300, 800),
  ],
  ["206 continuing without an ETag", resuming, 206, { "content-range": "bytes 300-799/800" }, body(300, 800)],
  [
    "206 with unknown total keeps the sidecar's",
    resuming,
    206,
    { "content-range": "bytes 300-799/*" },
    body(300, 800),
  ],
  [
    "206 without any total",
    { ...resuming, partial: { url: URL_, lastModified: "Tue, 01 Jan 2030 00:00:00 GMT" } },
    206,
    { "content-range": "bytes 300-799/*" },
    body(300, undefined),
  ],
  [
    "206 with the partial's total over max_bytes",
    { ...resuming, partial: { ...partial, total: 5000 } },
    206,
    { "content-range": "bytes 300-4999/5000" },
    tooLarge(5000),
  ],
  ["206 at another offset", resuming, 206, { "content-range": "bytes 200-799/800" }, truncated206(false)],
  [
    "206 of another entity",
    resuming,
    206,
    { "content-range": "bytes 300-799/800", etag: '"v2"' },
    truncated206(false),
  ],
  [
    "206 encoded cannot continue",
    resuming,
    206,
    { "content-range": "bytes 300-799/800", "content-encoding": "gzip" },
    truncated206(false),
  ],
  ["206 without Content-Range", resuming, 206, {}, truncated206(true)],
  ["206 with a garbled Content-Range", resuming, 206, { "content-range": "bytes x-y/z" }, truncated206(true)],
  // 206 to a request without Range: only the whole file as one range is taken.
  ["206 whole file as one range", fresh, 206, { "content-range": "bytes 0-799/800" }, body(0, 800)],
  ["206 whole file over max_bytes", fresh, 206, { "content-range": "bytes 0-1999/2000" }, tooLarge(2000)],
  ["206 part of a file, not asked", fresh, 206, { "content-range": "bytes 0-99/800" }, truncated206(false)],
  ["206 from 0 with unknown total", fresh, 206, { "content-range": "bytes 0-799/*" }, truncated206(false)],
  ["206 not from 0, not asked", fresh, 206, { "content-range": "bytes 300-799/800" }, truncated206(false)],
  // 304.
  ["304 to a conditional request", conditional, 304, {}, { next: "check_prior" }],
  [
    "304 to an unconditional request",
    fresh,
    304,
    {},
    {
      next: "refuse",
      failure: { reason: "http_304", message: `${URL_}: 304 Not Modified to an unconditional request` },
    },
  ],
  [
    "304 to a Range request without conditions",
    resuming,
    304,
    {},
    {
      next: "refuse",
      failure: { reason: "http_304", message: `${URL_}: 304 Not Modified to an unconditional request` },
    },
  ],
];

function ok(status: number, headers: Record<string, string>) {
  return { ok: true as const, status, headers: new Headers(headers) };
}

describe("interpretResponse: answers the HTTP client hands over (2xx, 304)", () => {
  test.each(table)("%s", (_name, asked, status, headers, expected) => {
    expect<Interpretation>(interpretResponse(asked, ok(status, headers))).toEqual(expected);
  });
});

describe("interpretResponse: refusals of the HTTP client", () => {
  const refused: [string, RoundRequest, number | undefined, Interpretation][] = [
    ["416 to a Range request drops the partial", resuming, 416, startOver],
    ["416 without a Range request is the end", fresh, 416, { next: "fail" }],
    ["404 while resuming is the end", resuming, 404, { next: "fail" }],
    ["503 is the end (the client already retried)", resuming, 503, { next: "fail" }],
    ["no status (network failure, gate)", resuming, undefined, { next: "fail" }],
  ];
  test.each(refused)("%s", (_name, asked, status, expected) => {
    expect<Interpretation>(interpretResponse(asked, { ok: false, status })).toEqual(expected);
  });
});

describe("roundHeaders", () => {
  const prior = { path: "/lib/pdf/a.pdf", bytes: 1, sha256: "x", etag: '"p"', lastModified: "Mon" };
  test.each([
    [
      "nothing to continue, no prior copy",
      { resumeFrom: 0, partial: null, prior: undefined, conditional: false },
      {},
    ],
    [
      "continue with a strong ETag",
      { resumeFrom: 300, partial, prior: undefined, conditional: false },
      { Range: "bytes=300-", "If-Range": '"v1"' },
    ],
    [
      "continue with Last-Modified when the ETag is weak",
      {
        resumeFrom: 300,
        partial: { url: URL_, etag: 'W/"w"', lastModified: "Sun" },
        prior: undefined,
        conditional: false,
      },
      { Range: "bytes=300-", "If-Range": "Sun" },
    ],
    [
      "conditional on the prior copy",
      { resumeFrom: 0, partial: null, prior, conditional: true },
      { "If-None-Match": '"p"', "If-Modified-Since": "Mon" },
    ],
    [
      "the prior copy once conditions were dropped",
      { resumeFrom: 0, partial: null, prior, conditional: false },
      {},
    ],
    [
      "both: continue and conditional",
      { resumeFrom: 300, partial, prior: { ...prior, lastModified: undefined }, conditional: true },
      { Range: "bytes=300-", "If-Range": '"v1"', "If-None-Match": '"p"' },
    ],
  ] as const)("%s", (_name, o, expected) => {
    expect(roundHeaders(o)).toEqual(expected);
  });
});

describe("what makes a fresh body resumable", () => {
  test("a strong ETag or Last-Modified, no encoding", () => {
    expect(resumableInfo(URL_, new Headers({ etag: '"e"' }), 800, false)).toEqual({
      url: URL_,
      etag: '"e"',
      lastModified: undefined,
      total: 800,
    });
    expect(resumableInfo(URL_, new Headers({ "last-modified": "Sun" }), undefined, false)).toEqual({
      url: URL_,
      etag: undefined,
      lastModified: "Sun",
      total: undefined,
    });
  });
  test("not without a validator If-Range can carry, nor when encoded", () => {
    expect(resumableInfo(URL_, new Headers({}), 800, false)).toBeNull();
    expect(resumableInfo(URL_, new Headers({ etag: 'W/"weak"' }), 800, false)).toBeNull();
    expect(resumableInfo(URL_, new Headers({ etag: '"e"' }), undefined, true)).toBeNull();
  });
  test("If-Range takes a strong ETag first", () => {
    expect(resumeValidator({ url: URL_, etag: '"e"', lastModified: "Sun" })).toBe('"e"');
    expect(resumeValidator({ url: URL_, etag: 'W/"e"' })).toBeUndefined();
    expect(isEncoded(new Headers({ "content-encoding": "x-gzip" }))).toBe(true);
    expect(isEncoded(new Headers({}))).toBe(false);
  });
});
