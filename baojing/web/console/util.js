// Small DOM helpers and the server's clock for the console (time and distance texts: /shared/time.js,
// /shared/distance.js).

import { h, append, clear, put } from "/shared/dom.js";
import { elapsedText } from "/shared/time.js";

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

// A ticking mm:ss element (the detail's tick() updates every [data-since]); "--:--" before it starts.
export function timerEl(kind, since, end, attrs = {}) {
  const dataset = { timer: kind };
  if (since !== null && end === null) dataset.since = since;
  const text = since === null ? "--:--" : elapsedText((end ?? now()) - since);
  return h("span", { ...attrs, class: `timer t-${kind}${since === null ? " none" : ""}${end !== null ? " ended" : ""}`,
    dataset }, text);
}
