// A text box with a length limit says so as the limit nears instead of silently stopping: "38/40",
// and at the limit "最多 40 个字" (the server refuses longer text too, in both languages).
import { t, words, onLang } from "./lang.js";

words({
  zh: { len_count: "{n}/{max}", len_full: "已达上限：最多 {max} 个字" },
  en: { len_count: "{n}/{max}", len_full: "Limit reached: at most {max} characters" },
});

// Shown from this share of the limit on.
const SHOW_FROM = 0.8;

export const lengthText = (n, max) => t(n < max ? "len_count" : "len_full", { n, max });

export function watchLength(input) {
  const max = Number(input.getAttribute("maxlength"));
  if (!max || input.dataset.lengthWatched) return null;
  input.dataset.lengthWatched = "1";
  const out = document.createElement("div");
  out.className = "len-count";
  out.setAttribute("aria-live", "polite");
  if (input.dataset.testid) out.dataset.testid = `${input.dataset.testid}-count`;
  input.after(out);
  const update = () => {
    const n = input.value.length;
    out.hidden = n < max * SHOW_FROM;
    out.classList.toggle("full", n >= max);
    out.textContent = lengthText(n, max);
  };
  input.addEventListener("input", update);
  onLang(update);
  update();
  return update;
}
