// Real-looking HTML pages of the simulated scholarly web: publisher landing pages (modelled on the
// Manubot page in test/fixtures/api), a bot-challenge page and a cookie interstitial.

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export interface LandingOptions {
  title: string;
  /** `<meta name="citation_pdf_url">` (absolute or relative). */
  pdfUrl?: string;
  /** `<link rel="alternate" type="application/pdf">`. */
  alternatePdf?: string;
  /** Anchors in the body, e.g. `[{ href: "/x.pdf", text: "Download PDF" }]`. */
  anchors?: { href: string; text: string }[];
  /** `<base href>`. */
  base?: string;
  doi?: string;
}

export function landingPage(o: LandingOptions): string {
  const head = [
    '<meta charset="utf-8" />',
    '<meta name="viewport" content="width=device-width, initial-scale=1.0" />',
    `<title>${esc(o.title)}</title>`,
    o.base ? `<base href="${esc(o.base)}" />` : "",
    `<meta name="citation_title" content="${esc(o.title)}" />`,
    '<meta name="citation_author" content="Ada Lovelace" />',
    '<meta name="citation_publication_date" content="2022-11-11" />',
    o.doi ? `<meta name="citation_doi" content="${esc(o.doi)}" />` : "",
    o.pdfUrl ? `<meta name="citation_pdf_url" content="${esc(o.pdfUrl)}" />` : "",
    o.alternatePdf ? `<link rel="alternate" type="application/pdf" href="${esc(o.alternatePdf)}" />` : "",
  ]
    .filter(Boolean)
    .map((l) => `  ${l}`)
    .join("\n");
  const anchors = (o.anchors ?? [])
    .map((a) => `    <li><a href="${esc(a.href)}">${esc(a.text)}</a></li>`)
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en-US">
<head>
${head}
</head>
<body>
  <header><h1 class="title">${esc(o.title)}</h1></header>
  <section id="abstract"><h2>Abstract</h2><p>We describe a method and evaluate it carefully.</p></section>
  <nav><ul>
${anchors}
  </ul></nav>
</body>
</html>
`;
}

/** A bot challenge as CDNs serve it (often with status 200 or 403). */
export function captchaPage(): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" /><title>Just a moment...</title>
<meta name="robots" content="noindex,nofollow" /></head>
<body><div id="challenge"><h1>Checking your browser before accessing the site.</h1>
<p>Please complete the CAPTCHA below to continue.</p>
<div class="g-recaptcha" data-sitekey="6LdTest"></div></div></body></html>
`;
}

/** A cookie/consent interstitial that publishers send instead of the PDF (labelled application/pdf). */
export function interstitialPage(next: string): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8" /><title>Redirecting…</title>
<meta http-equiv="refresh" content="5; url=${esc(next)}" /></head>
<body><p>Please accept cookies to continue to the article.</p><a href="${esc(next)}">Continue</a></body></html>
`;
}
