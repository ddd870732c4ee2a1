// Drives Debian's Chromium through the clerk's page the way a clerk checks a sealed document:
// choose the document and its seal signature file (.ses), press 验证印章, read the card; then the
// same with a tampered copy of the document; then switch to English. Run by tests/browser.rs,
// which makes the seal, hands this script a JSON plan (argv[2]) and asserts on the JSON
// observations printed on stdout. Launching, observing and reporting are in harness.mjs.

import { join } from "node:path";
import { STEP_TIMEOUT, drive, readPlan } from "./harness.mjs";

const plan = readPlan();
const origin = new URL(plan.verifier_url).origin;

// Everything the seal card shows.
async function snapshot(page) {
  return page.evaluate(() => {
    const text = (sel) => document.querySelector(sel)?.textContent ?? null;
    const picture = document.querySelector("#seal-picture");
    return {
      verdict: text("#verdict"),
      card_class: document.querySelector("#result")?.className ?? null,
      reasons: [...document.querySelectorAll("#reasons li")].map((li) => li.textContent),
      fields: text("#fields"),
      seal_name: text('#fields dd[data-field="sealName"]'),
      seal_type: text('#fields dd[data-field="sealType"]'),
      es_id: text('#fields dd[data-field="esId"]'),
      checks: [...document.querySelectorAll("#seal-checks li")].map((li) => ({
        check: li.dataset.check, state: li.className, text: li.textContent,
      })),
      picture: picture ? {
        tag: picture.tagName, src_prefix: picture.getAttribute("src").slice(0, 22),
        decoded: picture.complete && picture.naturalWidth > 0, class: picture.className,
      } : null,
      // Nothing from the server may become markup: no element the page did not make itself.
      foreign_elements: document.querySelectorAll("#result svg, #result script, #result iframe, #result object").length,
      warnings: text("#warnings"),
      meta: text("#result .meta"),
      notice: text("#seal-notice"),
      history: [...document.querySelectorAll("#history li")].map((li) => li.textContent),
      lang: document.documentElement.lang,
      title: text("#seal-title"),
    };
  });
}

// Chooses the two files and presses the button; done when the check joins the history (and its
// picture, if any, is decoded) or the page reports that the request failed.
async function verifySeal(page, documentPath, signaturePath, expectedHistory) {
  await page.setInputFiles("#seal-document", documentPath);
  await page.setInputFiles("#seal-signature", signaturePath);
  await page.click("#seal-verify");
  await page.waitForFunction(
    (n) => (document.querySelectorAll("#history li").length >= n
      && (document.querySelector("#seal-picture")?.complete ?? true))
      || /^(核验请求失败：|Check failed: )/.test(document.querySelector("#seal-notice").textContent),
    expectedHistory,
    { timeout: STEP_TIMEOUT },
  );
  return snapshot(page);
}

await drive(plan, "clerk-page-seal-failure.png", snapshot, async (page, obs) => {
  await page.goto(origin + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#trust").textContent !== "");
  obs.steps.loaded = await snapshot(page);

  // 1. The sealed contract as the organisation sent it.
  obs.steps.valid = await verifySeal(page, plan.document, plan.signature, 1);
  await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page-seal-valid.png") });

  // 2. A copy of the contract with one byte changed, with the same signature file.
  obs.steps.tampered = await verifySeal(page, plan.tampered, plan.signature, 2);
  await page.screenshot({ path: join(plan.artifacts_dir, "clerk-page-seal-tampered.png") });

  // 3. English: the card is re-rendered, the reasons in English.
  await page.click("#lang");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  obs.steps.english = await snapshot(page);

  // 4. Back to the first check through the history.
  await page.click("#history li:last-child");
  obs.steps.history_click = await snapshot(page);
});
