// The status page in headless Chromium, driven by playwright-core under Node (run by
// browser.test.ts, which serves the state and passes the URL and token). Exits 0 when every step
// held; otherwise prints the failed step and exits 1. Console errors of any kind fail the run.
//
//   node test/status/browser.node.mjs http://127.0.0.1:PORT/ TOKEN
import { chromium } from "playwright-core";

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  process.stderr.write("usage: node browser.node.mjs URL TOKEN\n");
  process.exit(2);
}

const STEP_MS = 10_000;
const problems = [];
let step = "launch";

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--no-first-run"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const requests = [];
  const text = async (selector) => (await page.locator(selector).textContent()) ?? "";
  page.on("request", (r) => requests.push(r.url()));

  step = "load the front page: counts, failures by reason with example jobs, yield";
  await page.goto(url);
  await page.waitForSelector('#cards [data-state="error"]');
  await page.waitForSelector("#failures tbody tr");
  const failures = await text("#failures");
  for (const reason of ["http_500", "not_found", "http_404", "robots_disallowed"])
    check(failures.includes(reason), `failures by reason lack ${reason}: ${failures}`);
  check((await text("#cards [data-state=error]")) === "5", "the error card does not say 5");
  await page.waitForSelector("#yield table");
  check((await text("#yield")).includes("unpaywall"), "yield lacks the unpaywall resolver");

  step = "filter to failures";
  await page.click('nav.tabs a[data-view="failures"]');
  await page.waitForSelector("#jobs tbody tr td a");
  const states = await page.locator("#jobs tbody tr td:nth-child(3)").allInnerTexts();
  check(states.length === 5 && states.every((s) => s === "error"), `failure list shows ${states.join(",")}`);

  step = "narrow by reason with the filter form; the filter survives a reload";
  await page.fill("#f-reason", "http_404");
  await page.click('#filters button[type="submit"]');
  await page.waitForFunction(() => location.hash.includes("reason=http_404"));
  await page.waitForFunction(() => document.querySelectorAll("#jobs tbody tr").length === 1);
  await page.reload();
  await page.waitForSelector("#jobs tbody tr td a");
  check((await page.inputValue("#f-reason")) === "http_404", "the reason filter was lost on reload");
  check((await page.inputValue("#f-state")) === "error", "the state filter was lost on reload");
  const reasons = await page.locator("#jobs tbody tr td:nth-child(4)").allInnerTexts();
  check(
    reasons.length === 1 && reasons[0] === "http_404",
    `after reload the list shows ${reasons.join(",")}`,
  );

  step = "open the failed job: its attempts, outcome and progress through the tiers";
  await page.click("#jobs tbody tr td a");
  await page.waitForSelector("#job-attempts tbody tr");
  const attempts = await text("#job-attempts");
  for (const text of ["crossref", "404", "http_404", "unpaywall"])
    check(attempts.includes(text), `the job's attempts lack ${text}: ${attempts}`);
  const outcome = await text("#job-outcome");
  check(outcome.includes("http_404"), `the outcome lacks its reason: ${outcome}`);
  const progress = await text("#job-progress");
  check(
    progress.includes("crossref") && progress.includes("settled"),
    `progress lacks the resolvers: ${progress}`,
  );
  check(!(await page.content()).includes("SECRETKEY"), "a URL secret reached the page");

  step = "search by DOI";
  await page.fill("#q", "https://doi.org/10.1000/3");
  await page.press("#q", "Enter");
  await page.waitForSelector("#search-results tbody tr td a");
  check((await text("#search-results")).includes("doi:10.1000/3"), "search missed the DOI");

  step = "enter the token and pause the queue";
  await page.goto(`${url}#`);
  await page.waitForSelector("#failures tbody tr");
  check(await page.locator("#pause").isHidden(), "controls are shown before the token was given");
  await page.click("#lock");
  await page.fill("#token", token);
  await page.press("#token", "Enter");
  await page.waitForSelector("#pause", { state: "visible" });
  await page.click("#pause");
  await page.waitForSelector("#paused", { state: "visible" });
  await page.waitForSelector("#resume", { state: "visible" });
  const stats = await page.evaluate(async () => (await fetch("/api/stats")).json());
  check(stats.paused === true, "the queue is not paused after the pause button");
  const kept = await page.evaluate(() => ({
    session: sessionStorage.getItem("docstokg.status.token"),
    local: localStorage.length,
    cookie: document.cookie,
    href: location.href,
  }));
  check(kept.session === token, "the token is not kept in sessionStorage");
  check(
    kept.local === 0 && kept.cookie === "" && !kept.href.includes(token),
    "the token leaked out of the tab",
  );

  step = "retry the failures of one reason";
  await page.click('#failures button[data-retry="http_500"]');
  await page.waitForFunction(() => document.querySelector("#notice")?.textContent?.includes("queued again"));
  await page.waitForFunction(
    () => document.querySelector('#cards [data-state="error"]')?.textContent === "3",
  );

  step = "readable on a phone: nothing wider than the screen";
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(100);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `the page is ${overflow}px wider than a phone screen`);

  step = "only its own origin was asked for anything";
  const origin = new URL(url).origin;
  const foreign = requests.filter((r) => !r.startsWith(origin) && !r.startsWith("data:"));
  check(foreign.length === 0, `requests outside the origin: ${foreign.join(", ")}`);

  step = "no console errors";
  check(problems.length === 0, problems.join("\n"));
  process.stdout.write("browser: all steps passed\n");
} catch (err) {
  process.stderr.write(`browser: step "${step}" failed: ${err instanceof Error ? err.message : err}\n`);
  if (problems.length) process.stderr.write(`${problems.join("\n")}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
