// The one language runtime of every page: the core (shared/lang.js: the language, words(), t,
// errorText, applyStatic, distanceText), and here the server's labels, durations and the words
// checks. Pages import this; the caller's page, whose every byte crosses a phone's link, only the core.
import { keysOf, lang, t, words } from "./lang.js";

export * from "./lang.js";

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

words({
  zh: { ago_s: "{n} 秒", ago_m: "{n} 分钟", ago_h: "{n} 小时", just_now: "刚刚", ago: "{t}前",
        dur_ms: "{m} 分 {s} 秒", dur_hm: "{h} 小时 {m} 分" },
  en: { ago_s: "{n} s", ago_m: "{n} min", ago_h: "{n} h", just_now: "just now", ago: "{t} ago",
        dur_ms: "{m} min {s} s", dur_hm: "{h} h {m} min" },
});

const pad2 = (n) => String(n).padStart(2, "0");

// 42_000 ms -> "42 秒"; "3 分钟"; "2 小时". exact: to the second, in words, never like a clock
// ("10:42" reads as a time of day): "42 秒", "10 分 42 秒", "1 小时 02 分" (a call's wait).
export function durationText(ms, { exact = false } = {}) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (exact) {
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h) return t("dur_hm", { h, m: pad2(m) });
    return m ? t("dur_ms", { m, s: pad2(s % 60) }) : t("ago_s", { n: s });
  }
  if (s < 120) return t("ago_s", { n: s });
  if (s < 7200) return t("ago_m", { n: Math.floor(s / 60) });
  return t("ago_h", { n: Math.floor(s / 3600) });
}

// "刚刚" / "3 分钟前"
export function agoText(ms) {
  return ms < 5000 ? t("just_now") : t("ago", { t: durationText(ms) });
}

// Every key registered in one language but not the other (a test fails on any).
export function missingKeys() {
  const zh = keysOf("zh"), en = keysOf("en");
  return { en: zh.filter((k) => !en.includes(k)), zh: en.filter((k) => !zh.includes(k)) };
}

// Every registered key (the page-words test checks each key a page uses is one of them).
export const registeredKeys = () => [...new Set([...keysOf("zh"), ...keysOf("en")])];
