// The core of the one language runtime (shared/i18n.js adds the rest; the caller's page loads only
// this): one remembered language for the whole site. Each page registers its words with `words()`.

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

// For the words checks (i18n.js).
export const keysOf = (l) => Object.keys(DICT[l]);

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

// The server's bilingual error body in the current language, field messages after the main one
// (named: each after its field's name).
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

// Static texts: [data-i18n] (textContent), -ph (placeholder), -title, -aria (aria-label).
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

words({
  zh: { err_generic: "出错了，请重试", m: "{n} 米", km: "{n} 公里" },
  en: { err_generic: "Something went wrong, please try again", m: "{n} m", km: "{n} km" },
});

// 850 -> "850 米", 12_345 -> "12 公里"; beyond 100 m rounded to 10 m (a GPS fix is no finer).
export function distanceText(m) {
  if (m >= 1000) return t("km", { n: (m / 1000).toFixed(m >= 10000 ? 0 : 1) });
  return t("m", { n: m >= 100 ? Math.round(m / 10) * 10 : Math.round(m) });
}
