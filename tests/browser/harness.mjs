// The part every clerk's-page driver shares: launch Debian's Chromium (headless, through
// playwright-core; no browser download) at the clerk's window size, record every request, failed
// response, CSP refusal, page error and console error, run the scenario's steps, and print the
// observations as one JSON line on stdout for the Rust test to assert on.
//
// A driver only drives and observes; it exits non-zero when a step cannot be done (a wait times
// out, a request is refused), after saving a screenshot of the page as it was.

import { readFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const STEP_TIMEOUT = 15_000;

export function readPlan() {
  const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
  mkdirSync(plan.artifacts_dir, { recursive: true });
  return plan;
}

// The fonts Chromium drew the text inside `selector` with, and how many glyphs each
// (DevTools' CSS.getPlatformFontsForNode). Chinese drawn without a Chinese font comes out as
// boxes in whatever font lacks the glyphs, which a screenshot's size or a DOM text cannot tell.
export async function renderedFonts(page, selector) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send("DOM.enable");
    await cdp.send("CSS.enable");
    const { root } = await cdp.send("DOM.getDocument", { depth: -1 });
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector });
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    return fonts.map((f) => ({ family: f.familyName, glyphs: f.glyphCount }));
  } finally {
    await cdp.detach().catch(() => {});
  }
}

// Runs `steps(page, obs)`; `failureShot` is the screenshot's file name if a step fails, and
// `snapshot(page)` what to record of the page then.
export async function drive(plan, failureShot, snapshot, steps) {
  const obs = { requests: [], failed_responses: [], csp_violations: [], page_errors: [], console_errors: [], steps: {} };
  const profile = mkdtempSync(join(tmpdir(), "huren-chromium-"));
  let context;
  let page;
  let failed = false;
  const started = Date.now();
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: plan.chromium,
      headless: true,
      args: [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync",
      ],
      viewport: { width: 1366, height: 768 },
      // A plan may put the browser in another zone and locale (a clerk's PC set to them).
      locale: plan.locale ?? "zh-CN",
      timezoneId: plan.timezone_id ?? "Asia/Shanghai",
      timeout: 30_000,
    });
    context.setDefaultTimeout(STEP_TIMEOUT);
    context.on("request", (request) => obs.requests.push(request.url()));
    context.on("response", (response) => { if (response.status() >= 400) obs.failed_responses.push(`${response.status()} ${response.url()}`); });
    context.on("requestfailed", (request) => obs.failed_responses.push(`${request.failure()?.errorText} ${request.url()}`));
    // A request the page's CSP blocks never reaches the network, so record refusals too.
    await context.addInitScript(() => {
      window.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.blockedURI + " (" + e.violatedDirective + ")"));
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => obs.page_errors.push(String(error)));
    page.on("console", (message) => { if (message.type() === "error") obs.console_errors.push(message.text()); });
    await steps(page, obs);
    obs.csp_violations = await page.evaluate(() => window.__csp);
  } catch (error) {
    failed = true;
    obs.error = String(error && error.stack || error);
    if (page) {
      try {
        obs.steps.at_failure = await snapshot(page);
        await page.screenshot({ path: join(plan.artifacts_dir, failureShot) });
      } catch { /* the page is gone */ }
    }
  } finally {
    if (context) await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
  obs.elapsed_ms = Date.now() - started;
  process.stdout.write(JSON.stringify(obs) + "\n");
  process.exit(failed ? 1 : 0);
}
