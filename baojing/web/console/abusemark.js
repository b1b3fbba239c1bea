// "Mark abusive" on a caller in the incident panel (菏泽's blacklist, docs/security.md): the
// call-taker marks the alarm's number (or the phone it came from) with a reason; later alarms from
// it open one priority step lower with that reason shown, never hidden or delayed. The server
// audits the mark (POST /api/alarms/{id}/abuse-mark). Also says on an alarm that came in lowered
// why it was lowered. Its own small state per alarm, so the panel's template only places it.
import { html, nothing } from "/vendor/lit-html/lit-html.js";
import { post } from "/shared/api.js";
import { t, words, errorText } from "/shared/i18n.js";

words({
  zh: {
    am_open: "标记为骚扰",
    am_target: "标记对象",
    am_phone: "这个号码",
    am_device: "这部手机",
    am_reason: "原因（必填，会显示在以后的报警上）",
    am_submit: "确认标记",
    am_cancel: "取消",
    am_reason_needed: "请填写标记原因",
    am_done: "已标记：以后来自{w}的报警优先级降一级并显示原因：{r}。本条报警不变。",
  },
  en: {
    am_open: "Mark abusive",
    am_target: "Mark",
    am_phone: "this number",
    am_device: "this phone",
    am_reason: "Reason (required; shown on later alarms)",
    am_submit: "Mark",
    am_cancel: "Cancel",
    am_reason_needed: "Give a reason for the mark",
    am_done: "Marked: later alarms from {w} open one priority step lower, showing: {r}. This alarm is unchanged.",
  },
});

const REASON_MAX = 200;  // as the server's (alarms/abuse_api.py)
const state = new Map();  // alarm id -> {open, target, reason, busy, error, done}

function of(id) {
  if (!state.has(id)) state.set(id, { open: false, target: "phone", reason: "", busy: false, error: null, done: null });
  return state.get(id);
}

async function submit(a, s, redraw) {
  const reason = s.reason.trim();
  s.error = reason ? null : t("am_reason_needed");
  if (!reason) return redraw();
  s.busy = true;
  redraw();
  try {
    const m = await post(`/api/alarms/${a.id}/abuse-mark`, { target: s.target, reason });
    Object.assign(s, { open: false, done: { target: m.kind, reason: m.reason }, reason: "" });
  } catch (err) {
    s.error = errorText(err);
  }
  s.busy = false;
  redraw();
}

// The lowered alarm's reason, and the button with its reason form. redraw: ask the panel for a frame.
export function abuseMarkTpl(a, redraw) {
  const s = of(a.id);
  const marked = a.abuse && a.abuse.marked;
  return html`${marked ? html`<div class="am-marked" data-testid="detail-abuse-marked">${
    t("abuse_marked", { r: marked.reason })}</div>` : nothing}
    ${s.done ? html`<div class="am-done" data-testid="abuse-mark-done" role="status">${
      t("am_done", { w: t(s.done.target === "device" ? "am_device" : "am_phone"), r: s.done.reason })}</div>` : nothing}
    ${s.open ? html`<form class="am-form" data-testid="abuse-mark-form" @submit=${(e) => { e.preventDefault(); submit(a, s, redraw); }}>
        <label>${t("am_target")} <select data-testid="abuse-mark-target" .value=${s.target}
          @change=${(e) => { s.target = e.target.value; }}>
          ${a.phone ? html`<option value="phone">${t("am_phone")}</option>` : nothing}
          <option value="device">${t("am_device")}</option></select></label>
        <input type="text" data-testid="abuse-mark-reason" maxlength=${REASON_MAX} placeholder=${t("am_reason")}
          aria-label=${t("am_reason")} .value=${s.reason} @input=${(e) => { s.reason = e.target.value; }}>
        ${s.error ? html`<div class="d-error" data-testid="abuse-mark-error" role="alert">${s.error}</div>` : nothing}
        <div class="am-actions"><button type="submit" class="btn btn-danger" data-testid="abuse-mark-submit"
          ?disabled=${s.busy}>${t("am_submit")}</button><button type="button" class="btn" data-testid="abuse-mark-cancel"
          @click=${() => { Object.assign(s, { open: false, error: null }); redraw(); }}>${t("am_cancel")}</button></div>
      </form>`
    : html`<button type="button" class="btn btn-small am-open" data-testid="abuse-mark-open"
        @click=${() => { Object.assign(s, { open: true, target: a.phone ? "phone" : "device", done: null }); redraw(); }}>${
        t("am_open")}</button>`}`;
}
