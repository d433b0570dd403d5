// The provenance vocabulary the manifest speaks (SPEC 16): licence short names, version, host type
// and OA status, normalized from what each source says in its own words (Unpaywall's
// `acceptedVersion`, Crossref's `vor` and licence URLs, Semantic Scholar's `CCBY`, HAL's licence URLs…).
// Pure: every function answers undefined for a value it does not recognize rather than guessing.

export const VERSIONS = ["published", "accepted", "submitted"] as const;
export type Version = (typeof VERSIONS)[number];
export const HOST_TYPES = ["publisher", "repository"] as const;
export type HostType = (typeof HOST_TYPES)[number];
export const OA_STATUSES = ["gold", "green", "hybrid", "bronze", "diamond"] as const;
export type OaStatus = (typeof OA_STATUSES)[number];

const VERSION_WORDS: Record<string, Version> = {
  publishedversion: "published",
  published: "published",
  vor: "published",
  "version of record": "published",
  acceptedversion: "accepted",
  accepted: "accepted",
  am: "accepted",
  "author accepted manuscript": "accepted",
  postprint: "accepted",
  submittedversion: "submitted",
  submitted: "submitted",
  preprint: "submitted",
};

/** `publishedVersion`, `vor` → published; `acceptedVersion`, `am` → accepted; `submittedVersion`, `preprint` → submitted. */
export function normalizeVersion(value: unknown): Version | undefined {
  if (typeof value !== "string") return undefined;
  return VERSION_WORDS[value.trim().toLowerCase()];
}

export function normalizeHostType(value: unknown): HostType | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim().toLowerCase();
  return (HOST_TYPES as readonly string[]).includes(v) ? (v as HostType) : undefined;
}

/** gold, green, hybrid, bronze, diamond in any case; `closed` and anything else → undefined. */
export function normalizeOaStatus(value: unknown): OaStatus | undefined {
  if (typeof value !== "string") return undefined;
  const v = value.trim().toLowerCase();
  return (OA_STATUSES as readonly string[]).includes(v) ? (v as OaStatus) : undefined;
}

/** Creative Commons short name from a name or URL path: by, by-nc, by-nc-nd, … (undefined when not CC). */
function ccName(text: string): string | undefined {
  if (/(^|[^a-z])(cc[\s_-]*0|cc[\s_-]*zero|publicdomain\/zero)([^a-z]|$)/.test(text)) return "cc0";
  const m = /(?:^|[^a-z])(?:cc[\s_-]*|licenses\/)by((?:[\s_/-]*(?:nc|nd|sa))*)(?![a-z])/.exec(text);
  if (!m) return undefined;
  const parts = (m[1] ?? "").match(/nc|nd|sa/g) ?? [];
  return ["cc-by", ...parts].join("-");
}

/**
 * A licence as the manifest carries it: a lowercased short name (`cc-by`, `cc-by-nc-nd`, `cc0`,
 * `public-domain`, or the source's own term such as `publisher-specific-oa`) and, when the source
 * gave a URL, that URL. A URL that names no recognizable licence keeps only `license_url`.
 */
export function normalizeLicense(value: unknown): { license?: string; license_url?: string } {
  if (typeof value !== "string") return {};
  const raw = value.trim();
  if (raw === "") return {};
  const lower = raw.toLowerCase();
  if (/^https?:\/\//.test(lower)) {
    const cc = /creativecommons\.org\//.test(lower)
      ? ccName(lower.replace(/^https?:\/\/[^/]+\//, ""))
      : undefined;
    const pd = /creativecommons\.org\/publicdomain\/mark/.test(lower) ? "public-domain" : undefined;
    const name = cc ?? pd;
    return name ? { license: name, license_url: raw } : { license_url: raw };
  }
  const cc = ccName(lower);
  if (cc) return { license: cc };
  if (/^(pd|public[\s_-]*domain)$/.test(lower)) return { license: "public-domain" };
  // Anything else as given, lowercased (`publisher-specific-oa`, `publisher-specific, author manuscript`).
  return { license: lower.replace(/\s+/g, " ") };
}

/** The provenance keys the outcome, manifest and export carry (absent = no source said so). */
export interface ProvenanceFields {
  license?: string;
  license_url?: string;
  version?: Version;
  host_type?: HostType;
  oa_status?: OaStatus;
}

/** What a source said, in its own words. */
interface Said {
  license?: unknown;
  license_url?: unknown;
  version?: unknown;
  host_type?: unknown;
  oa_status?: unknown;
}

/** Normalized provenance from a source's own words; keys nobody gave stay absent. */
export function provenanceOf(said: Said): ProvenanceFields {
  return { ...normalizeLicense(said.license), ...normalizedTerms(said) };
}

/** Version, host type and OA status in their normalized words; keys nobody gave stay absent. */
function normalizedTerms(said: Said): ProvenanceFields {
  const out: ProvenanceFields = {};
  const version = normalizeVersion(said.version);
  if (version) out.version = version;
  const hostType = normalizeHostType(said.host_type);
  if (hostType) out.host_type = hostType;
  const oa = normalizeOaStatus(said.oa_status);
  if (oa) out.oa_status = oa;
  return out;
}

/** The outcome's provenance columns from a candidate's provenance record (values already normalized). */
export function outcomeProvenance(p: Said | undefined): ProvenanceFields {
  if (!p) return {};
  const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : undefined);
  const out: ProvenanceFields = {};
  const license = str(p.license);
  if (license) out.license = license;
  const url = str(p.license_url);
  if (url) out.license_url = url;
  return { ...out, ...normalizedTerms(p) };
}

/** The same fields as an outcome's detail (camelCase, null when no source said so). */
export function outcomeDetailProvenance(p: Said | undefined): {
  license: string | null;
  licenseUrl: string | null;
  version: string | null;
  hostType: string | null;
  oaStatus: string | null;
} {
  const f = outcomeProvenance(p);
  return {
    license: f.license ?? null,
    licenseUrl: f.license_url ?? null,
    version: f.version ?? null,
    hostType: f.host_type ?? null,
    oaStatus: f.oa_status ?? null,
  };
}
