// The one language runtime of every page: Simplified Chinese first, English on the switch.
// One remembered language for the whole site, so a caller or an officer who chose English on one
// page does not meet Chinese on the next. Each page registers its own words with `words()`; the
// helpers below (t, pick, errorText, applyStatic, distances and ages) are the only copies.

const KEY = "baojing.lang";
// Pages kept their own choice before there was one runtime; honour it once.
const LEGACY_KEYS = ["baojing.console.lang", "baojing.officer.lang", "baojing.admin.lang", "bj.lang"];

const DICT = { zh: {}, en: {} };
const listeners = new Set();

function stored() {
  try {
    const v = localStorage.getItem(KEY) ?? LEGACY_KEYS.map((k) => localStorage.getItem(k)).find(Boolean);
    return v === "en" || v === '"en"' ? "en" : "zh"; // the caller's page kept it as JSON
  } catch {
    return "zh"; // storage refused (private mode): Chinese, not remembered
  }
}

export let lang = typeof localStorage === "undefined" ? "zh" : stored();

export const getLang = () => lang;

// Add a page's words: words({zh: {...}, en: {...}}). Later registrations win on the same key.
export function words(dicts) {
  Object.assign(DICT.zh, dicts.zh || {});
  Object.assign(DICT.en, dicts.en || {});
}

// Every key registered in one language but not the other (a test fails on any).
export function missingKeys() {
  const zh = Object.keys(DICT.zh), en = Object.keys(DICT.en);
  return { en: zh.filter((k) => !(k in DICT.en)), zh: en.filter((k) => !(k in DICT.zh)) };
}

// Every registered key (the page-words test checks each key a page uses is one of them).
export const registeredKeys = () => [...new Set([...Object.keys(DICT.zh), ...Object.keys(DICT.en)])];

export function setLang(l, { remember = true } = {}) {
  lang = l === "en" ? "en" : "zh";
  if (remember) {
    try { localStorage.setItem(KEY, lang); } catch { /* private mode: not remembered */ }
  }
  if (typeof document !== "undefined") document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const fn of listeners) fn(lang);
}

// Called with the new language after every switch (views that hold text re-render).
export function onLang(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// t("key", {n: 3}) fills {n}; an unknown key shows itself, so a gap is visible, never blank.
export function t(key, vars) {
  let s = DICT[lang][key] ?? DICT.zh[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

// A server label in the current language: {zh, en} (enum labels, config options) or
// {name_zh, name_en} (stations, districts, units).
export function pick(o) {
  if (!o) return "";
  if ("zh" in o || "en" in o) return lang === "zh" ? o.zh ?? o.en : o.en ?? o.zh;
  return lang === "zh" ? o.name_zh ?? o.name_en : o.name_en ?? o.name_zh;
}

// The server's words for codes (GET /api/config `labels`): label("roles", "officer") -> "出警民警".
// An unknown code shows itself, as t() does.
let LABELS = {};
export function setLabels(labels) {
  LABELS = labels || {};
}
export function label(group, code) {
  const o = LABELS[group] && LABELS[group][code];
  return o ? pick(o) : code ?? "";
}
export const labelCodes = (group) => Object.keys(LABELS[group] || {});

// The server's bilingual error body {message_zh, message_en, errors: [{field, line, message_zh,
// message_en}]} in the current language, field messages after the main one.
// named: put each field's name before its message (forms whose fields are labelled by those names).
export function errorText(err, { named = false } = {}) {
  if (!err) return "";
  const main = (lang === "zh" ? err.message_zh : err.message_en) || err.message || t("err_generic");
  const fields = (err.errors || []).map((e) => {
    const m = lang === "zh" ? e.message_zh : e.message_en;
    return m && named && e.field ? `${e.field} ${m}` : m;
  }).filter(Boolean);
  if (!fields.length) return main;
  return lang === "zh" ? `${main}：${fields.join("；")}` : `${main}: ${fields.join("; ")}`;
}

// Static texts: [data-i18n] sets textContent, [data-i18n-ph] placeholder, [data-i18n-title] title,
// [data-i18n-aria] aria-label.
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

words({
  zh: {
    err_generic: "出错了，请重试",
    m: "{n} 米", km: "{n} 公里",
    ago_s: "{n} 秒", ago_m: "{n} 分钟", ago_h: "{n} 小时",
    just_now: "刚刚", ago: "{t}前",
  },
  en: {
    err_generic: "Something went wrong, please try again",
    m: "{n} m", km: "{n} km",
    ago_s: "{n} s", ago_m: "{n} min", ago_h: "{n} h",
    just_now: "just now", ago: "{t} ago",
  },
});

// 850 -> "850 米", 12_345 -> "12 公里"; beyond 100 m rounded to 10 m (a GPS fix is no finer).
export function distanceText(m) {
  if (m >= 1000) return t("km", { n: (m / 1000).toFixed(m >= 10000 ? 0 : 1) });
  return t("m", { n: m >= 100 ? Math.round(m / 10) * 10 : Math.round(m) });
}

// 42_000 ms -> "42 秒"; "3 分钟"; "2 小时"
export function durationText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return t("ago_s", { n: s });
  if (s < 7200) return t("ago_m", { n: Math.floor(s / 60) });
  return t("ago_h", { n: Math.floor(s / 3600) });
}

// "刚刚" / "3 分钟前"
export function agoText(ms) {
  return ms < 5000 ? t("just_now") : t("ago", { t: durationText(ms) });
}
