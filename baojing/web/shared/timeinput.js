// A date and time a person typed, read back: the console's forms (a bulletin's expiry). Apart from
// time.js, which every page loads, because the caller's page, whose every byte crosses a phone's
// link, never reads a typed date.

// What a person typed back in dateTimeText's form (local time, seconds optional): "2026-12-01 18:00"
// -> epoch ms; anything else, or a day that is not in the calendar (02-30), -> null.
export function parseDateTimeText(text) {
  const m = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/.exec(String(text ?? ""));
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x || 0));
  const v = new Date(y, mo - 1, d, h, mi, s);
  if (v.getFullYear() !== y || v.getMonth() !== mo - 1 || v.getDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return v.getTime();
}
