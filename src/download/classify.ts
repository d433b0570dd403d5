// Classification of a downloaded payload by its bytes, never by the Content-Type the server claimed
// (SPEC 6 step 5). Pure: it sees the first bytes, the last bytes and the size, and says whether the
// payload is kept (and as what) or which stable reason ends the candidate.

/** How many leading bytes the stream keeps: enough to read an HTML page's head and find its links. */
export const SNIFF_HEAD_BYTES = 256 * 1024;
/** `%PDF-` must appear within this many leading bytes. */
export const PDF_HEADER_WINDOW = 1024;
/** `%%EOF` must appear within this many trailing bytes. */
export const PDF_TRAILER_WINDOW = 2048;

export interface Payload {
  /** The first bytes of the body (up to SNIFF_HEAD_BYTES). */
  head: Uint8Array;
  /** The last bytes of the body (up to PDF_TRAILER_WINDOW). */
  tail: Uint8Array;
  /** The body's full length. */
  bytes: number;
}

export interface ClassifyOptions {
  minPdfBytes: number;
  acceptXml: boolean;
}

export type Verdict =
  | { accept: true; kind: "pdf" | "xml"; contentType: string }
  | {
      accept: false;
      /**
       * blocked: a challenge/captcha/login page; html_only: a landing page (the caller scrapes it);
       * not_pdf: anything else, a tiny PDF stub, or XML while XML is not accepted;
       * truncated: a PDF header without its `%%EOF` trailer (a transfer cut short that the length
       * check could not see, e.g. chunked). Retried, since a cut transfer is the usual cause.
       */
      reason: "blocked" | "html_only" | "not_pdf" | "truncated";
      /** What the bytes looked like. */
      looksLike: "pdf" | "xml" | "html" | "other";
      detail: string;
    };

const latin1 = new TextDecoder("latin1");

export function classifyPayload(p: Payload, opts: ClassifyOptions): Verdict {
  const headText = latin1.decode(p.head.subarray(0, PDF_HEADER_WINDOW));
  if (headText.includes("%PDF-")) {
    const tailText = latin1.decode(p.tail.subarray(Math.max(0, p.tail.length - PDF_TRAILER_WINDOW)));
    if (!tailText.includes("%%EOF")) {
      return {
        accept: false,
        reason: "truncated",
        looksLike: "pdf",
        detail: `PDF of ${p.bytes} bytes has no %%EOF in its last ${PDF_TRAILER_WINDOW} bytes (cut short)`,
      };
    }
    if (p.bytes < opts.minPdfBytes) {
      return {
        accept: false,
        reason: "not_pdf",
        looksLike: "pdf",
        detail: `PDF of ${p.bytes} bytes is smaller than min_pdf_bytes (${opts.minPdfBytes})`,
      };
    }
    return { accept: true, kind: "pdf", contentType: "application/pdf" };
  }

  const markup = sniffMarkup(p.head);
  if (markup.type === "xml-article") {
    if (opts.acceptXml) return { accept: true, kind: "xml", contentType: "application/xml" };
    return {
      accept: false,
      reason: "not_pdf",
      looksLike: "xml",
      detail: "JATS XML article (download.accept_xml is off)",
    };
  }
  if (markup.type === "html") {
    const text = new TextDecoder("utf-8").decode(p.head);
    const block = blockedSignal(text);
    if (block) return { accept: false, reason: "blocked", looksLike: "html", detail: `HTML ${block}` };
    return {
      accept: false,
      reason: "html_only",
      looksLike: "html",
      detail: "HTML landing page instead of a file",
    };
  }
  if (markup.type === "xml-other") {
    return {
      accept: false,
      reason: "not_pdf",
      looksLike: "xml",
      detail: `XML with root <${markup.root}>, not a PDF`,
    };
  }
  return {
    accept: false,
    reason: "not_pdf",
    looksLike: "other",
    detail: p.bytes === 0 ? "empty body" : `unexpected content starting with ${describeStart(p.head)}`,
  };
}

/**
 * Whether the first bytes already rule out everything that is kept or scraped, so the rest need not
 * be read: no `%PDF-` in the first PDF_HEADER_WINDOW bytes, and something other than `<` first
 * (after a byte order mark and whitespace), where every markup starts. Answers the detail of the
 * `not_pdf` it will be, or null while undecided (fewer bytes than the window, or only whitespace).
 */
export function hopelessHead(head: Uint8Array): string | null {
  if (head.length < PDF_HEADER_WINDOW) return null;
  const text = latin1.decode(head.subarray(0, PDF_HEADER_WINDOW));
  if (text.includes("%PDF-")) return null;
  const start = text.startsWith("\xEF\xBB\xBF") ? text.slice(3) : text;
  const first = /\S/.exec(start);
  if (!first || first[0] === "<") return null;
  return `neither a PDF nor markup in the first ${PDF_HEADER_WINDOW} bytes: starts with ${describeStart(head)}`;
}

type Markup =
  | { type: "html" }
  | { type: "xml-article" }
  | { type: "xml-other"; root: string }
  | { type: "none" };

const HTML_ELEMENTS = new Set([
  "html",
  "head",
  "body",
  "title",
  "meta",
  "script",
  "style",
  "link",
  "div",
  "p",
  "table",
]);

/**
 * Looks at the start of the payload for markup: skips a BOM, whitespace, an XML declaration,
 * processing instructions, comments and a doctype, then reads the first element's name.
 */
export function sniffMarkup(head: Uint8Array): Markup {
  const text = latin1.decode(head.subarray(0, 8192));
  let i = 0;
  if (text.startsWith("\xEF\xBB\xBF")) i = 3;
  let doctype = "";
  for (let guard = 0; guard < 64; guard++) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (text.startsWith("<?", i)) {
      const end = text.indexOf("?>", i);
      if (end < 0) return { type: "none" };
      i = end + 2;
    } else if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i);
      if (end < 0) return { type: "none" };
      i = end + 3;
    } else if (text.slice(i, i + 9).toLowerCase() === "<!doctype") {
      const end = doctypeEnd(text, i);
      if (end < 0) return { type: "none" };
      doctype = text
        .slice(i + 9, end)
        .trim()
        .toLowerCase();
      i = end + 1;
    } else break;
  }
  if (doctype.startsWith("html")) return { type: "html" };
  const m = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(i, i + 64));
  if (!m) return { type: "none" };
  const name = (m[1] as string).toLowerCase();
  const local = name.includes(":") ? name.slice(name.indexOf(":") + 1) : name;
  if (local === "article") return { type: "xml-article" };
  if (HTML_ELEMENTS.has(local)) return { type: "html" };
  if (doctype !== "" || text.startsWith("<?xml", text.startsWith("\xEF\xBB\xBF") ? 3 : 0)) {
    return { type: "xml-other", root: name };
  }
  return { type: "none" };
}

/** End of a doctype declaration, stepping over an internal subset in brackets. */
function doctypeEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === ">" && depth <= 0) return i;
  }
  return -1;
}

// Markers of pages that stand between us and the file. The strong ones are unambiguous (a bot
// challenge never carries citation metadata); the weak ones could appear on a real landing page, so
// a page announcing its PDF (citation_pdf_url) is treated as a landing page despite them.
const STRONG_BLOCK_MARKERS: [RegExp, string][] = [
  [/<title>\s*just a moment/i, "bot challenge (Cloudflare 'Just a moment')"],
  [
    /cf[-_]chl[-_]|challenge-platform|cf-browser-verification|\/cdn-cgi\/challenge/i,
    "bot challenge (Cloudflare)",
  ],
  [/<title>[^<]*attention required[^<]*cloudflare/i, "bot challenge (Cloudflare 'Attention Required')"],
  [
    /checking your browser before accessing|ddos-guard|px-captcha|_incapsula_resource|request unsuccessful\. incapsula/i,
    "bot challenge",
  ],
];
const WEAK_BLOCK_MARKERS: [RegExp, string][] = [
  [/captcha/i, "captcha page"],
  [
    /verify (that )?you are (a )?human|are you a robot|unusual traffic from your (computer|network)/i,
    "human-verification page",
  ],
  [
    /<title>[^<]*(access denied|403 forbidden|forbidden)[^<]*<\/title>|<h1>[^<]*access denied/i,
    "'Access denied' page",
  ],
  [/<input[^>]+type\s*=\s*["']?password/i, "login page (password form)"],
];

/** Why an HTML page is a challenge/captcha/login page, or null when it looks like a landing page. */
export function blockedSignal(html: string): string | null {
  for (const [re, what] of STRONG_BLOCK_MARKERS) if (re.test(html)) return what;
  if (/<meta[^>]+name\s*=\s*["']?citation_pdf_url/i.test(html)) return null;
  for (const [re, what] of WEAK_BLOCK_MARKERS) if (re.test(html)) return what;
  return null;
}

function describeStart(head: Uint8Array): string {
  const bytes = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return `bytes ${bytes}`;
}
