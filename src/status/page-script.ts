// The status page's script, run in the browser: it reads the JSON API and renders the overview
// (counts, throughput, failures by reason, yield, runners, hosts), the job browser and a job's page,
// and the controls once the tab holds the token. It is one self-contained function, embedded as
// source and allowed by the page's CSP through its hash; it builds DOM nodes, never HTML strings.

/* The browser entry point: everything it needs is declared inside (its source is all that ships). */
export function statusPageMain(): void {
  type Json = Record<string, unknown>;
  type Child = Node | string | null | undefined | false;
  const body = document.body;
  const REFRESH_MS = Math.max(1, Number(body.dataset.refresh ?? "5")) * 1000;
  const CONTROLS = body.dataset.controls === "1";
  const TOKEN_KEY = "docstokg.status.token";
  const SCROLL_KEY = "docstokg.status.scroll";
  const STATES = ["queued", "in_progress", "done", "skipped", "error"];
  const SVG = "http://www.w3.org/2000/svg";

  function el(id: string): HTMLElement {
    const found = document.getElementById(id);
    if (!found) throw new Error(`the page lacks #${id}`);
    return found;
  }

  function h(tag: string, attrs: Record<string, string> | null, ...children: Child[]): HTMLElement {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) node.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
    return node;
  }

  function s(tag: string, attrs: Record<string, string | number>, ...children: Node[]): SVGElement {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    node.append(...children);
    return node;
  }

  function fill(id: string, ...children: Child[]): void {
    const target = el(id);
    target.replaceChildren();
    for (const c of children) if (c !== null && c !== undefined && c !== false) target.append(c);
  }

  const num = (n: unknown) => (typeof n === "number" ? n.toLocaleString("en-US") : "–");
  const str = (x: unknown) => (x === null || x === undefined || x === "" ? "–" : String(x));

  function bytes(n: unknown): string {
    if (typeof n !== "number") return "–";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let v = n;
    let u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u++;
    }
    return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
  }

  function duration(ms: unknown): string {
    if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const sec = ms / 1000;
    if (sec < 60) return `${sec.toFixed(1)} s`;
    if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
    if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.round((sec % 3600) / 60)} min`;
    return `${Math.floor(sec / 86400)} d ${Math.round((sec % 86400) / 3600)} h`;
  }

  function time(ms: unknown): string {
    return typeof ms === "number" && ms > 0 ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) : "–";
  }

  function pct(x: unknown): string {
    return typeof x === "number" ? `${(100 * x).toFixed(1)}%` : "–";
  }

  // ---- the token: kept for this tab only (sessionStorage), sent as a bearer token -----------------
  function token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  // A plain object type, not a class: the function's source must not need any helper around it.
  type ApiError = Error & { status: number };
  function apiError(status: number, message: string): ApiError {
    return Object.assign(new Error(message), { status });
  }

  async function api(path: string, init: RequestInit = {}): Promise<Json> {
    const headers = new Headers(init.headers);
    const t = token();
    if (t) headers.set("Authorization", `Bearer ${t}`);
    if (init.body) headers.set("Content-Type", "application/json");
    const res = await fetch(path, { ...init, headers, cache: "no-store" });
    const data = (await res.json().catch(() => ({}))) as Json;
    if (!res.ok) throw apiError(res.status, str(data.message ?? `HTTP ${res.status}`));
    return data;
  }

  function notice(text: string, kind: "ok" | "error" = "ok"): void {
    const n = el("notice");
    n.textContent = text;
    n.className = text ? kind : "";
  }

  // ---- where the reader is: all of it in the URL hash, so a reload keeps it ------------------------
  function route(): URLSearchParams {
    return new URLSearchParams(location.hash.replace(/^#/, ""));
  }

  function link(params: Record<string, string>, text: string): HTMLElement {
    return h("a", { href: `#${new URLSearchParams(params).toString()}` }, text);
  }

  const jobLink = (id: unknown, text?: string) => link({ job: String(id) }, text ?? `#${id}`);

  // ---- overview -----------------------------------------------------------------------------------
  function renderStats(st: Json): void {
    const counts = (st.counts ?? {}) as Record<string, number>;
    const total = STATES.reduce((n, k) => n + (counts[k] ?? 0), 0);
    const finished = (counts.done ?? 0) + (counts.skipped ?? 0) + (counts.error ?? 0);
    fill(
      "cards",
      ...STATES.map((k) =>
        h(
          "a",
          { class: `card ${k}`, href: `#${new URLSearchParams({ view: "jobs", state: k })}` },
          h("div", { class: "label" }, k.replace("_", " ")),
          h("div", { class: "value", "data-state": k }, num(counts[k] ?? 0)),
        ),
      ),
    );
    const bar = el("bar");
    bar.replaceChildren();
    for (const k of STATES) {
      if (!(counts[k] ?? 0)) continue;
      const part = h("span", { class: k, title: `${k}: ${num(counts[k])}` });
      // CSSOM, not a style attribute: the CSP allows no inline style attributes.
      part.style.width = `${((100 * (counts[k] ?? 0)) / Math.max(1, total)).toFixed(3)}%`;
      bar.append(part);
    }
    const recent = st.recent as Json | null;
    const rate = recent && typeof recent.jobs_per_s === "number" ? recent.jobs_per_s : null;
    const eta = rate && rate > 0 ? ((total - finished) / rate) * 1000 : null;
    const extra = [
      `ready ${num(st.ready)}`,
      `delayed ${num(st.delayed)}`,
      st.oldestReadyAgeMs != null ? `oldest ready ${duration(st.oldestReadyAgeMs)}` : "",
    ].filter(Boolean);
    fill(
      "summary",
      h("b", null, num(finished)),
      ` of ${num(total)} finished (${total ? ((100 * finished) / total).toFixed(1) : "0.0"}%) · `,
      rate === null ? "rate –" : `${rate.toFixed(2)} jobs/s`,
      recent ? ` · ${bytes(recent.bytes_per_s)}/s` : "",
      ` · ETA ${eta === null ? "–" : duration(eta)} · ${extra.join(" · ")}`,
    );
    const paused = st.paused === true;
    el("paused").hidden = !paused;
    body.dataset.paused = paused ? "1" : "0";
    const pause = document.getElementById("pause");
    const resume = document.getElementById("resume");
    if (pause) pause.hidden = paused;
    if (resume) resume.hidden = !paused;
    document.title = `docstokg · ${num(finished)}/${num(total)}${paused ? " · paused" : ""}`;
  }

  function renderChart(series: Json[]): void {
    const W = 1140;
    const H = 160;
    const pad = { l: 48, r: 8, t: 10, b: 20 };
    const w = W - pad.l - pad.r;
    const hh = H - pad.t - pad.b;
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "jobs finished per second" });
    if (series.length < 2) {
      svg.append(
        s(
          "text",
          { x: W / 2, y: H / 2, "text-anchor": "middle", class: "muted" },
          text("collecting samples…"),
        ),
      );
      fill("chart", svg);
      return;
    }
    const t0 = Number(series[0]?.t);
    const t1 = Number(series[series.length - 1]?.t);
    const top = Math.max(0.001, ...series.map((p) => Number(p.jobsPerSec))) * 1.1;
    const x = (t: number) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * w;
    const y = (v: number) => pad.t + hh - (v / top) * hh;
    const pts = series
      .map((p) => `${x(Number(p.t)).toFixed(1)},${y(Number(p.jobsPerSec)).toFixed(1)}`)
      .join(" ");
    for (const f of [0, 0.5, 1]) {
      const gy = (pad.t + hh - f * hh).toFixed(1);
      svg.append(s("line", { x1: pad.l, x2: pad.l + w, y1: gy, y2: gy, class: "grid" }));
      svg.append(
        s(
          "text",
          { x: pad.l - 6, y: gy, dy: 4, "text-anchor": "end", class: "muted" },
          text((top * f).toFixed(2)),
        ),
      );
    }
    svg.append(
      s("polygon", {
        points: `${pad.l},${pad.t + hh} ${pts} ${x(t1).toFixed(1)},${pad.t + hh}`,
        class: "area",
      }),
    );
    svg.append(s("polyline", { points: pts, class: "line" }));
    svg.append(s("text", { x: pad.l, y: H - 4, class: "muted" }, text(`−${duration(t1 - t0)}`)));
    svg.append(s("text", { x: pad.l + w, y: H - 4, "text-anchor": "end", class: "muted" }, text("now")));
    fill("chart", svg);
  }

  function text(t: string): Text {
    return document.createTextNode(t);
  }

  function table(head: string[], rows: Child[][], empty: string, numeric: number[] = []): HTMLElement {
    const th = head.map((c, i) => h("th", numeric.includes(i) ? { class: "n" } : null, c));
    const tr = rows.map((r) =>
      h("tr", null, ...r.map((c, i) => h("td", numeric.includes(i) ? { class: "n" } : null, c))),
    );
    if (tr.length === 0)
      tr.push(h("tr", null, h("td", { colspan: String(head.length), class: "muted" }, empty)));
    return h(
      "div",
      { class: "scroll" },
      h("table", null, h("thead", null, h("tr", null, ...th)), h("tbody", null, ...tr)),
    );
  }

  function renderSummary(sum: Json): void {
    const failures = (sum.failures ?? []) as Json[];
    const controls = CONTROLS && token() !== null;
    const rows = failures.map((g) => {
      const reason = g.reason === null ? "" : String(g.reason);
      const examples = ((g.examples ?? []) as Json[]).map((e) => jobLink(e.id, String(e.artifactId)));
      const spaced: Child[] = [];
      for (const [i, e] of examples.entries()) spaced.push(i ? ", " : "", e);
      const retry =
        controls && g.state === "error" && reason
          ? h("button", { type: "button", class: "small", "data-retry": reason }, "retry")
          : "";
      return [
        h("span", { class: `pill ${String(g.state)}` }, String(g.state)),
        link({ view: "jobs", state: String(g.state), reason }, reason || "(none)"),
        num(g.count),
        h("span", { class: "examples" }, ...spaced),
        retry,
      ];
    });
    fill(
      "failures",
      table(["state", "reason", "jobs", "examples", ""], rows, "no failed or skipped jobs", [2]),
    );
    const y = sum.yield as Json | null;
    if (!y) {
      fill("yield", h("p", { class: "muted" }, "not available"));
      return;
    }
    const byResolver = ((y.by_resolver ?? []) as Json[]).map((r) => [
      str(r.resolver),
      num(r.attempts),
      num(r.obtained),
      pct(r.share),
    ]);
    const byTier = ((y.by_tier ?? []) as Json[]).map((r) => [str(r.tier), num(r.obtained), pct(r.share)]);
    fill(
      "yield",
      h(
        "p",
        null,
        `${num(y.obtained)} obtained of ${num(y.finished)} finished (${pct(y.ratio)}) · counted ${time(sum.computed_at)} in ${duration(sum.took_ms)}`,
      ),
      h(
        "div",
        { class: "two" },
        table(["resolver", "tries", "obtained", "share"], byResolver, "no downloads yet", [1, 2, 3]),
        table(["tier", "obtained", "share"], byTier, "no downloads yet", [1, 2]),
      ),
    );
  }

  function renderRunners(data: Json): void {
    const rows = ((data.runners ?? []) as Json[]).map((r) => [
      h("span", { class: "mono" }, str(r.id)),
      str(r.host),
      num(r.pid),
      str(r.version),
      time(r.started_at),
      `${duration(r.heartbeat_age_ms)} ago`,
      num(r.in_flight),
      h("span", { class: r.gone ? "pill error" : "pill done" }, r.gone ? "gone" : "alive"),
    ]);
    fill(
      "runners",
      table(
        ["runner", "machine", "pid", "version", "started", "heartbeat", "in flight", ""],
        rows,
        "no runner registered",
        [2, 6],
      ),
    );
  }

  function renderHosts(data: Json, now: number): void {
    const list = (data.hosts ?? []) as Json[];
    const rows = list.map((hst) => {
      const limits = (hst.limits ?? {}) as Json;
      const rates = (limits.rates ?? {}) as Json;
      const breaker = (hst.breaker ?? {}) as Json;
      const cool = Number(hst.cooldownUntil) > now ? `${duration(Number(hst.cooldownUntil) - now)}` : "–";
      const state = str(breaker.state);
      const why = breaker.reason ? ` · ${String(breaker.reason)}` : "";
      const fails = Number(breaker.failures) > 0 ? ` (${num(breaker.failures)})` : "";
      return [
        h("span", { class: "mono" }, str(hst.host)),
        num(hst.inFlightAll),
        num(hst.waiting),
        `${str(rates.artifact)} files, ${str(rates.metadata)} api, ${str(limits.maxConcurrent)} conn`,
        cool,
        h("span", { class: `pill b-${state}` }, `${state.replace("_", "-")}${fails}${why}`),
        num(hst.count429),
      ];
    });
    const more =
      typeof data.total === "number" && data.total > list.length
        ? ` (busiest ${list.length} of ${num(data.total)})`
        : "";
    el("hosts-title").textContent = `Hosts${more}`;
    fill(
      "hosts",
      table(
        ["host", "in flight", "waiting", "limits", "cooling down", "breaker", "429s"],
        rows,
        "no hosts contacted yet",
        [1, 2, 6],
      ),
    );
  }

  // ---- jobs ---------------------------------------------------------------------------------------
  function jobRows(jobs: Json[]): Child[][] {
    return jobs.map((j) => [
      jobLink(j.id),
      h("span", { class: "mono" }, str(j.artifactId)),
      h("span", { class: `pill ${String(j.state)}` }, str(j.state)),
      str(j.lastReason),
      num(j.attempts),
      time(j.updatedAt),
    ]);
  }

  async function renderJobs(r: URLSearchParams): Promise<void> {
    const state = r.get("state") ?? "";
    const reason = r.get("reason") ?? "";
    const after = r.get("after") ?? "";
    (el("f-state") as HTMLSelectElement).value = state;
    const reasonInput = el("f-reason") as HTMLInputElement;
    if (document.activeElement !== reasonInput) reasonInput.value = reason;
    const q = new URLSearchParams({ limit: "50" });
    if (state) q.set("state", state);
    if (reason) q.set("reason", reason);
    if (after) q.set("after", after);
    const page = await api(`/api/jobs?${q}`);
    const jobs = (page.jobs ?? []) as Json[];
    const base: Record<string, string> = { view: "jobs" };
    if (state) base.state = state;
    if (reason) base.reason = reason;
    const next = page.nextCursor ? link({ ...base, after: String(page.nextCursor) }, "older →") : "";
    const first = after ? link(base, "← newest") : "";
    fill(
      "jobs",
      table(["job", "artifact", "state", "reason", "tries", "updated"], jobRows(jobs), "no jobs match", [4]),
      h("nav", { class: "pager" }, first, " ", next),
    );
  }

  async function renderSearch(q: string): Promise<void> {
    (el("q") as HTMLInputElement).value = q;
    const found = await api(`/api/search?${new URLSearchParams({ q })}`);
    const jobs = (found.jobs ?? []) as Json[];
    fill(
      "search-results",
      h("h2", null, `Search: ${q}`),
      table(
        ["job", "artifact", "state", "reason", "tries", "updated"],
        jobRows(jobs),
        "no job has this artifact id, DOI or job id",
        [4],
      ),
    );
  }

  // ---- one job ------------------------------------------------------------------------------------
  function kv(pairs: [string, Child][]): HTMLElement {
    return h("dl", { class: "kv" }, ...pairs.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
  }

  function renderProgress(progress: unknown): HTMLElement {
    const p = progress as Json | null;
    if (!p || typeof p !== "object")
      return h("p", { class: "muted" }, "no saved progress (not started, finished, or requeued)");
    const resolvers = Object.entries((p.resolvers ?? {}) as Record<string, Json>).map(([name, rec]) => [
      name,
      str(rec.state),
      str(rec.reason),
      num(rec.found),
      str(rec.note),
    ]);
    const candidates = ((p.candidates ?? []) as Json[])
      .slice()
      .sort((a, b) => Number(a.tier ?? 99) - Number(b.tier ?? 99))
      .map((c) => [
        str(c.tier),
        str(c.resolver),
        str(c.kind),
        h("span", { class: "url" }, str(c.url)),
        h("span", { class: `pill c-${String(c.state)}` }, str(c.state)),
        str(c.reason),
        h("span", { class: "mono small" }, c.provenance ? JSON.stringify(c.provenance) : "–"),
      ]);
    return h(
      "div",
      null,
      h("h3", null, "Resolvers asked"),
      table(["resolver", "state", "reason", "found", "note"], resolvers, "none asked yet", [3]),
      h("h3", null, "Candidates by tier"),
      table(
        ["tier", "resolver", "kind", "url", "state", "reason", "provenance"],
        candidates,
        "no candidates yet",
      ),
    );
  }

  async function renderJob(id: string): Promise<void> {
    const d = await api(`/api/jobs/${encodeURIComponent(id)}`);
    const job = d.job as Json;
    const attempts = (d.attempts ?? []) as Json[];
    const outcomes = (d.outcomes ?? []) as Json[];
    const artifact = (job.artifact ?? {}) as Json;
    const controls = CONTROLS && token() !== null && job.state !== "in_progress";
    fill(
      "job-head",
      h(
        "h2",
        null,
        `Job #${str(job.id)} `,
        h("span", { class: `pill ${String(job.state)}` }, str(job.state)),
      ),
      controls
        ? h("button", { type: "button", id: "requeue", "data-job": String(job.id) }, "requeue this job")
        : "",
      kv([
        ["artifact id", h("span", { class: "mono" }, str(job.artifactId))],
        ["DOI", str(artifact.doi)],
        ["title", str(artifact.title)],
        ["tries", `${num(job.attempts)}${job.maxAttempts ? ` of ${num(job.maxAttempts)}` : ""}`],
        ["last reason", str(job.lastReason)],
        ["last error", str(job.lastError)],
        ["available at", time(job.availableAt)],
        ["lease", job.leaseOwner ? `${str(job.leaseOwner)} until ${time(job.leaseExpiresAt)}` : "–"],
        ["first try", time(job.firstAttemptAt)],
        ["created / updated", `${time(job.createdAt)} / ${time(job.updatedAt)}`],
      ]),
    );
    fill(
      "job-attempts",
      table(
        ["time", "tier", "resolver", "role", "url", "status", "reason", "bytes", "duration", "rate wait"],
        attempts.map((a) => [
          time(a.at),
          str(a.tier),
          str(a.resolver),
          str(a.role),
          h("span", { class: "url" }, str(a.url)),
          str(a.httpStatus),
          str(a.reason),
          bytes(a.bytes),
          duration(a.elapsedMs),
          duration(a.rateWaitMs),
        ]),
        "no attempts recorded",
        [7, 8, 9],
      ),
    );
    const candidates = (((job.progress as Json | null)?.candidates ?? []) as Json[]) || [];
    const known = new Set([
      "seq",
      "jobId",
      "artifactId",
      "state",
      "reason",
      "sha256",
      "bytes",
      "path",
      "url",
      "finalUrl",
    ]);
    fill(
      "job-outcome",
      ...(outcomes.length === 0
        ? [h("p", { class: "muted" }, "not finished yet")]
        : outcomes.map((o) => {
            const prov = candidates.find((c) => c.url === o.url)?.provenance;
            const rest = Object.entries(o)
              .filter(([k, v]) => !known.has(k) && v !== null && v !== undefined)
              .map(([k, v]): [string, Child] => [
                k,
                /At$/.test(k) ? time(v) : str(typeof v === "object" ? JSON.stringify(v) : v),
              ]);
            return kv([
              ["state", h("span", { class: `pill ${String(o.state)}` }, str(o.state))],
              ["reason", str(o.reason)],
              ["sha256", h("span", { class: "mono" }, str(o.sha256))],
              ["size", bytes(o.bytes)],
              ["path", h("span", { class: "mono" }, str(o.path))],
              ["url", h("span", { class: "url" }, str(o.url))],
              ["final url", h("span", { class: "url" }, str(o.finalUrl))],
              ["provenance", prov ? h("span", { class: "mono" }, JSON.stringify(prov)) : "–"],
              ...rest,
            ]);
          })),
    );
    fill("job-progress", renderProgress(job.progress));
  }

  // ---- the refresh loop ---------------------------------------------------------------------------
  let busy = false;
  let restored = false;

  async function refresh(): Promise<void> {
    if (busy) return;
    busy = true;
    const r = route();
    const job = r.get("job");
    const q = r.get("q");
    const view = job ? "job" : q ? "search" : r.get("view") === "jobs" ? "jobs" : "overview";
    body.dataset.view = view;
    for (const v of ["overview", "jobs", "job", "search"]) el(`view-${v}`).hidden = v !== view;
    const tab = view === "jobs" && r.get("state") === "error" && !r.get("reason") ? "failures" : view;
    document.querySelectorAll("nav.tabs a").forEach((a) => {
      a.classList.toggle("on", a.getAttribute("data-view") === tab);
    });
    try {
      const stats = await api("/api/stats");
      renderStats(stats);
      el("mode").textContent =
        `${body.dataset.mode ?? ""}${CONTROLS ? (token() ? " · controls unlocked" : " · controls locked") : ""}`;
      if (view === "overview") {
        const [sum, series, runners, hosts] = await Promise.all([
          api("/api/summary"),
          api("/api/throughput"),
          api("/api/runners"),
          api("/api/hosts?limit=50"),
        ]);
        renderSummary(sum);
        renderChart((series.series ?? []) as Json[]);
        renderRunners(runners);
        renderHosts(hosts, Date.now());
      } else if (view === "jobs") await renderJobs(r);
      else if (view === "job") await renderJob(job ?? "");
      else await renderSearch(q ?? "");
      el("updated").textContent =
        `updated ${new Date().toISOString().slice(11, 19)} UTC · every ${REFRESH_MS / 1000}s`;
      if (el("notice").className === "error") notice("");
    } catch (err) {
      const e = err as ApiError;
      notice(
        e.status === 401 ? `${e.message} — enter the token above` : `cannot refresh: ${e.message}`,
        "error",
      );
      if (e.status === 401) el("token-form").hidden = false;
    } finally {
      busy = false;
    }
    if (!restored) {
      // After a reload: back to where the reader was once the content is there again.
      restored = true;
      const saved = JSON.parse(sessionStorage.getItem(SCROLL_KEY) ?? "null") as {
        hash: string;
        y: number;
      } | null;
      if (saved && saved.hash === location.hash) window.scrollTo(0, saved.y);
    }
  }

  // ---- controls -----------------------------------------------------------------------------------
  async function control(path: string, bodyJson: Json | null, done: (r: Json) => string): Promise<void> {
    try {
      const r = await api(path, { method: "POST", body: bodyJson ? JSON.stringify(bodyJson) : null });
      notice(done(r));
    } catch (err) {
      const e = err as ApiError;
      if (e.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        updateLock();
      }
      notice(`${path}: ${e.message}`, "error");
    }
    await refresh();
  }

  function updateLock(): void {
    const unlocked = token() !== null;
    el("lock").textContent = unlocked ? "forget token" : "enter token";
    el("control-buttons").hidden = !(CONTROLS && unlocked);
  }

  el("lock").addEventListener("click", () => {
    if (token() !== null) {
      sessionStorage.removeItem(TOKEN_KEY);
      updateLock();
      void refresh();
      return;
    }
    const form = el("token-form");
    form.hidden = !form.hidden;
    if (!form.hidden) (el("token") as HTMLInputElement).focus();
  });

  el("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = el("token") as HTMLInputElement;
    const value = input.value.trim();
    input.value = "";
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    el("token-form").hidden = true;
    updateLock();
    void refresh();
  });

  document.addEventListener("click", (ev) => {
    const target = ev.target as HTMLElement;
    if (target.id === "pause")
      void control("/api/pause", null, () => "queue paused: runners lease nothing new");
    else if (target.id === "resume") void control("/api/resume", null, () => "queue resumed");
    else if (target.id === "retry-all") {
      if (confirm("Move every failed job back to the queue?"))
        void control(
          "/api/retry-failed",
          { all: true },
          (r) => `${num(r.requeued)} failed job(s) queued again`,
        );
    } else if (target.dataset.retry) {
      const reason = target.dataset.retry;
      void control(
        "/api/retry-failed",
        { reason },
        (r) => `${num(r.requeued)} job(s) failed with ${reason} queued again`,
      );
    } else if (target.id === "requeue" && target.dataset.job) {
      void control(
        `/api/jobs/${encodeURIComponent(target.dataset.job)}/requeue`,
        null,
        () => "job queued again",
      );
    }
  });

  el("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = (el("q") as HTMLInputElement).value.trim();
    if (q) location.hash = new URLSearchParams({ q }).toString();
  });

  el("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams({ view: "jobs" });
    const state = (el("f-state") as HTMLSelectElement).value;
    const reason = (el("f-reason") as HTMLInputElement).value.trim();
    if (state) p.set("state", state);
    if (reason) p.set("reason", reason);
    location.hash = p.toString();
  });
  el("f-state").addEventListener("change", () =>
    el("filters").dispatchEvent(new Event("submit", { cancelable: true })),
  );

  window.addEventListener("hashchange", () => {
    window.scrollTo(0, 0);
    void refresh();
  });
  let scrollTimer = 0;
  window.addEventListener("scroll", () => {
    clearTimeout(scrollTimer);
    scrollTimer = window.setTimeout(() => {
      sessionStorage.setItem(SCROLL_KEY, JSON.stringify({ hash: location.hash, y: window.scrollY }));
    }, 100);
  });

  updateLock();
  void refresh();
  setInterval(() => {
    if (!document.hidden) void refresh();
  }, REFRESH_MS);
}
