// Time as the API sends it and as people read it, for every page.

// Datetimes from the API are ISO 8601 in UTC; a value without a zone is read as UTC too.
// Numbers (epoch ms) and Dates pass through. Missing or unreadable: null.
export function parseTime(v) {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (v instanceof Date) return v.getTime();
  const s = String(v);
  const ms = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : s + "Z");
  return Number.isFinite(ms) ? ms : null;
}

const pad = (n) => String(n).padStart(2, "0");
const date = (v) => new Date(parseTime(v));

// "14:03:27" (local time)
export function clockText(v) {
  if (parseTime(v) === null) return "";
  const d = date(v);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "2026-12-01 14:03:27"
export function dateTimeText(v) {
  if (parseTime(v) === null) return "";
  const d = date(v);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clockText(v)}`;
}

// The clock alone today, with the month and day before it on any other day: "12-1 14:03:27".
export function whenText(v, today = Date.now()) {
  if (parseTime(v) === null) return "";
  const d = date(v);
  return d.toDateString() === new Date(today).toDateString() ? clockText(v) : `${d.getMonth() + 1}-${d.getDate()} ${clockText(v)}`;
}

// Time elapsed on a running timer: 157 s -> "02:37", 3757 s -> "1:02:37".
export function elapsedText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
