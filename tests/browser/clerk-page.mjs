// Drives Debian's Chromium (headless, through playwright-core; no browser download) through the
// clerk's page the way a clerk does: a USB scanner types a licence's QR text into the focused
// input and presses Enter. Run by tests/browser.rs, which starts the servers, hands this script
// a JSON plan (argv[2]) and asserts on the JSON observations printed on stdout.
//
// This script only drives and observes; it exits non-zero when a step cannot be done (a wait
// times out, the revocation is refused), after saving a screenshot of the page as it was.

import { readFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const STEP_TIMEOUT = 15_000;
const origin = new URL(plan.verifier_url).origin;
mkdirSync(plan.artifacts_dir, { recursive: true });

const obs = { requests: [], failed_responses: [], csp_violations: [], page_errors: [], console_errors: [], steps: {} };

// Everything the result card and its surroundings show.
async function snapshot(page) {
  return page.evaluate(() => {
    const text = (sel) => document.querySelector(sel)?.textContent ?? null;
    return {
      verdict: text("#verdict"),
      card_class: document.querySelector("#result")?.className ?? null,
      reasons: [...document.querySelectorAll("#reasons li")].map((li) => li.textContent),
      fields: text("#fields"),
      holder_id: text('#fields dd[data-field="holderId"]'),
      meta: text("#result .meta"),
      notice: text("#notice"),
      history: [...document.querySelectorAll("#history li")].map((li) => li.textContent),
      input_value: document.querySelector("#scan")?.value ?? null,
      focused: document.activeElement?.id || document.activeElement?.tagName || null,
      lang: document.documentElement.lang,
      title: document.title,
      label: text("label[for=scan]"),
      trust: text("#trust"),
    };
  });
}

// A USB scanner is a keyboard: it types into whatever has focus, then presses Enter.
async function scan(page, qrText, expectedHistory) {
  await page.keyboard.type(qrText);
  await page.keyboard.press("Enter");
  await page.waitForFunction(
    // Done when the check joins the history, or the page reports that the request failed.
    (n) => document.querySelectorAll("#history li").length >= n
      || /^(核验请求失败：|Check failed: )/.test(document.querySelector("#notice").textContent),
    expectedHistory,
    { timeout: STEP_TIMEOUT },
  );
  return snapshot(page);
}

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
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
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

  // 1. Open the page; the scanner input must have focus without any click.
  await page.goto(origin + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#trust").textContent !== "");
  obs.steps.loaded = await snapshot(page);

  // 2. Scan a valid licence.
  obs.steps.valid = await scan(page, plan.valid.qr_text, 1);
  await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page-valid.png") });

  // 3. Revoke another licence at its issuer (a province the verifier has not asked yet, so its
  //    status list is first fetched after the revocation), then scan it.
  const response = await fetch(`${plan.revoke.issuer_url}/v1/licences/${encodeURIComponent(plan.revoke.jti)}/revoke`, {
    method: "POST",
    headers: { Authorization: `Bearer ${plan.revoke.admin_token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ reason: "test" }),
  });
  obs.steps.revoke_status = response.status;
  if (!response.ok) throw new Error(`revocation refused: ${response.status} ${await response.text()}`);
  obs.steps.revoked = await scan(page, plan.revoke.qr_text, 2);
  await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page-revoked.png") });

  // 4. Switch to English: the card and history are re-rendered in English.
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  obs.steps.english = await snapshot(page);

  // 5. Look back at the first check in the history, then scan again without clicking the
  //    input: the scanner's text must still land in it.
  await page.click("#history li:last-child");
  obs.steps.history_click = await snapshot(page);
  obs.steps.after_switch = await scan(page, plan.after_switch.qr_text, 3);

  await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page.png") });
  obs.csp_violations = await page.evaluate(() => window.__csp);
} catch (error) {
  failed = true;
  obs.error = String(error && error.stack || error);
  if (page) {
    try {
      obs.steps.at_failure = await snapshot(page);
      await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page-failure.png") });
    } catch { /* the page is gone */ }
  }
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
obs.elapsed_ms = Date.now() - started;
process.stdout.write(JSON.stringify(obs) + "\n");
process.exit(failed ? 1 : 0);
