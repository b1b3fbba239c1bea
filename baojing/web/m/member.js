// Key-unit members (重点单位人员) on the caller's page: login by phone + SMS code, the unit's red
// one-tap button (3-second countdown with a big cancel), follow-up text, photos and cancelling a
// false alarm, and police bulletins (协查/预警通报) with a sound, acknowledge and "发现目标".
// Loaded only on request (the member link, or a member who logged in before): callers never pay
// for it. The alarm itself goes through the page's outbox (app.js `raise`), so offline it waits
// with its idempotency key like any alarm. Contract: docs/api.md ("Key units").
//
// Hooks for the browser tests: window.baojingMember = {state, countdown, tones}
// data-testid: member-panel (data-state login|member), member-phone, member-code-send, member-code,
//   member-login, member-error, member-unit (select), onetap-button, onetap-countdown (data-left),
//   onetap-cancel, onetap-received, onetap-note, onetap-note-send, onetap-photo, onetap-false,
//   onetap-false-reason, bulletin (data-id, data-status, data-acked), bulletin-ack, bulletin-found,
//   bulletin-found-photo (file input), bulletin-found-photo-state (data-state sending|sent|error,
//   data-count), member-logout, member-sound
import { words, t, getLang } from "/shared/lang.js";
import { h, put } from "/shared/dom.js";
import { initSound, unlock, soundState, audioNow, sines, tone } from "/shared/audio.js";
import { api, uuid } from "./net.js";
import { fixBody } from "./locate.js";

words({
  zh: {
    mTitle: "重点单位人员", mLoginHint: "登记在重点单位名单上的手机号可登录，使用单位一键报警并接收警方通报。",
    mPhone: "手机号", mSendCode: "获取验证码", mResend: "{s} 秒后可重新获取", mCode: "短信验证码", mLogin: "登录",
    mCodeSent: "验证码已发送至 {to}，5 分钟内有效", mClose: "关闭", mLogout: "退出登录", mUnit: "单位",
    mOneTap: "一键报警", mOneTapSub: "按下后 3 秒发出，可取消", mCountdown: "{s} 秒后发出报警",
    mCancel: "取消", mReceived: "✓ 指挥中心已收到", mSending: "正在发送…无网络时会自动重发",
    mNote: "补充情况", mNoteSend: "发送补充", mPhoto: "添加照片", mFalse: "误报撤销", mFalseReason: "撤销原因（必填）",
    mFalseSend: "确认撤销", mCancelled: "已撤销：{r}", mNoteSent: "已发送", mBulletins: "警方通报",
    mAck: "确认收到", mAcked: "✓ 已确认", mFound: "发现目标", mFoundSent: "✓ 已报告发现目标，警方正在赶来",
    mFoundConfirm: "确认发现目标？将立即向 110 报警并发送您的位置。", mClosed: "已解除", mExpires: "有效至 {t}",
    mSubject: "查找/拦截", mSoundOff: "🔇 点此开启通报提示音", mNoBulletins: "暂无通报", mOffRoster: "",
    mErrNetwork: "网络不通，请稍后再试", mFoundPhoto: "拍照/选照片发给警方", mPhotoSending: "正在发送照片…",
    mPhotosSent: "✓ 已发送 {n} 张照片，可继续添加",
  },
  en: {
    mTitle: "Key-unit member", mLoginHint: "Numbers on a key unit's roster can log in for the unit's one-tap alarm and police bulletins.",
    mPhone: "Mobile number", mSendCode: "Send code", mResend: "Send again in {s} s", mCode: "SMS code", mLogin: "Log in",
    mCodeSent: "Code sent to {to}, valid for 5 minutes", mClose: "Close", mLogout: "Log out", mUnit: "Unit",
    mOneTap: "One-tap alarm", mOneTapSub: "Goes 3 s after the press; you can cancel", mCountdown: "Sending in {s} s",
    mCancel: "Cancel", mReceived: "✓ The command centre has it", mSending: "Sending… it retries by itself when offline",
    mNote: "Add details", mNoteSend: "Send details", mPhoto: "Add a photo", mFalse: "False alarm: cancel",
    mFalseReason: "Reason (required)", mFalseSend: "Cancel the alarm", mCancelled: "Cancelled: {r}", mNoteSent: "Sent",
    mBulletins: "Police bulletins", mAck: "Acknowledge", mAcked: "✓ Acknowledged", mFound: "Target found",
    mFoundSent: "✓ Reported as found; the police are coming", mFoundConfirm: "Report the target as found? This raises an alarm with your position now.",
    mClosed: "Closed", mExpires: "Valid until {t}", mSubject: "Look for / stop", mSoundOff: "🔇 Tap to turn bulletin sounds on",
    mNoBulletins: "No bulletins", mOffRoster: "", mErrNetwork: "No network; try again shortly",
    mFoundPhoto: "Take or pick a photo for the police", mPhotoSending: "Sending the photo…",
    mPhotosSent: "✓ {n} photo(s) sent; you can add more",
  },
});

const COUNTDOWN_S = 3;
const FIX_WAIT_MS = 1500;
// A shrunk photo is a few hundred KB: two minutes covers a weak signal (other calls give up after 12 s).
const PHOTO_TIMEOUT_MS = 120_000;
let app = null;           // hooks from app.js: firstFix, render, outbox, saveMine, mine, reconnect
let root = null;
const S = { mode: "login", me: null, unitId: null, bulletins: new Map(), alarms: [], error: "", codeSentTo: "",
            resendAt: 0, countdown: null, sent: null, tones: 0, noteState: "", foundPhotos: new Map() };

function message(r) {
  if (!r.status) return t("mErrNetwork");
  const d = r.data || {};
  // A refused field says what is wrong with it ("Enter a phone number"), which the general
  // "the request is invalid" does not.
  const e = (d.errors && d.errors[0]) || d;
  const m = getLang() === "en" ? e.message_en || d.message_en : e.message_zh || d.message_zh;
  return m || `${r.status}`;
}

function remember(on) {
  try { on ? localStorage.setItem("bj.member", "true") : localStorage.removeItem("bj.member"); } catch { /* private mode */ }
}

// A bulletin's arrival: a three-note chime, distinct from the caller's page sounds, plus vibration.
function chime() {
  if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  if (soundState() !== "on") return false;
  const t0 = audioNow() + 0.02;
  [0, 0.35, 0.7].forEach((d, i) => tone(t0 + d, 0.28, [880, 1175, 1397][i], 0.22, 3000));
  sines(t0 + 1.05, 0.5, [880, 1320], 0.12);
  S.tones += 1;
  return true;
}

async function loadMe() {
  const r = await api("GET", "/api/member/me");
  if (r.ok) {
    S.mode = "member";
    S.me = r.data.member;
    S.alarms = r.data.alarms || [];
    if (!S.me.units.some((u) => u.id === S.unitId)) S.unitId = S.me.units[0] ? S.me.units[0].id : null;
    for (const b of r.data.bulletins || []) S.bulletins.set(b.id, b);
    remember(true);
    for (const b of S.bulletins.values()) receipt(b, "delivered");
  } else if (r.status === 401 || r.status === 403) {
    const changed = S.mode !== "login" || r.status === 403;
    S.mode = "login";
    S.me = null;
    if (r.status === 403) S.error = message(r);
    remember(false);
    if (!changed) return;  // still the login form the member may be typing into
  }
  render();
}

// The desk watches these receipts: one lost to a dropped connection or a busy server is tried again
// (2 s, 4 s, ... up to 30 s apart) for as long as the bulletin is open and the receipt not yet stored.
const receiptsSending = new Set();

function receipt(b, stage, retry = 0) {
  const now = S.bulletins.get(b.id) || b;
  const field = { delivered: "delivered_at", read: "read_at", ack: "acked_at" }[stage];
  const key = `${b.id}:${stage}`;
  if (!retry && receiptsSending.has(key)) return;  // already on its way (or waiting to try again)
  if ((now.receipt || {})[field] || now.status !== "open" || S.mode !== "member") {
    receiptsSending.delete(key);
    return;
  }
  receiptsSending.add(key);
  api("POST", `/api/member/bulletins/${b.id}/${stage}`).then((r) => {
    if (r.ok) {
      receiptsSending.delete(key);
      S.bulletins.set(b.id, r.data);
      render();
    } else if (r.status === 0 || r.status === 429 || r.status >= 500) {
      setTimeout(() => receipt(b, stage, retry + 1), Math.min(2000 * 2 ** retry, 30000));
    } else receiptsSending.delete(key);  // refused (logged out, not a recipient): trying again changes nothing
  });
}

// ---------- login ----------

async function sendCode() {
  const phone = root.querySelector("[data-testid=member-phone]").value.trim();
  S.error = "";
  const r = await api("POST", "/api/member/code", { phone });
  if (r.ok) {
    S.codeSentTo = r.data.sent_to;
    S.resendAt = Date.now() + r.data.resend_after_s * 1000;
    S.phone = phone;
  } else S.error = message(r);
  render();
  root.querySelector("[data-testid=member-code]")?.focus();
}

async function login() {
  unlock(); // a gesture: bulletins that come later can sound
  const phone = root.querySelector("[data-testid=member-phone]").value.trim();
  const code = root.querySelector("[data-testid=member-code]").value.trim();
  const r = await api("POST", "/api/member/login", { phone, code });
  if (!r.ok) {
    S.error = message(r);
    render();
    return;
  }
  S.error = "";
  await loadMe();
  app.reconnect(); // the live socket now carries this member's bulletins too
}

async function logout() {
  await api("POST", "/api/member/logout");
  remember(false);
  S.mode = "login";
  S.me = null;
  S.bulletins.clear();
  app.reconnect();
  render();
}

// ---------- one-tap ----------

function press() {
  unlock();
  if (S.countdown) return;
  const unitId = S.unitId;
  S.countdown = { left: COUNTDOWN_S, unitId, timer: setInterval(tick, 1000) };
  if (navigator.vibrate) navigator.vibrate(200);
  render();
}

function tick() {
  const c = S.countdown;
  if (!c) return;
  c.left -= 1;
  if (c.left > 0) return render();
  clearInterval(c.timer);
  S.countdown = null;
  fire(c.unitId);
}

function cancelCountdown() {
  if (!S.countdown) return;
  clearInterval(S.countdown.timer);
  S.countdown = null;
  render();
}

async function fire(unitId) {
  const key = uuid();
  S.sent = { key, unitId, rec: null, alarm: null };
  render();
  // A fix already known goes at once; a phone with none sends the unit's registered position.
  const fix = await Promise.race([app.firstFix(), new Promise((r) => setTimeout(() => r(null), FIX_WAIT_MS))]);
  const location = fixBody(fix);
  // Into the page's outbox like any alarm: offline it waits there with its idempotency key.
  const rec = { key, at: Date.now(), queued: true, id: null };
  app.mine().unshift(rec);
  app.saveMine();
  app.outbox.add("alarm", { key, path: "/api/member/alarms", body: { idempotency_key: key, unit_id: unitId, location } });
  S.sent.rec = rec;
  render();
}

// app.js tells us when the outbox got an answer for our alarm.
export function onSent(item, res) {
  if (!S.sent || item.key !== S.sent.key) return;
  if (res.ok && res.data) S.sent.alarm = res.data.keyunit_alarm;
  else S.error = message(res);
  render();
}

async function addNote() {
  const box = root.querySelector("[data-testid=onetap-note]");
  const text = box.value.trim();
  if (!text || !S.sent?.alarm) return;
  const r = await api("POST", `/api/member/alarms/${S.sent.alarm.id}/notes`, { text });
  if (r.ok) { S.sent.alarm = r.data; box.value = ""; S.noteState = t("mNoteSent"); } else S.noteState = message(r);
  render();
}

// A photo for one of the member's own alarms (one-tap or "found"), shrunk on the phone first as the
// quick-handling page does (m/traffic/upload.js, fetched only when a photo is picked): a 3–5 MB
// camera photo becomes a few hundred KB, which is what decides the wait on a weak signal.
async function sendPhoto(alarmId, file) {
  const { shrink } = await import("./traffic/upload.js");
  const { blob, shrunk } = await shrink(file);
  const form = new FormData();
  form.append("file", blob, shrunk ? "photo.jpg" : file.name);
  return api("POST", `/api/member/alarms/${alarmId}/photos`, form, PHOTO_TIMEOUT_MS);
}

async function addPhoto(ev) {
  const file = ev.target.files[0];
  if (!file || !S.sent?.alarm) return;
  const r = await sendPhoto(S.sent.alarm.id, file);
  if (r.ok) { S.sent.alarm = r.data; S.noteState = t("mNoteSent"); } else S.noteState = message(r);
  render();
}

async function cancelAlarm() {
  const reason = root.querySelector("[data-testid=onetap-false-reason]").value.trim();
  if (!reason || !S.sent?.alarm) { S.noteState = t("mFalseReason"); return render(); }
  const r = await api("POST", `/api/member/alarms/${S.sent.alarm.id}/cancel`, { reason });
  if (r.ok) S.sent.alarm = r.data; else S.noteState = message(r);
  render();
}

// ---------- bulletins ----------

async function found(b) {
  if (!window.confirm(t("mFoundConfirm"))) return;
  const fix = await Promise.race([app.firstFix(), new Promise((r) => setTimeout(() => r(null), FIX_WAIT_MS))]);
  const location = fixBody(fix);
  const r = await api("POST", `/api/member/bulletins/${b.id}/found`, { idempotency_key: uuid(), location });
  if (r.ok) {
    b.receipt = { ...(b.receipt || {}), found_alarm_id: r.data.keyunit_alarm.id, acked_at: b.receipt?.acked_at || new Date().toISOString() };
    S.bulletins.set(b.id, { ...b });
  } else S.error = message(r);
  render();
}

async function addFoundPhoto(b, ev) {
  const file = ev.target.files[0];
  const alarmId = b.receipt?.found_alarm_id;
  if (!file || !alarmId) return;
  ev.target.value = ""; // the same photo may be picked again after an error
  const was = S.foundPhotos.get(b.id) || { count: 0 };
  S.foundPhotos.set(b.id, { ...was, state: "sending", error: "" });
  render();
  const r = await sendPhoto(alarmId, file);
  S.foundPhotos.set(b.id, r.ok ? { state: "sent", count: r.data.photos.length, error: "" }
                               : { ...was, state: "error", error: message(r) });
  render();
}

function foundPhotoView(b) {
  const p = S.foundPhotos.get(b.id) || { state: "", count: 0 };
  const line = p.state === "sending" ? t("mPhotoSending") : p.state === "error" ? p.error
    : p.count ? t("mPhotosSent", { n: p.count }) : "";
  return [
    h("label", { class: "btn ghost m-file" }, t("mFoundPhoto"),
      h("input", { type: "file", accept: "image/*", capture: "environment", "data-testid": "bulletin-found-photo",
                   disabled: p.state === "sending", onchange: (ev) => addFoundPhoto(b, ev) })),
    line ? h("p", { class: p.state === "error" ? "error" : "note", role: p.state === "error" ? "alert" : null,
                    "data-testid": "bulletin-found-photo-state", "data-state": p.state, "data-count": p.count }, line) : null,
  ];
}

export function onEvent(name, data) {
  if (name === "bulletin.received" || name === "bulletin.closed") {
    const had = S.bulletins.get(data.id);
    S.bulletins.set(data.id, data);
    if (name === "bulletin.received" && (!had || !(had.receipt || {}).acked_at)) chime();
    receipt(data, "delivered");
    render();
  } else if (name === "member.alarm" && S.sent?.alarm && data.id === S.sent.alarm.id) {
    S.sent.alarm = data;
    render();
  }
}

// ---------- view ----------

function loginView() {
  const wait = Math.ceil((S.resendAt - Date.now()) / 1000);
  return [
    h("h2", {}, t("mTitle")),
    h("p", { class: "note" }, t("mLoginHint")),
    h("label", { for: "m-phone" }, t("mPhone")),
    h("input", { id: "m-phone", type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: "32",
                 "data-testid": "member-phone", value: S.phone || "" }),
    h("button", { class: "btn ghost", type: "button", "data-testid": "member-code-send", disabled: wait > 0,
                  onclick: sendCode }, wait > 0 ? t("mResend", { s: wait }) : t("mSendCode")),
    S.codeSentTo ? h("p", { class: "note", "data-testid": "member-code-sent" }, t("mCodeSent", { to: S.codeSentTo })) : null,
    h("label", { for: "m-code" }, t("mCode")),
    h("input", { id: "m-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", "data-testid": "member-code" }),
    h("button", { class: "btn primary", type: "button", "data-testid": "member-login", onclick: login }, t("mLogin")),
  ];
}

function alarmView() {
  const s = S.sent;
  if (!s) return null;
  const acked = s.rec && s.rec.ackAt;
  const a = s.alarm;
  const kids = [h("p", { class: acked ? "m-ok" : "m-wait", "data-testid": acked ? "onetap-received" : "onetap-sending" },
                  acked ? t("mReceived") : t("mSending"))];
  if (a && a.status === "cancelled") kids.push(h("p", { class: "note", "data-testid": "onetap-cancelled" }, t("mCancelled", { r: a.cancel_reason })));
  else if (a) {
    kids.push(
      h("textarea", { rows: "2", maxlength: "500", "data-testid": "onetap-note", placeholder: t("mNote") }),
      h("div", { class: "m-row" },
        h("button", { class: "btn ghost", type: "button", "data-testid": "onetap-note-send", onclick: addNote }, t("mNoteSend")),
        h("label", { class: "btn ghost m-file" }, t("mPhoto"),
          h("input", { type: "file", accept: "image/*", capture: "environment", "data-testid": "onetap-photo", onchange: addPhoto }))),
      h("details", { class: "m-false" }, h("summary", {}, t("mFalse")),
        h("input", { maxlength: "200", "data-testid": "onetap-false-reason", placeholder: t("mFalseReason") }),
        h("button", { class: "btn ghost", type: "button", "data-testid": "onetap-false", onclick: cancelAlarm }, t("mFalseSend"))));
    for (const n of a.notes || []) kids.push(h("p", { class: "note" }, "· " + n.text));
    if (a.photos?.length) kids.push(h("p", { class: "note" }, `📷 × ${a.photos.length}`));
  }
  if (S.noteState) kids.push(h("p", { class: "note" }, S.noteState));
  return h("div", { class: "m-alarm" }, ...kids);
}

function bulletinView(b) {
  const rc = b.receipt || {};
  // "1 Dec, 12:14", not "01/12": a day and month order nobody has to guess.
  const time = (v) => new Date(v).toLocaleString(getLang() === "en" ? "en-GB" : "zh-CN",
    { month: getLang() === "en" ? "short" : "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
  const urgency = getLang() === "en" ? b.urgency_en : b.urgency_zh;
  return h("article", { class: `m-bulletin u-${b.urgency}${b.status !== "open" ? " closed" : ""}`, "data-testid": "bulletin",
                        "data-id": b.id, "data-status": b.status, "data-acked": rc.acked_at ? "true" : "false" },
    h("header", {}, h("b", { class: "m-urgency" }, b.status !== "open" ? t("mClosed") : urgency), " ", h("strong", {}, b.title)),
    h("p", { class: "m-subject" }, h("b", {}, t("mSubject") + "："), b.subject),
    h("p", {}, b.text),
    ...(b.photos || []).map((p) => h("img", { src: p.url, alt: "", class: "m-photo", loading: "lazy" })),
    h("p", { class: "note" }, t("mExpires", { t: time(b.expires_at) })),
    b.status === "open" ? h("div", { class: "m-row" },
      rc.acked_at ? h("span", { class: "m-ok" }, t("mAcked"))
        : h("button", { class: "btn primary", type: "button", "data-testid": "bulletin-ack", onclick: () => receipt(b, "ack") }, t("mAck")),
      rc.found_alarm_id ? h("span", { class: "m-ok", "data-testid": "bulletin-found-sent" }, t("mFoundSent"))
        : h("button", { class: "btn alarm-lite", type: "button", "data-testid": "bulletin-found", onclick: () => found(b) }, t("mFound")))
      : null,
    b.status === "open" && rc.found_alarm_id ? h("div", { class: "m-row" }, ...foundPhotoView(b)) : null);
}

function memberView() {
  const units = S.me.units;
  const unit = units.find((u) => u.id === S.unitId) || units[0];
  const c = S.countdown;
  const kids = [
    h("div", { class: "m-head" }, h("h2", {}, `${t("mTitle")} · `, h("span", { class: "m-name" }, S.me.name)),
      h("button", { class: "linkish", type: "button", "data-testid": "member-logout", onclick: logout }, t("mLogout"))),
    units.length > 1
      ? h("label", { class: "m-unit" }, t("mUnit") + " ",
          h("select", { "data-testid": "member-unit", onchange: (e) => { S.unitId = +e.target.value; render(); } },
            ...units.map((u) => h("option", { value: u.id, selected: u.id === unit.id }, `${u.name}（${u.role}）`))))
      : h("p", { class: "m-unit" }, `${unit.name}（${unit.role}）`),
    c ? h("div", { class: "m-countdown", "data-testid": "onetap-countdown", "data-left": c.left, role: "alert" },
          h("p", {}, t("mCountdown", { s: c.left })),
          h("button", { class: "btn m-cancel", type: "button", "data-testid": "onetap-cancel", onclick: cancelCountdown }, t("mCancel")))
      : h("button", { class: "btn alarm m-onetap", type: "button", "data-testid": "onetap-button", "data-unit-id": unit.id, onclick: press },
          h("span", { class: "c-main" }, t("mOneTap")), h("span", { class: "c-sub" }, `${unit.name} · ${t("mOneTapSub")}`)),
    alarmView(),
  ];
  if (soundState() !== "on") {
    kids.push(h("button", { class: "btn ghost", type: "button", "data-testid": "member-sound", onclick: () => unlock().then(render) }, t("mSoundOff")));
  }
  const list = [...S.bulletins.values()].sort((a, b) => b.id - a.id);
  kids.push(h("h3", {}, t("mBulletins")), ...(list.length ? list.map(bulletinView) : [h("p", { class: "note" }, t("mNoBulletins"))]));
  return kids;
}

export function render() {
  if (!root) return;
  root.hidden = false;
  root.dataset.state = S.mode;
  // A logged-in member would wonder why the page still offers to log them in.
  const opener = document.getElementById("member-open");
  if (opener) opener.hidden = S.mode === "member";
  const kids = S.mode === "member" && S.me ? memberView() : loginView();
  if (S.error) kids.push(h("p", { class: "error", role: "alert", "data-testid": "member-error" }, S.error));
  if (S.mode !== "member") kids.push(h("button", { class: "linkish", type: "button", onclick: () => { root.hidden = true; } }, t("mClose")));
  // Keep what the member is typing across re-renders (the resend countdown draws every second
  // while they type the code): the text, and the focus and caret, or a phone's keyboard closes.
  const typing = {};
  for (const el of root.querySelectorAll("input[data-testid], textarea[data-testid]")) if (el.type !== "file") typing[el.dataset.testid] = el.value;
  const was = root.contains(document.activeElement) ? document.activeElement : null;
  const caret = was && was.dataset.testid && "selectionStart" in was ? [was.selectionStart, was.selectionEnd] : null;
  put(root, ...kids.filter(Boolean));
  for (const [id, v] of Object.entries(typing)) { const el = root.querySelector(`[data-testid=${id}]`); if (el) el.value = v; }
  const now = was && was.dataset.testid && root.querySelector(`[data-testid=${was.dataset.testid}]`);
  if (now) {
    now.focus({ preventScroll: true });
    if (caret && caret[0] !== null) try { now.setSelectionRange(caret[0], caret[1]); } catch { /* not a text field */ }
  }
  if (S.mode === "member" && document.visibilityState === "visible") {
    for (const b of S.bulletins.values()) if (b.receipt && b.receipt.delivered_at && !b.receipt.read_at) receipt(b, "read");
  }
}

export function start(hooks, { login: wantLogin } = {}) {
  app = hooks;
  root = document.getElementById("member");
  if (!document.querySelector("link[data-member-css]")) {
    document.head.append(h("link", { rel: "stylesheet", href: "/m/member.css", "data-member-css": "" }));
  }
  initSound();
  root.hidden = false;
  if (wantLogin) root.scrollIntoView({ block: "start" });
  render();
  loadMe();
  setInterval(() => { if (S.resendAt > Date.now() - 1500) render(); }, 1000);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") render(); });
  Object.defineProperty(window, "baojingMember", {
    configurable: true,
    value: {
      get state() { return JSON.parse(JSON.stringify({ mode: S.mode, me: S.me, bulletins: [...S.bulletins.values()], sent: S.sent && { key: S.sent.key, alarm: S.sent.alarm, acked: !!(S.sent.rec && S.sent.rec.ackAt) } })); },
      get tones() { return S.tones; },
    },
  });
}
