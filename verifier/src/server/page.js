// The clerk's page: verify what a USB scanner types (ending in Enter), a camera frame, or an
// uploaded photo; show one large verdict card; keep this session's checks. Everything goes to
// this verifier's own /v1/verify; nothing is loaded from elsewhere.
"use strict";

const TEXT = {
  zh: {
    title: "电子证照跨省核验", scanLabel: "扫描或粘贴证照二维码", camera: "摄像头扫码", upload: "上传二维码图片",
    waiting: "等待扫码…", history: "本次核验记录", valid: "有效", invalid: "无效", indeterminate: "无法确认",
    checking: "核验中…", type: "证照类型", number: "证照编号", holder: "持证主体", holderId: "持证主体代码",
    issuer: "颁发机构", province: "签发省份", issued: "颁证日期", validity: "有效期", longTerm: "长期", jti: "证照标识",
    checkedAt: "核验时间", trust: "信任列表版本", noCamera: "此浏览器不支持摄像头识别二维码，请使用扫码枪或上传图片。",
    cameraOn: "请将二维码对准摄像头…", noCameraAccess: "无法使用摄像头，请使用扫码枪或上传图片。", failed: "核验请求失败：", lang: "English", warnings: "提示",
  },
  en: {
    title: "Cross-province e-licence check", scanLabel: "Scan or paste the licence QR code", camera: "Use camera", upload: "Upload QR image",
    waiting: "Waiting for a scan…", history: "Checks this session", valid: "VALID", invalid: "INVALID", indeterminate: "CANNOT CONFIRM",
    checking: "Checking…", type: "Licence type", number: "Number", holder: "Holder", holderId: "Holder ID",
    issuer: "Issued by", province: "Province", issued: "Issued on", validity: "Valid", longTerm: "long-term", jti: "Licence ID",
    checkedAt: "Checked at", trust: "Trust list", noCamera: "This browser cannot read QR codes from the camera; use the scanner or upload a photo.",
    cameraOn: "Hold the QR code in front of the camera…", noCameraAccess: "The camera cannot be used; use the scanner or upload a photo.", failed: "Check failed: ", lang: "中文", warnings: "Notes",
  },
};
const REASONS = {
  zh: {
    malformed: "无法识别的证照码", unsupported_algorithm: "不接受的签名算法", unknown_signer: "签发密钥不在信任列表中",
    bad_signature: "签名无效（内容被篡改）", issuer_not_authorised: "签发方无权以该省份名义签发", type_not_authorised: "签发方无权签发该类证照",
    issuer_suspended: "签发省份已被暂停互认", not_yet_valid: "证照尚未生效", expired: "证照已过期", revoked: "证照已被吊销或注销",
    suspended: "证照已被暂扣或中止", status_unknown: "无法确认证照当前状态", trust_list_stale: "信任列表已过期，需要更新",
    nonstandard_identifier_check: "证照标识校验位不规范", holder_code_check_failed: "持证主体代码校验位有误",
  },
  en: {
    malformed: "Not a readable licence code", unsupported_algorithm: "Signature algorithm not accepted", unknown_signer: "Signing key is not in the trust list",
    bad_signature: "Signature invalid (content altered)", issuer_not_authorised: "Signer may not issue for this province", type_not_authorised: "Signer may not issue this licence type",
    issuer_suspended: "Issuing province is suspended", not_yet_valid: "Licence not yet valid", expired: "Licence expired", revoked: "Licence revoked",
    suspended: "Licence suspended", status_unknown: "Current status cannot be confirmed", trust_list_stale: "Trust list out of date",
    nonstandard_identifier_check: "Non-standard check character in the licence ID", holder_code_check_failed: "Holder code check digit is wrong",
  },
};

// Labels of the face fields of the built-in licence types (the issuers' catalogue); other keys
// are shown as they are.
const FACE_LABELS_ZH = {"qualification": "资质类别及等级", "legal_representative": "法定代表人（负责人）", "registered_capital": "注册资本", "address": "地址", "economic_nature": "经济性质", "business_scope": "经营范围", "economic_type": "经济类型", "entity_type": "类型", "established_on": "成立日期", "business_term": "营业期限", "domicile": "住所", "operator_name": "经营者名称", "business_premises": "经营场所", "business_format": "主体业态", "business_items": "经营项目", "supervising_authority": "日常监督管理机构", "complaint_hotline": "投诉举报电话", "co_ownership": "共有情况", "location": "坐落", "unit_number": "不动产单元号", "right_type": "权利类型", "right_nature": "权利性质", "usage": "用途", "area": "面积", "term_of_use": "使用期限", "other_conditions": "权利其他状况", "sex": "性别", "practice_category": "执业类别", "practice_scope": "执业范围", "practice_location": "执业地点", "certifying_authority": "发证机关"};

function faceLabel(key) {
  if (lang === "zh" && FACE_LABELS_ZH[key]) return FACE_LABELS_ZH[key];
  return key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// "2026-11-22T09:30:00+08:00" -> "2026-11-22 09:30:00" (the time zone is always China's).
function shortTime(rfc3339) {
  return String(rfc3339).replace("T", " ").replace(/([+-]\d\d:\d\d|Z)$/, "");
}

let lang = sessionStorage.getItem("huren.lang") || "zh";
let last = null;
let trustList = null;
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
  if (last) render(last);
  renderHistory();
  renderTrust();
}

function render(report) {
  last = report;
  const card = $("result");
  card.className = "card " + report.verdict;
  card.replaceChildren();
  card.append(el("p", { class: "verdict", id: "verdict" }, t(report.verdict)));
  if (report.reasons.length) {
    card.append(el("ul", { class: "reasons", id: "reasons" }, ...report.reasons.map((r) => el("li", {}, REASONS[lang][r] || r))));
  }
  const l = report.licence;
  if (l) {
    const rows = [
      ["type", l.type_name], ["holder", l.holder_name], ["holderId", l.holder_id_masked], ["number", l.number],
      ["issuer", l.issuer_name], ["province", l.iss_name + " (" + l.iss + ")"], ["issued", l.issued_on],
      ["validity", l.valid_from + " — " + (l.valid_until || t("longTerm"))], ["jti", l.jti],
    ];
    const dl = el("dl", { id: "fields" });
    for (const [k, v] of rows) dl.append(el("dt", {}, t(k)), el("dd", { "data-field": k }, v));
    for (const [k, v] of Object.entries(l.face || {})) dl.append(el("dt", {}, faceLabel(k)), el("dd", { "data-face": k }, v));
    card.append(dl);
  }
  if (report.warnings.length) {
    card.append(el("p", { class: "muted" }, t("warnings") + ": " + report.warnings.map((w) => REASONS[lang][w] || w).join("；")));
  }
  card.append(el("p", { class: "meta" }, t("checkedAt") + " " + shortTime(report.checked_at) + " · " + t("trust") + " " + report.trust_list_seq));
}

function renderHistory() {
  $("history").replaceChildren(...history.slice().reverse().map((h, i) => {
    const item = el("li", { class: h.report.verdict }, h.time + "  " + t(h.report.verdict) + "  " + (h.report.licence ? h.report.licence.type_name + " · " + h.report.licence.holder_name : (h.report.reasons[0] || "")));
    item.addEventListener("click", () => render(h.report));
    return item;
  }));
}

function remember(report) {
  history.push({ time: new Date().toLocaleTimeString(), report });
  while (history.length > 50) history.shift();
  sessionStorage.setItem("huren.history", JSON.stringify(history));
  renderHistory();
}

async function submit(body, contentType) {
  $("notice").textContent = t("checking");
  try {
    const options = { method: "POST", body };
    if (contentType) options.headers = { "Content-Type": contentType };
    const response = await fetch("/v1/verify", options);
    const json = await response.json();
    if (!response.ok) throw new Error(json.detail || response.status);
    render(json);
    remember(json);
    $("notice").textContent = "";
  } catch (error) {
    $("notice").textContent = t("failed") + error.message;
  }
}

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
}

fetch("/v1/trust").then((r) => r.json()).then((json) => {
  trustList = json.trust_list;
  renderTrust();
}).catch(() => {});

applyLanguage();
