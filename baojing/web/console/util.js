// Small DOM and time helpers for the console.

import { h, append, clear, put } from "/shared/dom.js";

export { h, append, clear, put };


// A phone number grouped 3-4-4 for reading aloud. The groups are spaced with CSS, so the text
// (and what tests read) stays the plain digits.
export function phoneEl(phone, attrs = {}) {
  const p = String(phone || "");
  const m = /^(\+?86)?(1\d{2})(\d{4})(\d{4})$/.exec(p);
  if (!m) return h("span", { class: "phone", ...attrs }, p);
  return h("span", { class: "phone", ...attrs },
    m[1] ? h("span", { class: "pg" }, m[1]) : null,
    h("span", { class: "pg" }, m[2]), h("span", { class: "pg" }, m[3]), h("span", { class: "pg" }, m[4]));
}

// ---- time -------------------------------------------------------------------------------------
// The server's clock is the reference for "time since received": the offset is estimated from
// the Date header of API answers (1 s resolution, so it is applied only when clearly off).
let clockOffset = 0;
const samples = [];

export function noteServerDate(header) {
  const t = Date.parse(header || "");
  if (!Number.isFinite(t)) return;
  samples.push(t + 500 - Date.now());
  if (samples.length > 7) samples.shift();
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  clockOffset = Math.abs(median) > 1500 ? median : 0;
}

export function now() {
  return Date.now() + clockOffset;
}

// Datetimes from the API are ISO 8601 in UTC; a value without a zone is read as UTC too.
export function parseTime(s) {
  if (!s) return null;
  if (s instanceof Date) return s.getTime();
  const str = String(s);
  const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(str) ? str : str + "Z";
  const t = Date.parse(zoned);
  return Number.isFinite(t) ? t : null;
}

const pad = (n) => String(n).padStart(2, "0");

// 157 s -> "02:37"; 3757 s -> "1:02:37"
export function fmtAge(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return hh ? `${hh}:${pad(mm)}:${pad(ss)}` : `${pad(mm)}:${pad(ss)}`;
}

export function fmtClock(t) {
  if (t === null || t === undefined) return "";
  const d = new Date(typeof t === "number" ? t : parseTime(t));
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDateTime(t) {
  if (t === null || t === undefined) return "";
  const d = new Date(typeof t === "number" ? t : parseTime(t));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtClock(d.getTime())}`;
}

// Great-circle distance in metres (for ranking merge candidates).
export function distanceM(a, b) {
  const R = 6371008.8, rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
  const x = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(x));
}

// A ticking mm:ss element (the detail's tick() updates every [data-since]); "--:--" before it starts.
export function timerEl(kind, since, end, attrs = {}) {
  const dataset = { timer: kind };
  if (since !== null && end === null) dataset.since = since;
  const text = since === null ? "--:--" : fmtAge((end ?? now()) - since);
  return h("span", { ...attrs, class: `timer t-${kind}${since === null ? " none" : ""}${end !== null ? " ended" : ""}`,
    dataset }, text);
}
