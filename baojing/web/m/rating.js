// The caller's rating of a closed alarm (stars and a comment). Loaded only when a closed alarm is on
// screen, so the first load does not carry it.
import { t, words } from "../shared/lang.js";
import { h, setText } from "../shared/dom.js";

words({
  zh: {
    rateTitle: "您对这次处警满意吗？",
    rateStar: "{n} 星",
    rateComment: "想说的话（可不填）",
    rateSubmit: "提交评价",
    ratePick: "请先点星星打分。",
    rateSending: "评价正在发送…",
    rateDone: "您的评价：{stars}",
    rateThanks: "谢谢您的评价。",
  },
  en: {
    rateTitle: "Were you satisfied with how the police handled it?",
    rateStar: "{n} stars",
    rateComment: "Comment (optional)",
    rateSubmit: "Send rating",
    ratePick: "Tap a star first.",
    rateSending: "Sending your rating…",
    rateDone: "Your rating: {stars}",
    rateThanks: "Thank you for your rating.",
  },
});

export function ratingView(a, { drafts, outbox, render }) {
  if (a.rating) {
    const stars = "★".repeat(a.rating.score) + "☆".repeat(5 - a.rating.score);
    return h("div", { class: "rated" },
      h("p", { "data-testid": "rating-done", "data-score": a.rating.score, text: t("rateDone", { stars }) }),
      a.rating.comment ? h("p", { class: "note", text: a.rating.comment }) : null,
      h("p", { class: "note", text: t("rateThanks") }));
  }
  if (outbox.items.some((i) => i.kind === "rating" && i.alarmId === a.id)) {
    return h("p", { class: "note", "data-testid": "rating-pending", text: t("rateSending") });
  }
  const d = drafts[a.id] || (drafts[a.id] = { score: 0, comment: "" });
  const starBtns = [1, 2, 3, 4, 5].map((n) => h("button", {
    type: "button", class: "star", role: "radio", "data-testid": `rating-star-${n}`, "data-score": n,
    "aria-label": t("rateStar", { n }), "aria-checked": String(d.score === n), text: "★",
  }));
  const paint = () => starBtns.forEach((b, i) => {
    b.classList.toggle("on", i < d.score);
    b.setAttribute("aria-checked", String(d.score === i + 1));
  });
  paint();
  const err = h("p", { class: "error", role: "alert", text: d.error || "" });
  err.hidden = !d.error;
  const comment = h("textarea", {
    rows: 2, maxlength: 500, "data-testid": "rating-comment", "aria-label": t("rateComment"), placeholder: t("rateComment"),
    oninput: (e) => { d.comment = e.target.value; },
  });
  comment.value = d.comment;
  return h("div", { class: "rating", "data-testid": "rating" },
    h("p", { class: "rate-title", text: t("rateTitle") }),
    h("div", {
      class: "stars", role: "radiogroup", "aria-label": t("rateTitle"),
      onclick: (e) => {
        const b = e.target.closest("button[data-score]");
        if (!b) return;
        d.score = Number(b.dataset.score);
        d.error = "";
        err.hidden = true;
        paint();
      },
    }, starBtns),
    comment,
    h("button", {
      type: "button", class: "btn primary", "data-testid": "rating-submit", text: t("rateSubmit"),
      onclick: () => {
        if (!d.score) {
          d.error = t("ratePick");
          setText(err, d.error);
          err.hidden = false;
          return;
        }
        d.error = "";
        const c = d.comment.trim();
        outbox.add("rating", { alarmId: a.id, body: c ? { score: d.score, comment: c } : { score: d.score } });
        render();
      },
    }),
    err);
}
