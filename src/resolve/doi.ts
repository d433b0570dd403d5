// `doi`: the DOI resolver's redirect target is the publisher's landing page. The plan fetches
// `<base>/<doi>` with role landing (redirects followed by the client) and scrapes the final page.
import type { StaticResolver } from "./resolver.ts";
import { identifierPath, trimSlash } from "./shape.ts";

export const doiResolver: StaticResolver = {
  name: "doi",
  kind: "static",
  seeds(work, settings) {
    const path = work.doi ? identifierPath(work.doi, "keep") : null;
    if (path === null) return [];
    return [
      {
        url: `${trimSlash(settings.resolvers.doi.base_url)}/${path}`,
        kind: "landing",
        provenance: {},
      },
    ];
  },
};
