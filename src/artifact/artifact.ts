// The Artifact, the unit of work (SPEC 2.1): its valibot input schema, normalization of every
// identifier and URL it carries, and derivation of its id (SPEC 2.3). Unknown top-level keys are
// moved into `meta` so nothing a caller sent is silently dropped.
import * as v from "valibot";
import { redactText, redactUrl } from "../core/redact.ts";
import {
  normalizeArxiv,
  normalizeDoi,
  normalizeOpenalex,
  normalizePmcid,
  normalizePmid,
} from "./identifiers.ts";
import { canonicalInputUrl, inputUrlProblem } from "./url.ts";

export interface Artifact {
  id: string;
  doi?: string;
  pmid?: string;
  pmcid?: string;
  arxiv?: string;
  openalex?: string;
  title?: string;
  year?: number;
  pdf_urls?: string[];
  landing_urls?: string[];
  priority?: number;
  meta?: Record<string, unknown>;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const idValue = v.union([v.string(), v.pipe(v.number(), v.integer())], "expected a string");
const urlList = v.array(v.string("expected a URL string"), "expected an array of URL strings");

/** The shape an artifact object must have before normalization. */
export const ArtifactInputSchema = v.looseObject({
  id: v.optional(v.pipe(v.string("expected a string"), v.trim(), v.minLength(1, "expected a non-empty id"))),
  doi: v.optional(v.nullable(v.string("expected a DOI string"))),
  pmid: v.optional(v.nullable(idValue)),
  pmcid: v.optional(v.nullable(idValue)),
  arxiv: v.optional(v.nullable(v.string("expected an arXiv id string"))),
  openalex: v.optional(v.nullable(v.string("expected an OpenAlex id string"))),
  title: v.optional(v.nullable(v.string("expected a string"))),
  year: v.optional(v.nullable(v.pipe(v.number("expected a year"), v.integer("expected a whole year")))),
  pdf_urls: v.optional(v.nullable(urlList)),
  landing_urls: v.optional(v.nullable(urlList)),
  priority: v.optional(v.pipe(v.number("expected a number"), v.finite("expected a finite number"))),
  meta: v.optional(v.record(v.string(), v.unknown(), "expected an object")),
});

const KNOWN_KEYS = new Set(Object.keys(ArtifactInputSchema.entries));

/** Canonical id of an artifact without one: doi > pmcid > pmid > arxiv > openalex > url. */
export function deriveArtifactId(a: Omit<Artifact, "id">): string | null {
  if (a.doi) return `doi:${a.doi}`;
  if (a.pmcid) return `pmcid:${a.pmcid}`;
  if (a.pmid) return `pmid:${a.pmid}`;
  if (a.arxiv) return `arxiv:${a.arxiv}`;
  if (a.openalex) return `openalex:${a.openalex}`;
  const url = a.pdf_urls?.[0] ?? a.landing_urls?.[0];
  // The id is shown and recorded everywhere; the URL itself is kept as given for fetching.
  return url ? `url:${redactUrl(url)}` : null;
}

function issueText(issues: v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  if (!issue) return "invalid artifact";
  const path = v.getDotPath(issue);
  return path ? `${path}: ${issue.message}` : issue.message;
}

function canonicalList(urls: string[] | null | undefined, field: string): Parsed<string[] | undefined> {
  if (!urls || urls.length === 0) return { ok: true, value: undefined };
  if (urls.length === 1) {
    const only = canonicalInputUrl(urls[0] as string);
    return only === null
      ? { ok: false, reason: `${field}[0]: ${inputUrlProblem(urls[0] as string)}` }
      : { ok: true, value: [only] };
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < urls.length; i++) {
    const canonical = canonicalInputUrl(urls[i] as string);
    if (canonical === null) {
      return {
        ok: false,
        reason: `${field}[${i}]: ${inputUrlProblem(urls[i] as string)}`,
      };
    }
    if (!seen.has(canonical)) {
      seen.add(canonical);
      out.push(canonical);
    }
  }
  return { ok: true, value: out };
}

type IdNormalizer = (raw: string) => string | null;

/** Set `key` as a plain data property, whatever its name (assignment to `__proto__` would not). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function normalizeField(
  raw: string | number | null | undefined,
  field: string,
  normalize: IdNormalizer,
  expected: string,
): Parsed<string | undefined> {
  if (raw === undefined || raw === null || raw === "") return { ok: true, value: undefined };
  const value = normalize(String(raw));
  return value === null
    ? { ok: false, reason: `${field}: expected ${expected}, got ${JSON.stringify(raw)}` }
    : { ok: true, value };
}

type ArtifactInput = v.InferOutput<typeof ArtifactInputSchema>;

const isOptionalString = (x: unknown) => x === undefined || x === null || typeof x === "string";
const isOptionalId = (x: unknown) => isOptionalString(x) || Number.isInteger(x);
const isOptionalUrls = (x: unknown) =>
  x === undefined || x === null || (Array.isArray(x) && x.every((u) => typeof u === "string"));

/**
 * The common, well-formed case checked by hand: bulk imports spend more time in a general schema
 * walk than in the database. It only ever accepts what ArtifactInputSchema accepts (tested);
 * anything else goes through the schema, which also words the error.
 */
function plainShape(input: unknown): ArtifactInput | null {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return null;
  const o = input as Record<string, unknown>;
  if (o.id !== undefined && (typeof o.id !== "string" || o.id.trim() === "")) return null;
  if (!isOptionalString(o.doi) || !isOptionalString(o.arxiv) || !isOptionalString(o.openalex)) return null;
  if (!isOptionalString(o.title) || !isOptionalId(o.pmid) || !isOptionalId(o.pmcid)) return null;
  if (o.year !== undefined && o.year !== null && !Number.isInteger(o.year)) return null;
  if (!isOptionalUrls(o.pdf_urls) || !isOptionalUrls(o.landing_urls)) return null;
  if (o.priority !== undefined && !Number.isFinite(o.priority)) return null;
  if (o.meta !== undefined && (o.meta === null || typeof o.meta !== "object" || Array.isArray(o.meta)))
    return null;
  return (typeof o.id === "string" ? { ...o, id: o.id.trim() } : o) as ArtifactInput;
}

/**
 * Validate and normalize an artifact object (already parsed from JSON). `viaSchema` forces the
 * general schema path (tests compare both paths).
 */
export function normalizeArtifact(input: unknown, options: { viaSchema?: boolean } = {}): Parsed<Artifact> {
  let raw = options.viaSchema ? null : plainShape(input);
  if (raw === null) {
    const parsed = v.safeParse(ArtifactInputSchema, input);
    if (!parsed.success) return { ok: false, reason: issueText(parsed.issues) };
    raw = parsed.output;
  }
  const out: Omit<Artifact, "id"> & { id?: string } = {};

  const fields: [keyof Artifact, string | number | null | undefined, IdNormalizer, string][] = [
    ["doi", raw.doi, normalizeDoi, "a DOI like 10.1234/abc"],
    ["pmcid", raw.pmcid, normalizePmcid, "a PMCID like PMC123456"],
    ["pmid", raw.pmid, normalizePmid, "a PMID (digits)"],
    ["arxiv", raw.arxiv, normalizeArxiv, "an arXiv id like 2101.00001 or hep-th/9901001"],
    ["openalex", raw.openalex, normalizeOpenalex, "an OpenAlex work id like W2741809807"],
  ];
  for (const [key, value, normalize, expected] of fields) {
    const r = normalizeField(value, key, normalize, expected);
    if (!r.ok) return r;
    if (r.value !== undefined) (out as Record<string, unknown>)[key] = r.value;
  }
  if (raw.title) out.title = raw.title;
  if (raw.year !== undefined && raw.year !== null) out.year = raw.year;
  const pdf = canonicalList(raw.pdf_urls, "pdf_urls");
  if (!pdf.ok) return pdf;
  if (pdf.value) out.pdf_urls = pdf.value;
  const landing = canonicalList(raw.landing_urls, "landing_urls");
  if (!landing.ok) return landing;
  if (landing.value) out.landing_urls = landing.value;
  if (raw.priority !== undefined) out.priority = raw.priority;

  // Keys are taken from the input as parsed (JSON.parse keeps `__proto__` as an own key; the schema
  // path would drop it) into a null-prototype object written with defineProperty, so keys named
  // like Object.prototype members (`__proto__`, `constructor`, `toString`) are kept as data.
  const source = input as Record<string, unknown>;
  let meta: Record<string, unknown> | undefined;
  const metaInput = Object.hasOwn(source, "meta") ? source.meta : undefined;
  if (metaInput !== undefined && metaInput !== null) {
    meta = Object.create(null) as Record<string, unknown>;
    for (const [key, value] of Object.entries(metaInput as object)) setOwn(meta, key, value);
  }
  for (const key of Object.keys(source)) {
    if (KNOWN_KEYS.has(key)) continue;
    meta ??= Object.create(null) as Record<string, unknown>;
    // An explicit meta entry wins over a stray top-level key of the same name.
    if (!Object.hasOwn(meta, key)) setOwn(meta, key, source[key]);
  }
  if (meta) out.meta = meta;

  const id = raw.id === undefined ? deriveArtifactId(out) : redactText(raw.id);
  if (id === null) {
    return {
      ok: false,
      reason: "no identifier: expected one of doi, pmcid, pmid, arxiv, openalex, pdf_urls, landing_urls",
    };
  }
  return { ok: true, value: { id, ...out } };
}
