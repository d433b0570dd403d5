// `figshare`: POST /articles/search with the JSON body {"search_for": ":doi: \"<doi>\"", …} (the
// one resolver whose query is a POST) → each article's `files[]` named *.pdf give `download_url`.
// Search answers are the light article representation, which may carry no files: the article's
// public page (`url_public_html`) is then a landing candidate, scraped for its citation_pdf_url.
import { provenanceOf } from "./provenance.ts";
import type { ApiResolver } from "./resolver.ts";
import { httpUrl, isObject, MalformedResponse, objects, text, trimSlash, uniqueSeeds } from "./shape.ts";
import type { CandidateSeed, ResolverMapping } from "./types.ts";

export const figshare: ApiResolver = {
  name: "figshare",
  kind: "api",
  request(work, settings) {
    if (!work.doi) return { skip: "no DOI" };
    const base = trimSlash(settings.resolvers.figshare.base_url);
    return {
      url: `${base}/articles/search`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ search_for: `:doi: "${work.doi}"`, page: 1, page_size: 3 }),
    };
  },
  map(body, work): ResolverMapping {
    if (!Array.isArray(body)) throw new MalformedResponse("expected the figshare answer to be a JSON array");
    const pdfs: CandidateSeed[] = [];
    const landings: CandidateSeed[] = [];
    for (const article of objects(body)) {
      const doi = text(article.doi)?.toLowerCase();
      if (doi && work.doi && doi !== work.doi.toLowerCase()) continue;
      const license = isObject(article.license) ? text(article.license.name) : undefined;
      const type = text(article.defined_type_name);
      const provenance = {
        ...provenanceOf({
          license,
          host_type: "repository",
          version: type === "preprint" ? "preprint" : undefined,
        }),
        source: "figshare",
      };
      let found = false;
      for (const file of objects(article.files)) {
        const name = text(file.name)?.toLowerCase() ?? "";
        if (file.is_link_only === true) continue;
        if (!name.endsWith(".pdf") && text(file.mimetype) !== "application/pdf") continue;
        const url = httpUrl(file.download_url);
        if (url) {
          pdfs.push({ url, kind: "pdf", provenance });
          found = true;
        }
      }
      const page = httpUrl(article.url_public_html);
      if (!found && page) landings.push({ url: page, kind: "landing", provenance });
    }
    const candidates = uniqueSeeds([...pdfs, ...landings]);
    return {
      candidates,
      derived: {},
      note: candidates.length ? undefined : body.length === 0 ? "not in figshare" : "no PDF file",
    };
  },
};
