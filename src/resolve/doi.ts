// `doi`: the DOI resolver's redirect target is the publisher's landing page. The plan fetches
// `<base>/<doi>` with role landing (redirects followed by the client) and scrapes the final page.
import type { StaticResolver } from "./resolver.ts";
import { doiPath, trimSlash } from "./shape.ts";

export const doiResolver: StaticResolver = {
  name: "doi",
  kind: "static",
  seeds(work, settings) {
    if (!work.doi) return [];
    return [
      {
        url: `${trimSlash(settings.resolvers.doi.base_url)}/${doiPath(work.doi)}`,
        kind: "landing",
        provenance: {},
      },
    ];
  },
};
