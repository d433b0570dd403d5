// `landing`: the work's landing pages (and those other resolvers found) are fetched and scraped
// for PDF links in priority order — citation_pdf_url, <link rel=alternate type=application/pdf>,
// then anchors ending in .pdf or saying PDF — resolved against the page URL or its <base href>.
import type { StaticResolver } from "./resolver.ts";
import { httpUrl } from "./shape.ts";

export const landing: StaticResolver = {
  name: "landing",
  kind: "static",
  seeds(work) {
    return (work.landing_urls ?? []).flatMap((u) => {
      const url = httpUrl(u);
      return url ? [{ url, kind: "landing" as const, provenance: {} }] : [];
    });
  },
};

export type FoundBy = "citation_pdf_url" | "link_alternate" | "anchor";

export interface ScrapedLink {
  url: string;
  found_by: FoundBy;
}

const RANK: Record<FoundBy, number> = { citation_pdf_url: 0, link_alternate: 1, anchor: 2 };

/** Resolve an href against a base; only http(s) results count (no javascript:, mailto:, data:). */
function resolveHref(href: string, base: string): string | undefined {
  try {
    const u = new URL(href.trim(), base);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    u.hash = "";
    return u.toString();
  } catch {
    return undefined;
  }
}

function anchorLooksPdf(href: string, label: string): boolean {
  let path = href;
  try {
    path = new URL(href, "http://x.invalid/").pathname;
  } catch {}
  return /\.pdf$/i.test(path) || /\bpdf\b/i.test(label);
}

/**
 * PDF links on an HTML page, best first, deduplicated, at most `maxLinks`. The page URL must be
 * the final URL after redirects; a `<base href>` (the first one, as browsers do) overrides it.
 */
export async function scrapeLandingPage(html: string, pageUrl: string, maxLinks = 4): Promise<ScrapedLink[]> {
  let baseHref: string | undefined;
  const raw: { href: string; found_by: FoundBy; order: number }[] = [];
  let order = 0;
  let anchor: { href: string; label: string } | undefined;
  const rewriter = new HTMLRewriter()
    .on("base[href]", {
      element(el) {
        baseHref ??= el.getAttribute("href") ?? undefined;
      },
    })
    .on("meta", {
      element(el) {
        const name = el.getAttribute("name")?.toLowerCase();
        const content = el.getAttribute("content");
        if (name === "citation_pdf_url" && content)
          raw.push({ href: content, found_by: "citation_pdf_url", order: order++ });
      },
    })
    .on("link", {
      element(el) {
        const rel = (el.getAttribute("rel") ?? "").toLowerCase().split(/\s+/);
        const type = (el.getAttribute("type") ?? "").toLowerCase().trim();
        const href = el.getAttribute("href");
        if (href && rel.includes("alternate") && type === "application/pdf")
          raw.push({ href, found_by: "link_alternate", order: order++ });
      },
    })
    .on("a[href]", {
      element(el) {
        const current = { href: el.getAttribute("href") ?? "", label: el.getAttribute("title") ?? "" };
        anchor = current;
        el.onEndTag(() => {
          if (anchorLooksPdf(current.href, current.label))
            raw.push({ href: current.href, found_by: "anchor", order: order++ });
          if (anchor === current) anchor = undefined;
        });
      },
      text(chunk) {
        if (anchor && anchor.label.length < 200) anchor.label += chunk.text;
      },
    });
  await rewriter.transform(new Response(html)).arrayBuffer();
  const base = (baseHref && resolveHref(baseHref, pageUrl)) || pageUrl;
  const seen = new Set<string>();
  const out: ScrapedLink[] = [];
  for (const link of raw.sort((a, b) => RANK[a.found_by] - RANK[b.found_by] || a.order - b.order)) {
    const url = resolveHref(link.href, base);
    if (!url || seen.has(url) || url === pageUrl) continue;
    seen.add(url);
    out.push({ url, found_by: link.found_by });
    if (out.length >= maxLinks) break;
  }
  return out;
}
