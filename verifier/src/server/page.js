// The clerk's page: verify what a USB scanner types (ending in Enter), a camera frame, or an
// uploaded photo; verify a sealed document (the document and its .ses signature file); show
// one large verdict card; keep this session's checks. Everything goes to this verifier's own
// /v1/verify and /v1/seals/verify; nothing is loaded from elsewhere. Data from the server only
// ever reaches the page as text nodes and attributes, never as markup.
"use strict";

const TEXT = {
  zh: {
    title: "电子证照与电子印章跨省核验", scanLabel: "扫描或粘贴证照二维码", camera: "摄像头扫码", upload: "上传二维码图片",
    waiting: "等待扫码…", history: "本次核验记录", valid: "有效", invalid: "无效", indeterminate: "无法确认",
    checking: "核验中…", type: "证照类型", number: "证照编号", holder: "持证主体", holderId: "持证主体代码",
    issuer: "颁发机构", province: "签发省份", issued: "颁证日期", validity: "有效期", longTerm: "长期", jti: "证照标识",
    checkedAt: "核验时间", trust: "信任列表版本", noCamera: "此浏览器不支持摄像头识别二维码，请使用扫码枪或上传图片。",
    cameraOn: "请将二维码对准摄像头…", noCameraAccess: "无法使用摄像头，请使用扫码枪或上传图片。", failed: "核验请求失败：", lang: "English", warnings: "提示",
    sealTitle: "验证电子印章文件", sealDocument: "文档（PDF、OFD 等）", sealSignature: "签章文件（.ses / SignedValue.dat）", sealVerify: "验证印章",
    sealPickBoth: "请选择文档和签章文件。", sealTooLarge: "文件过大：文档最大 32 MiB，签章文件最大 4 MiB。",
    sealName: "印章名称", sealType: "印章类型", esId: "印章编码", maker: "制章者", signer: "签章人", signedAt: "签章时间",
    sealValidity: "印章有效期", sealPicture: "印章图像", pictureNotShown: "印章图像无法显示（类型：{type}）", checks: "核验项目", sealHistory: "印章",
    ok: "通过", failedCheck: "未通过", notRun: "未运行", undecided: "无法确认", sealTypeN: "类型 ",
    copyTitle: "加注件", copyBand: "加注件", onScreen: "亮证码", bandFor: "仅用于{cause}", bandUnit: "用证单位 {unit}",
    anyWindow: "任意窗口", bandUntil: "有效期至 {time}", undisclosed: "未出示", copier: "制作者", copyId: "加注件标识",
    copyNote: "这是加注件，不是证照原件：仅显示持证人同意出示的信息，仅限上述用途。", secondsLeftPre: "剩余 ", secondsLeftPost: " 秒",
    copyEnded: "已到期，请持证人刷新亮证码", unit: "本窗口单位", historyCopy: "加注件",
  },
  en: {
    title: "Cross-province e-licence and e-seal check", scanLabel: "Scan or paste the licence QR code", camera: "Use camera", upload: "Upload QR image",
    waiting: "Waiting for a scan…", history: "Checks this session", valid: "VALID", invalid: "INVALID", indeterminate: "CANNOT CONFIRM",
    checking: "Checking…", type: "Licence type", number: "Number", holder: "Holder", holderId: "Holder ID",
    issuer: "Issued by", province: "Province", issued: "Issued on", validity: "Valid", longTerm: "long-term", jti: "Licence ID",
    checkedAt: "Checked at", trust: "Trust list", noCamera: "This browser cannot read QR codes from the camera; use the scanner or upload a photo.",
    cameraOn: "Hold the QR code in front of the camera…", noCameraAccess: "The camera cannot be used; use the scanner or upload a photo.", failed: "Check failed: ", lang: "中文", warnings: "Notes",
    sealTitle: "Verify a sealed document", sealDocument: "Document (PDF, OFD, …)", sealSignature: "Seal signature (.ses / SignedValue.dat)", sealVerify: "Verify seal",
    sealPickBoth: "Choose the document and its seal signature file.", sealTooLarge: "File too large: documents up to 32 MiB, signatures up to 4 MiB.",
    sealName: "Seal", sealType: "Seal type", esId: "Seal ID (esID)", maker: "Made by", signer: "Signed by", signedAt: "Signed at",
    sealValidity: "Seal valid", sealPicture: "Seal image", pictureNotShown: "The seal image cannot be shown (type: {type})", checks: "Checks", sealHistory: "Seal",
    ok: "passed", failedCheck: "failed", notRun: "not run", undecided: "undecided", sealTypeN: "type ",
    copyTitle: "Annotated copy", copyBand: "Annotated copy", onScreen: "on-screen code", bandFor: "only for: {cause}", bandUnit: "using unit: {unit}",
    anyWindow: "any window", bandUntil: "valid until {time}", undisclosed: "Not shown", copier: "Made by", copyId: "Copy ID",
    copyNote: "This is an annotated copy, not the licence itself: it shows only what the holder chose to show, for the purpose above only.", secondsLeftPre: "", secondsLeftPost: " s left",
    copyEnded: "expired: ask the holder to refresh the code", unit: "This window's unit", historyCopy: "Copy",
  },
};
const REASONS = {
  zh: {
    malformed: "无法识别的证照码", unsupported_algorithm: "不接受的签名算法", unknown_signer: "签发密钥不在信任列表中",
    bad_signature: "签名无效（内容被篡改）", issuer_not_authorised: "签发方无权以该省份名义签发", type_not_authorised: "签发方无权签发该类证照",
    issuer_suspended: "签发省份已被暂停互认", not_yet_valid: "证照尚未生效", expired: "证照已过期", revoked: "证照已被吊销或注销",
    suspended: "证照已被暂扣或中止", status_unknown: "无法确认证照当前状态", trust_list_stale: "信任列表已过期，需要更新",
    copy_expired: "加注件已过有效期", wrong_audience: "加注件不是出具给本单位的", copy_withdrawn: "持证人已撤回该加注件",
    nonstandard_identifier_check: "证照标识校验位不规范", holder_code_check_failed: "持证主体代码校验位有误",
    audience_not_checked: "加注件指定了用证单位，本窗口未配置单位，未核对",
    not_logged: "签发日志中查无此证（可能以被盗密钥签发）", log_unavailable: "无法查询签发日志，不能确认该证已登记",
  },
  en: {
    malformed: "Not a readable licence code", unsupported_algorithm: "Signature algorithm not accepted", unknown_signer: "Signing key is not in the trust list",
    bad_signature: "Signature invalid (content altered)", issuer_not_authorised: "Signer may not issue for this province", type_not_authorised: "Signer may not issue this licence type",
    issuer_suspended: "Issuing province is suspended", not_yet_valid: "Licence not yet valid", expired: "Licence expired", revoked: "Licence revoked",
    suspended: "Licence suspended", status_unknown: "Current status cannot be confirmed", trust_list_stale: "Trust list out of date",
    copy_expired: "Annotated copy expired", wrong_audience: "Annotated copy was made for another unit", copy_withdrawn: "Annotated copy withdrawn by its holder",
    nonstandard_identifier_check: "Non-standard check character in the licence ID", holder_code_check_failed: "Holder code check digit is wrong",
    audience_not_checked: "The copy names a using unit; this window has no unit configured, so it was not checked",
    not_logged: "Not in the issuance log (possibly signed with a stolen key)", log_unavailable: "Issuance log unreachable: logging cannot be confirmed",
  },
};

// Warnings whose code is also a reason's (not_logged) are worded here, as a warning: the
// verdict did not change.
const WARNINGS = {
  zh: {
    not_logged: "签发日志中查无此证（本窗口未要求登记）", log_pending: "刚签发，签发日志尚未登记，稍后可再查",
    log_unreachable: "无法查询签发日志，未核对登记",
  },
  en: {
    not_logged: "Not in the issuance log (this window does not require it)", log_pending: "Just issued: not in the issuance log yet; check again shortly",
    log_unreachable: "Issuance log unreachable: logging not checked",
  },
};

// Labels of the face fields of the built-in licence types (the issuers' catalogue); other keys
// are shown as they are.
const FACE_LABELS_ZH = {"qualification": "资质类别及等级", "legal_representative": "法定代表人（负责人）", "registered_capital": "注册资本", "address": "地址", "economic_nature": "经济性质", "business_scope": "经营范围", "economic_type": "经济类型", "entity_type": "类型", "established_on": "成立日期", "business_term": "营业期限", "domicile": "住所", "operator_name": "经营者名称", "business_premises": "经营场所", "business_format": "主体业态", "business_items": "经营项目", "supervising_authority": "日常监督管理机构", "complaint_hotline": "投诉举报电话", "co_ownership": "共有情况", "location": "坐落", "unit_number": "不动产单元号", "right_type": "权利类型", "right_nature": "权利性质", "usage": "用途", "area": "面积", "term_of_use": "使用期限", "other_conditions": "权利其他状况", "sex": "性别", "practice_category": "执业类别", "practice_scope": "执业范围", "practice_location": "执业地点", "certifying_authority": "发证机关", "legal_representative_id": "法定代表人（负责人）身份证件号码"};

// Seal checks in report order (SPEC §8), and the seal types huren names (印章类型).
const SEAL_CHECKS = {
  zh: {
    format: "文件格式", signature: "签章签名", signer_in_seal: "签章人证书属于该印章", seal_signature: "印章的制章签名",
    maker_trusted: "制章者受信任", seal_validity: "印章有效（签章时及当前状态）", maker_certificate: "制章者证书有效",
    signer_certificate: "签章人证书有效且未被吊销", document_hash: "文档未被篡改",
  },
  en: {
    format: "File format", signature: "Signature", signer_in_seal: "Signer certificate belongs to the seal", seal_signature: "Seal's maker signature",
    maker_trusted: "Seal maker trusted", seal_validity: "Seal valid (when used, and now)", maker_certificate: "Maker certificate valid",
    signer_certificate: "Signer certificate valid and not revoked", document_hash: "Document unaltered",
  },
};
// A check with ok: null that is undecided rather than not run: the reasons it may carry.
const UNDECIDED_BY = {
  signer_in_seal: ["signer_in_seal_unknown"], maker_trusted: ["trust_list_stale"],
  seal_validity: ["seal_status_unknown"], signer_certificate: ["signer_revocation_unknown"],
};
const SEAL_TYPES = {
  zh: { 1: "法定名称章", 2: "财务专用章", 3: "发票专用章", 4: "合同专用章", 5: "业务专用章" },
  en: { 1: "Official (legal name) seal", 2: "Finance seal", 3: "Invoice seal", 4: "Contract seal", 5: "Business seal" },
};
// Only these are ever shown, and only through <img> (an SVG there runs no script).
const PICTURE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/svg+xml"]);
const MAX_DOCUMENT = 32 * 1024 * 1024;
const MAX_SIGNATURE = 4 * 1024 * 1024;

function faceLabel(key) {
  if (lang === "zh" && FACE_LABELS_ZH[key]) return FACE_LABELS_ZH[key];
  return key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// "2026-11-22T09:30:00+08:00" -> "2026-11-22 09:30:00" (the time zone is always China's).
function shortTime(rfc3339) {
  return String(rfc3339).replace("T", " ").replace(/([+-]\d\d:\d\d|Z)$/, "");
}

let lang = sessionStorage.getItem("huren.lang") || "zh";
// The last thing shown: { kind, report }.
let last = null;
let trustList = null;
// The using unit this verifier is configured for (HUREN_VERIFIER_UNIT), if any.
let windowUnit = null;
// The running countdown of an on-screen copy's seconds left.
let countdown = null;
const history = JSON.parse(sessionStorage.getItem("huren.history") || "[]");
const $ = (id) => document.getElementById(id);

function t(key) { return TEXT[lang][key] || key; }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  $("lang").textContent = t("lang");
  document.title = t("title");
  if (last) show(last);
  renderHistory();
  renderTrust();
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
}

// A history entry or a fresh answer: { kind: "licence" | "seal", report, received }.
function show(entry) {
  if (countdown) { clearInterval(countdown); countdown = null; }
  if (entry.kind === "seal") renderSeal(entry.report); else render(entry.report, entry.received);
  last = entry;
}

// An annotated copy's purpose band (SPEC §11): what it is for, for whom, until when (China
// time, to the minute).
function copyBand(c) {
  const p = c.purpose || {};
  const cause = (p.cause || "") + (p.item_name ? (lang === "zh" ? "（" + p.item_name + "）" : " (" + p.item_name + ")") : "");
  const parts = [t("copyBand")];
  if (c.on_screen) parts.push(t("onScreen"));
  parts.push(fill(t("bandFor"), { cause }), fill(t("bandUnit"), { unit: c.aud ? c.aud.name : t("anyWindow") }),
    fill(t("bandUntil"), { time: shortTime(c.expires_at).slice(0, 16) }));
  return el("p", { class: "copy-band", id: "copy-band" }, parts.join(" · "));
}

// An on-screen 亮证码's seconds left, counting down from the answer's (the browser's clock only
// measures the time since the answer arrived).
function secondsLeft(c, received) {
  const left = () => Math.max(0, c.seconds_left - Math.floor((Date.now() - (received || Date.now())) / 1000));
  const number = el("span", { id: "seconds-left-n" }, left());
  const line = el("p", { class: "seconds-left", id: "seconds-left" }, t("secondsLeftPre"), number, t("secondsLeftPost"));
  const tick = () => {
    const n = left();
    number.textContent = String(n);
    if (n === 0) {
      line.replaceChildren(el("span", { id: "seconds-left-n" }, "0"), " · " + t("copyEnded"));
      line.classList.add("ended");
      if (countdown) { clearInterval(countdown); countdown = null; }
    }
  };
  tick();
  if (left() > 0) countdown = setInterval(tick, 1000);
  return line;
}

function render(report, received) {
  const card = $("result");
  const c = report.copy;
  card.className = "card " + report.verdict + (c ? " copy" : "");
  card.replaceChildren();
  if (c) card.append(el("h2", { class: "card-title", id: "card-title" }, t("copyTitle")));
  card.append(el("p", { class: "verdict", id: "verdict" }, t(report.verdict)));
  if (c) {
    card.append(copyBand(c));
    if (c.on_screen) card.append(secondsLeft(c, received));
  }
  if (report.reasons.length) {
    card.append(el("ul", { class: "reasons", id: "reasons" }, ...report.reasons.map((r) => el("li", { "data-code": r }, REASONS[lang][r] || r))));
  }
  const l = report.licence;
  if (l) {
    const rows = [
      ["type", l.type_name], ["holder", l.holder_name], ["holderId", l.holder_id_masked], ["number", l.number],
      ["issuer", l.issuer_name], ["province", l.iss_name + " (" + l.iss + ")"], ["issued", l.issued_on],
      ["validity", l.valid_from + " — " + (l.valid_until || t("longTerm"))], ["jti", l.jti],
    ];
    if (c) rows.push(["copier", c.copier && c.copier.name], ["copyId", c.id]);
    const dl = el("dl", { id: "fields" });
    for (const [k, v] of rows) {
      // A copy shows only what its holder disclosed: the rest is said to be withheld, never
      // shown as an empty row.
      const withheld = c && (v === undefined || v === null);
      dl.append(el("dt", {}, t(k)), withheld
        ? el("dd", { "data-field": k, class: "undisclosed" }, t("undisclosed"))
        : el("dd", { "data-field": k }, v));
    }
    for (const [k, v] of Object.entries(l.face || {})) dl.append(el("dt", {}, faceLabel(k)), el("dd", { "data-face": k }, v));
    card.append(dl);
    if (c) card.append(el("p", { class: "copy-note", id: "copy-note" }, t("copyNote")));
  }
  if (report.warnings.length) {
    card.append(el("p", { class: "muted", id: "warnings" }, t("warnings") + ": " + report.warnings.map((w) => WARNINGS[lang][w] || REASONS[lang][w] || w).join(lang === "zh" ? "；" : "; ")));
  }
  card.append(el("p", { class: "meta" }, t("checkedAt") + " " + shortTime(report.checked_at) + " · " + t("trust") + " " + report.trust_list_seq));
}

function textOf(item) { return item ? (lang === "zh" ? item.zh : item.en) : ""; }

function sealTypeName(code) {
  return SEAL_TYPES[lang][code] || t("sealTypeN") + code;
}

function pictureElement(picture, verdict) {
  if (PICTURE_TYPES.has(picture.media_type) && /^[A-Za-z0-9+/]*={0,2}$/.test(picture.data_b64)) {
    const img = el("img", { id: "seal-picture", alt: t("sealPicture"), class: verdict === "valid" ? "" : "dim" });
    img.src = "data:" + picture.media_type + ";base64," + picture.data_b64;
    return img;
  }
  return el("p", { id: "seal-picture-missing", class: "muted" }, t("pictureNotShown").replace("{type}", () => picture.type));
}

function renderSeal(answer) {
  const card = $("result");
  card.className = "card seal " + answer.verdict;
  card.replaceChildren();
  card.append(el("p", { class: "verdict", id: "verdict" }, t(answer.verdict)));
  if (answer.reasons.length) {
    const texts = answer.reason_texts || [];
    card.append(el("ul", { class: "reasons", id: "reasons" }, ...answer.reasons.map((code, i) => el("li", { "data-code": code }, textOf(texts[i]) || code))));
  }
  const body = el("div", { class: "seal-body" });
  if (answer.picture) body.append(el("div", { class: "seal-picture" }, pictureElement(answer.picture, answer.verdict)));
  const s = answer.seal;
  const rows = [];
  if (s) {
    rows.push(["sealName", s.name], ["sealType", sealTypeName(s.type)], ["esId", s.esID], ["maker", s.maker_subject],
      ["sealValidity", shortTime(s.valid_start) + " — " + shortTime(s.valid_end)]);
  }
  if (answer.signer_subject) rows.push(["signer", answer.signer_subject]);
  if (answer.signed_at) rows.push(["signedAt", shortTime(answer.signed_at)]);
  if (rows.length) {
    const dl = el("dl", { id: "fields" });
    for (const [k, v] of rows) dl.append(el("dt", {}, t(k)), el("dd", { "data-field": k }, v));
    body.append(dl);
  }
  card.append(body);
  card.append(el("h3", {}, t("checks")));
  const checks = el("ol", { id: "seal-checks", class: "checks" });
  for (const c of answer.checks) {
    let state = c.ok === true ? "ok" : c.ok === false ? "failed" : "notRun";
    if (c.ok === null && (UNDECIDED_BY[c.check] || []).some((r) => answer.reasons.includes(r))) state = "undecided";
    const word = state === "failed" ? t("failedCheck") : t(state);
    const item = el("li", { class: state, "data-check": c.check },
      el("span", { class: "check-name" }, SEAL_CHECKS[lang][c.check] || c.check),
      el("span", { class: "check-state" }, word));
    if (c.detail) item.title = c.detail;
    checks.append(item);
  }
  card.append(checks);
  if (answer.warnings.length) {
    const texts = answer.warning_texts || [];
    card.append(el("p", { class: "muted", id: "warnings" }, t("warnings") + ": " + answer.warnings.map((w, i) => textOf(texts[i]) || w).join(lang === "zh" ? "；" : "; ")));
  }
  card.append(el("p", { class: "meta" }, t("checkedAt") + " " + shortTime(answer.checked_at) + " · " + t("trust") + " " + answer.trust_list_seq));
}

function historyLabel(h) {
  const r = h.report;
  if (h.kind === "seal") {
    const first = r.reasons.length ? textOf((r.reason_texts || [])[0]) || r.reasons[0] : "";
    return t("sealHistory") + " · " + (r.seal ? r.seal.name : first);
  }
  if (r.copy && r.licence) {
    const who = r.licence.holder_name || r.copy.purpose.cause;
    return t("historyCopy") + " · " + r.licence.type_name + " · " + who;
  }
  return r.licence ? r.licence.type_name + " · " + r.licence.holder_name : (r.reasons[0] || "");
}

// When a check was made, as its card says it: the answer's checked_at (China time, 24 h),
// never the browser's zone or locale.
function historyTime(h) {
  return shortTime(h.report.checked_at);
}

function renderHistory() {
  $("history").replaceChildren(...history.slice().reverse().map((h) => {
    const item = el("li", { class: h.report.verdict + (h.report.copy ? " copy" : ""), "data-kind": h.report.copy ? "copy" : h.kind },
      historyTime(h) + "  " + t(h.report.verdict) + "  " + historyLabel(h));
    item.addEventListener("click", () => show(h));
    return item;
  }));
}

// Largest seal picture kept in the session's stored history (base64 characters): seal
// pictures may be megabytes, and the browser's storage holds about five in all.
const MAX_STORED_PICTURE = 200_000;

// Stores the history for reloads of the page: large pictures are left out, and if the storage
// is still full the oldest entries go. The page itself keeps everything until it is closed.
function persistHistory() {
  const slim = history.map((h) => (h.kind === "seal" && h.report.picture && h.report.picture.data_b64.length > MAX_STORED_PICTURE)
    ? { ...h, report: { ...h.report, picture: null } } : h);
  for (let start = 0; start <= slim.length; start++) {
    try {
      sessionStorage.setItem("huren.history", JSON.stringify(slim.slice(start)));
      return;
    } catch { /* over the storage quota: keep fewer */ }
  }
}

function remember(entry) {
  history.push({ kind: entry.kind, report: entry.report, received: entry.received });
  while (history.length > 50) history.shift();
  persistHistory();
  renderHistory();
}

async function post(url, kind, notice, body, contentType) {
  $(notice).textContent = t("checking");
  try {
    const options = { method: "POST", body };
    if (contentType) options.headers = { "Content-Type": contentType };
    const response = await fetch(url, options);
    const json = await response.json();
    if (!response.ok) throw new Error(json.detail || response.status);
    const entry = { kind, report: json, received: Date.now() };
    show(entry);
    remember(entry);
    $(notice).textContent = "";
  } catch (error) {
    $(notice).textContent = t("failed") + error.message;
  }
}

function submit(body, contentType) {
  return post("/v1/verify", "licence", "notice", body, contentType);
}

$("seal-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const documentFile = $("seal-document").files[0];
  const signatureFile = $("seal-signature").files[0];
  if (!documentFile || !signatureFile) {
    $("seal-notice").textContent = t("sealPickBoth");
    return;
  }
  if (documentFile.size > MAX_DOCUMENT || signatureFile.size > MAX_SIGNATURE) {
    $("seal-notice").textContent = t("sealTooLarge");
    return;
  }
  const form = new FormData();
  form.append("document", documentFile);
  form.append("signature", signatureFile);
  post("/v1/seals/verify", "seal", "seal-notice", form, null);
});

$("scan-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("scan").value.trim();
  $("scan").value = "";
  if (value) submit(value, "text/plain");
  $("scan").focus();
});

$("image").addEventListener("change", () => {
  const file = $("image").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("image", file);
  submit(form, null);
  $("image").value = "";
  $("scan").focus();
});

$("camera").addEventListener("click", async () => {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
    $("notice").textContent = t("noCamera");
    return;
  }
  const detector = new BarcodeDetector({ formats: ["qr_code"] });
  const video = $("video");
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (error) {
    $("notice").textContent = t("noCameraAccess") + " (" + error.name + ")";
    $("scan").focus();
    return;
  }
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  $("notice").textContent = t("cameraOn");
  const stop = () => { stream.getTracks().forEach((track) => track.stop()); video.hidden = true; };
  const scan = async () => {
    const codes = await detector.detect(video).catch(() => []);
    if (codes.length) { stop(); submit(codes[0].rawValue, "text/plain"); return; }
    requestAnimationFrame(scan);
  };
  scan();
});

$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  sessionStorage.setItem("huren.lang", lang);
  applyLanguage();
});

// Keep the scanner input focused: a clerk should never have to click before scanning. Buttons
// and history entries give the focus back too: otherwise the scanner's next text goes nowhere,
// and its Enter presses the button again (the language switch flips back, the scan is lost).
document.addEventListener("click", (event) => {
  if (!event.target.closest("label, input")) $("scan").focus();
});

function renderTrust() {
  if (trustList) $("trust").textContent = t("trust") + " " + trustList.seq + (trustList.stale ? " ⚠" : "");
  $("unit").textContent = windowUnit ? t("unit") + " " + windowUnit : "";
}

fetch("/v1/trust").then((r) => r.json()).then((json) => {
  trustList = json.trust_list;
  windowUnit = typeof json.unit === "string" ? json.unit : null;
  renderTrust();
}).catch(() => {});

applyLanguage();
