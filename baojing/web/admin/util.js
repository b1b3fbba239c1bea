// Small helpers for the admin page; the DOM ones are shared.

import { h } from "/shared/dom.js";

export { h, clear, esc } from "/shared/dom.js";


// 41.57720001 -> "41.577200" (6 decimals: about 0.1 m)
export const fix6 = (x) => (Number.isFinite(x) ? x.toFixed(6).replace(/\.?0+$/, "") : "");

// Offer text as a file download (UTF-8 with a BOM, so Excel reads the Chinese correctly).
export function download(name, text, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob(["\ufeff", text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 1000);
}
