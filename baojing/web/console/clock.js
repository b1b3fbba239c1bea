// The server's clock on the console: "time since received" is counted from it, not from this
// machine's. The offset is estimated from the Date header of API answers (1 s resolution, so it is
// applied only when clearly off).
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
