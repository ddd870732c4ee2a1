// Drives Debian's Chromium (headless, through playwright-core; no browser download) through the
// clerk's page the way a clerk does: a USB scanner types a licence's QR text into the focused
// input and presses Enter. Run by tests/browser.rs, which starts the servers, hands this script
// a JSON plan (argv[2]) and asserts on the JSON observations printed on stdout.
//
// Launching, observing and reporting are in harness.mjs.

import { join } from "node:path";
import { STEP_TIMEOUT, drive, readPlan, renderedFonts } from "./harness.mjs";

const plan = readPlan();
const origin = new URL(plan.verifier_url).origin;

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
      card_title: text("#card-title"),
      band: text("#copy-band"),
      undisclosed: [...document.querySelectorAll("#fields dd.undisclosed")].map((dd) => dd.dataset.field),
      seconds_left: text("#seconds-left-n"),
      warnings: text("#warnings"),
      warnings_list: document.querySelector("#warnings") ? [document.querySelector("#warnings").textContent] : [],
      history_kinds: [...document.querySelectorAll("#history li")].map((li) => li.dataset.kind),
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

await drive(plan, "clerk-page-failure.png", snapshot, async (page, obs) => {
  // 1. Open the page; the scanner input must have focus without any click.
  await page.goto(origin + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#trust").textContent !== "");
  obs.steps.loaded = await snapshot(page);

  // 2. Scan a valid licence.
  obs.steps.valid = await scan(page, plan.valid.qr_text, 1);
  obs.steps.valid.verdict_fonts = await renderedFonts(page, "#verdict");
  obs.steps.valid.holder_fonts = await renderedFonts(page, '#fields dd[data-field="holder"]');
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

  // 6. Back to Chinese; annotated copies (加注件): one for a using unit, then an on-screen
  //    亮证码 whose seconds left count down; then the on-screen one in English.
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
  obs.steps.copy = await scan(page, plan.copy.qr_text, 4);
  await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page-copy.png") });
  obs.steps.on_screen = await scan(page, plan.on_screen.qr_text, 5);
  await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page-on-screen.png") });
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  obs.steps.copy_english = await snapshot(page);
});
