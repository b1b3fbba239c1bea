// Key units on the console (重点单位): the one-tap siren entries, each with the unit's profile
// (address, type, floor plans, contacts, owning station, nearest patrol units), sounding until a
// call-taker acknowledges it; the key-unit layer on the map; and the bulletins desk (协查/预警通报)
// with live receipts, re-notify, close and CAP export. A module of its own, started by a script tag
// in index.html, that waits for the console (window.baojing.ready) and keeps its own live feed, so
// the console's code needs no change; drawn with lit-html into #ku-root. Contract: docs/api.md
// ("Key units").
//
// Hooks for the browser tests: window.baojingKeyUnits = {alarms (Map id -> view), sirenRounds,
//   bulletins (Map id -> view with receipts once opened), layer (L.LayerGroup), areas (L.LayerGroup of
//   the bulletins' areas on the map)}
// data-testid: ku-siren-stack, ku-alarm (data-id, data-kind, data-siren, data-status), ku-ack,
//   ku-profile, ku-floorplan, ku-contact, ku-nearest, ku-notes, ku-bulletins-open, ku-bulletins,
//   ku-bulletin-form, ku-b-title, ku-b-text, ku-b-subject, ku-b-urgency, ku-b-expires, ku-b-kind (data-kind),
//   ku-b-district (data-id), ku-b-station (data-id), ku-b-area (data-points, data-drawing), ku-b-area-draw,
//   ku-b-area-undo, ku-b-area-clear, ku-b-area-done, ku-b-send, ku-b-error, ku-bulletin (data-id),
//   ku-receipts (data-acked, data-read, data-delivered, data-recipients), ku-receipt (data-phone,
//   data-state), ku-renotify, ku-close, ku-cap
import { connectLive } from "/shared/live.js";
import { get, post } from "/shared/api.js";
import { html, render as draw, nothing } from "/vendor/lit-html/lit-html.js";
import { repeat } from "/vendor/lit-html/directives/repeat.js";
import { words, t, pick, errorText, getLang, onLang } from "/shared/i18n.js";
import { playSiren, soundState } from "./sound.js";
import { drawArea, showAreas } from "./areadraw.js";
import { dateTimeText } from "/shared/time.js";
import { parseDateTimeText } from "/shared/timeinput.js";

words({
  zh: {
    kuOneTap: "一键报警", kuFound: "发现目标（通报回复）", kuAck: "确认接警 · 停止警报", kuAcked: "已确认 {who} {t}",
    kuAddress: "地址", kuStation: "管辖派出所", kuContacts: "安保联系人", kuHours: "开放时间", kuFloor: "平面图/照片",
    kuNearest: "最近警力", kuMember: "报警人", kuCancelled: "报警人已撤销：{r}", kuNotes: "补充情况", kuPhoneFix: "手机定位",
    kuUnitFix: "单位登记位置", kuBulletins: "协查通报", kuNew: "新建通报", kuTitle: "标题", kuText: "内容",
    kuSubject: "查找对象 / 拦截事项", kuUrgency: "紧急程度", kuExpires: "有效期至", kuKinds: "单位类型（不选为全部）",
    kuDistricts: "城区", kuStations: "派出所辖区", kuSend: "发送通报", kuReceipts: "送达 {d} · 已读 {r} · 确认 {a} / {n}",
    kuRenotify: "再次通知未确认", kuClose: "关闭通报", kuCap: "导出 CAP", kuClosed: "已关闭", kuStDelivered: "已送达",
    kuStRead: "已读", kuStAcked: "已确认", kuStFound: "发现目标", kuStSent: "已发送", kuHide: "收起", kuOpenMap: "查看",
    immediate: "特急", urgent: "紧急", normal: "一般", kuLayer: "重点单位",
    kuArea: "地图区域（可与辖区同时使用）", kuAreaDraw: "在地图上画区域", kuAreaHint: "请在左侧地图上依次点击区域的各个角",
    kuAreaPoints: "已画 {n} 个点", kuAreaUndo: "撤销上一点", kuAreaClear: "清除", kuAreaDone: "画好了", kuAreaMore: "继续画",
    kuAreaShort: "区域至少需要 3 个点（现在 {n} 个）：请继续在地图上点击，或点“清除”不用区域",
    kuAreaOf: "通报区域：{t}", kuFoundOf: "回复通报：{t}",
    kuMissing: "还没有填写：{f}。通报未发送。", kuExpiresForm: "年-月-日 时:分",
    kuExpiresBad: "“有效期至”请按 年-月-日 时:分 填写，例如 {e}。通报未发送。",
    kuExpiresPast: "“有效期至”已经过去，请填写将来的时间。通报未发送。",
  },
  en: {
    kuOneTap: "One-tap alarm", kuFound: "Target found (bulletin reply)", kuAck: "Acknowledge · stop the alert",
    kuAcked: "Acknowledged by {who} {t}", kuAddress: "Address", kuStation: "Owning station", kuContacts: "Security contacts",
    kuHours: "Opening hours", kuFloor: "Floor plans / photos", kuNearest: "Nearest units", kuMember: "Raised by",
    kuCancelled: "Cancelled by the member: {r}", kuNotes: "Details added", kuPhoneFix: "phone position",
    kuUnitFix: "unit's registered position", kuBulletins: "Bulletins", kuNew: "New bulletin", kuTitle: "Title",
    kuText: "Text", kuSubject: "Whom to look for / what to stop", kuUrgency: "Urgency", kuExpires: "Valid until",
    kuKinds: "Unit types (none: all)", kuDistricts: "Districts", kuStations: "Station jurisdictions", kuSend: "Send bulletin",
    kuReceipts: "Delivered {d} · read {r} · acknowledged {a} / {n}", kuRenotify: "Notify the rest again",
    kuClose: "Close bulletin", kuCap: "Export CAP", kuClosed: "Closed", kuStDelivered: "Delivered", kuStRead: "Read",
    kuStAcked: "Acknowledged", kuStFound: "Found", kuStSent: "Sent", kuHide: "Hide", kuOpenMap: "Show",
    immediate: "Immediate", urgent: "Urgent", normal: "Normal", kuLayer: "Key units",
    kuArea: "Area on the map (with or without jurisdictions)", kuAreaDraw: "Draw the area on the map",
    kuAreaHint: "Click the area's corners one after another on the map to the left", kuAreaPoints: "{n} points drawn",
    kuAreaUndo: "Undo last point", kuAreaClear: "Clear", kuAreaDone: "Done", kuAreaMore: "Add more points",
    kuAreaShort: "An area needs at least 3 points ({n} now): click more on the map, or Clear to send without an area",
    kuAreaOf: "Bulletin area: {t}", kuFoundOf: "In reply to the bulletin: {t}",
    kuMissing: "Not filled in yet: {f}. The bulletin was not sent.", kuExpiresForm: "YYYY-MM-DD hh:mm",
    kuExpiresBad: "Write “Valid until” as YYYY-MM-DD hh:mm, e.g. {e}. The bulletin was not sent.",
    kuExpiresPast: "“Valid until” has already passed: give a time still to come. The bulletin was not sent.",
  },
});

const KINDS = { school: ["学校", "School"], kindergarten: ["幼儿园", "Kindergarten"], company: ["企业", "Company"],
                bank: ["银行网点", "Bank branch"], hospital: ["医院", "Hospital"], market: ["市场", "Market"] };
const SIREN_EVERY_MS = 2600;
const S = { alarms: new Map(), bulletins: new Map(), open: null, drawer: false, config: null, units: [], sirenRounds: 0,
            myStation: null, layer: null, error: "", draw: null, area: [], areas: null, areasKey: "",
            // What the form lacks (checked here, not by the browser's own bubbles, which speak the
            // browser's language): field names, and "bad" or "past" for the expiry.
            missing: [], expires: null, areaShort: false };
let root;

const kindName = (k) => (KINDS[k] ? KINDS[k][getLang() === "en" ? 1 : 0] : k);
const clock = (v) => (v ? new Date(v).toLocaleTimeString(getLang() === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "");

// Sounds here: the owning station's consoles and the command centre's (no station).
const mine = (a) => S.myStation === null || S.myStation === undefined || a.station_id === S.myStation;

function sirenLoop() {
  const due = [...S.alarms.values()].some((a) => a.siren && mine(a));
  if (due && soundState() === "on" && playSiren()) S.sirenRounds += 1;
}

function alarmCard(a) {
  const u = a.unit;
  const files = u.files || [];
  const nearest = a.nearest_units || [];
  return html`<article class="ku-alarm${a.siren ? " sounding" : ""}" data-testid="ku-alarm" data-id=${a.id} data-kind=${a.kind}
    data-siren=${a.siren ? "true" : "false"} data-status=${a.status}>
    <header><b class="ku-badge">${a.kind === "found" ? t("kuFound") : t("kuOneTap")}</b> <strong>${u.name}</strong> · ${
      kindName(u.kind)} · ${clock(a.created_at)}</header>
    ${a.kind === "found" && S.bulletins.get(a.bulletin_id) ? html`<p class="ku-bref" data-testid="ku-found-of">${
      t("kuFoundOf", { t: S.bulletins.get(a.bulletin_id).title })}</p>` : nothing}
    ${a.status === "cancelled" ? html`<p class="ku-cancelled">${t("kuCancelled", { r: a.cancel_reason })}</p>` : nothing}
    <dl class="ku-profile" data-testid="ku-profile">
      <dt>${t("kuMember")}</dt><dd>${a.member.name} ${a.member.phone}</dd>
      <dt>${t("kuAddress")}</dt><dd>${u.address}（${a.position_from === "unit" ? t("kuUnitFix") : t("kuPhoneFix")}）</dd>
      <dt>${t("kuStation")}</dt><dd>${pick({ zh: u.station_name_zh, en: u.station_name_en }) || "—"}</dd>
      ${u.opening_hours ? html`<dt>${t("kuHours")}</dt><dd>${u.opening_hours}</dd>` : nothing}
      <dt>${t("kuContacts")}</dt><dd>${(u.contacts || []).map((c) => html`<a href="tel:${c.phone}" class="ku-contact"
        data-testid="ku-contact">${c.name}${c.title ? `（${c.title}）` : ""} ${c.phone}</a>`)}</dd>
      ${files.length ? html`<dt>${t("kuFloor")}</dt><dd>${files.map((f) => html`<a href=${f.url} target="_blank" rel="noopener"
        class="ku-file" data-testid="ku-floorplan">${f.mime === "application/pdf" ? `📄 ${f.name || "PDF"}`
        : html`<img src=${f.url} alt=${f.name || ""} class="ku-thumb">`}</a>`)}</dd>` : nothing}
      ${nearest.length ? html`<dt>${t("kuNearest")}</dt><dd data-testid="ku-nearest">${
        nearest.map((n) => `${n.call_sign} ${Math.round(n.distance_m)} m`).join("，")}</dd>` : nothing}
    </dl>
    ${a.notes?.length || a.photos?.length ? html`<div class="ku-notes" data-testid="ku-notes"><b>${t("kuNotes")}：</b>${
      (a.notes || []).map((n) => html`<p>${clock(n.at)} ${n.text}</p>`)}${(a.photos || []).map((p) => html`<a href=${p.url}
      target="_blank" rel="noopener"><img src=${p.url} alt="" class="ku-thumb"></a>`)}</div>` : nothing}
    ${a.siren ? html`<button class="btn ku-ack" type="button" data-testid="ku-ack" @click=${() => ack(a)}>${t("kuAck")}</button>`
      : html`<p class="ku-acked">${t("kuAcked", { who: a.acked_by?.display_name || "", t: clock(a.acked_at) })}<button
        class="btn btn-small" type="button" @click=${() => { a.hidden = true; render(); }}>${t("kuHide")}</button></p>`}
  </article>`;
}

async function ack(a) {
  try {
    const v = await post(`/api/keyunits/alarms/${a.id}/ack`);
    S.alarms.set(v.id, { ...v, hidden: false, justAcked: true });
  } catch (e) {
    S.error = errorText(e);
  }
  render();
}

function upsertAlarm(v) {
  const old = S.alarms.get(v.id);
  // On screen while it sounds, and for the call-taker who just acknowledged it until they close
  // it; an acknowledged one from before (a reload, another console) is not put back over the map.
  const hidden = v.siren ? false : old ? old.hidden || !old.siren && !old.justAcked : true;
  S.alarms.set(v.id, { ...v, hidden, justAcked: old ? old.justAcked : false });
  const w = window.baojing;
  if (v.siren && w && w.select && !old) w.select(v.incident_id);
}

// ---- bulletins ----

function receiptState(r) {
  if (r.found_alarm_id) return "found";
  if (r.acked_at) return "acked";
  if (r.read_at) return "read";
  if (r.delivered_at) return "delivered";
  return "sent";
}

const RECEIPT_WORDS = { sent: "kuStSent", delivered: "kuStDelivered", read: "kuStRead", acked: "kuStAcked", found: "kuStFound" };

function bulletinDetail(b) {
  const c = b.counts;
  const cap = html`<a class="btn" href="/api/bulletins/${b.id}/cap.xml" data-testid="ku-cap">${t("kuCap")}</a>`;
  return html`<div class="ku-bdetail">
    <p class="ku-receipts" data-testid="ku-receipts" data-acked=${c.acked} data-read=${c.read} data-delivered=${c.delivered}
      data-recipients=${c.recipients}>${t("kuReceipts", { d: c.delivered, r: c.read, a: c.acked, n: c.recipients })}</p>
    <table class="ku-rtable">${repeat(b.receipts || [], (r) => r.id, (r) => {
      const st = receiptState(r);
      return html`<tr data-testid="ku-receipt" data-phone=${r.phone} data-state=${st} class="st-${st}"><td>${r.unit_name || ""}</td>
        <td>${r.name} ${r.phone}</td><td>${t(RECEIPT_WORDS[st])}</td><td>${r.notify_count > 1 ? `×${r.notify_count}` : ""}</td></tr>`;
    })}</table>
    ${b.status === "open" ? html`<div class="ku-row">
      <button class="btn" type="button" data-testid="ku-renotify" @click=${() => act(b, "renotify")}>${t("kuRenotify")}</button>
      <button class="btn" type="button" data-testid="ku-close" @click=${() => act(b, "close")}>${t("kuClose")}</button>${cap}</div>` : cap}
  </div>`;
}

// A bulletin's receipts only move forward (delivered, read, acked): a view fetched or answered
// before a receipt event arrived must not take that receipt back (the POST that sent a bulletin
// can answer after its first members' pages have already confirmed delivery).
function keepBulletin(fresh) {
  const old = S.bulletins.get(fresh.id);
  const b = { ...old, ...fresh };
  if (old?.counts && fresh.counts) {
    b.counts = { ...fresh.counts };
    for (const k of Object.keys(old.counts)) b.counts[k] = Math.max(old.counts[k] ?? 0, fresh.counts[k] ?? 0);
  }
  if (old?.receipts && fresh.receipts) {
    const before = new Map(old.receipts.map((r) => [r.id, r]));
    b.receipts = fresh.receipts.map((r) => {
      const o = before.get(r.id);
      if (!o) return r;
      const m = { ...r };
      for (const k of ["delivered_at", "read_at", "acked_at", "found_alarm_id"]) m[k] = r[k] ?? o[k];
      return m;
    });
  }
  S.bulletins.set(fresh.id, b);
}

async function act(b, what) {
  try {
    const v = await post(`/api/bulletins/${b.id}/${what}`);
    keepBulletin(v);
    if (what === "close") await openBulletin(b.id);
  } catch (e) { S.error = errorText(e); }
  render();
}

async function openBulletin(id) {
  S.open = S.open === id ? null : id;
  if (S.open) {
    try { keepBulletin(await get(`/api/bulletins/${id}`)); } catch (e) { S.error = errorText(e); }
  }
  render();
  // Its area in view, clear of the drawer on the right.
  const w = window.baojing;
  if (S.open && S.areas && S.areas.opened && w && w.map) {
    const drawer = root.querySelector(".ku-drawer");
    w.map.fitBounds(S.areas.opened.getBounds(), { paddingTopLeft: [40, 40], paddingBottomRight: [drawer.offsetWidth + 40, 40], maxZoom: 17 });
  }
}

// The bulletins' areas on the map, redrawn only when which bulletins are open (or opened) changes.
function drawAreas() {
  const w = window.baojing;
  if (!w || !w.map || !window.L) return;
  const list = [...S.bulletins.values()].filter((b) => b.target_area);
  const key = `${S.open}|${getLang()}|` + list.map((b) => `${b.id}:${b.status}`).join(",");
  if (key === S.areasKey) return;
  S.areasKey = key;
  S.areas = showAreas(w.map, window.L, S.areas && S.areas.group, list, S.open, (b) => t("kuAreaOf", { t: b.title }));
}

const field = (label, input) => html`<label class="ku-field"><span>${label}</span>${input}</label>`;

// The form's fields that must be filled, with the words that name them.
const REQUIRED = [["title", "kuTitle"], ["subject", "kuSubject"], ["text", "kuText"], ["expires", "kuExpires"]];
// "2026-12-01 18:00": the console's own way of writing a date (shared/time.js), in either language;
// a datetime-local field would show the browser's (12/01/2026, 06:00 PM on an English browser).
const minutesText = (ms) => dateTimeText(ms).slice(0, 16);

function formProblem() {
  if (S.missing.length) {
    const sep = getLang() === "en" ? ", " : "、";
    return t("kuMissing", { f: S.missing.map((k) => t(REQUIRED.find(([n]) => n === k)[1])).join(sep) });
  }
  if (S.expires === "bad") return t("kuExpiresBad", { e: minutesText(Date.now() + 6 * 3600e3) });
  if (S.expires === "past") return t("kuExpiresPast");
  if (S.areaShort && S.area.length && S.area.length < 3) return t("kuAreaShort", { n: S.area.length });
  return S.error;
}

// An uncontrolled form (read with FormData when sent): lit-html keeps its inputs, and what is typed
// in them, from one draw to the next.
function bulletinForm() {
  const districts = (S.config?.districts?.features || []).map((f) => f.properties);
  const stations = S.config?.stations || [];
  const in6h = minutesText(Date.now() + 6 * 3600e3);
  const bad = (name) => (S.missing.includes(name) || (name === "expires" && S.expires) ? "true" : "false");
  const problem = formProblem();
  const checks = (name, testid, items) => items.map(([value, label, attr]) => html`<label class="ku-check"><input type="checkbox"
    name=${name} value=${value} data-testid=${testid} data-kind=${attr === "kind" ? value : nothing}
    data-id=${attr === "id" ? value : nothing}>${label}</label>`);
  // Folded away while a bulletin's receipts are open: the receipts are what the desk watches then.
  return html`<details class="ku-new" ?open=${S.open === null || Boolean(problem)}><summary>${t("kuNew")}</summary>
    <form class="ku-form" data-testid="ku-bulletin-form" novalidate @submit=${sendBulletin}>
      ${field(t("kuTitle"), html`<input name="title" required maxlength="100" data-testid="ku-b-title" aria-invalid=${bad("title")}>`)}
      ${field(t("kuSubject"), html`<textarea name="subject" required rows="2" maxlength="2000" data-testid="ku-b-subject"
        aria-invalid=${bad("subject")}></textarea>`)}
      ${field(t("kuText"), html`<textarea name="text" required rows="3" maxlength="4000" data-testid="ku-b-text"
        aria-invalid=${bad("text")}></textarea>`)}
      <div class="ku-row">
        ${field(t("kuUrgency"), html`<select name="urgency" data-testid="ku-b-urgency">${
          ["immediate", "urgent", "normal"].map((u) => html`<option value=${u}>${t(u)}</option>`)}</select>`)}
        ${field(html`${t("kuExpires")} <small class="ku-hint">${t("kuExpiresForm")}</small>`, html`<input name="expires" value=${in6h}
          required inputmode="numeric" autocomplete="off" placeholder=${in6h} data-testid="ku-b-expires" aria-invalid=${bad("expires")}>`)}
      </div>
      <fieldset><legend>${t("kuKinds")}</legend>${checks("kind", "ku-b-kind", Object.keys(KINDS).map((k) => [k, kindName(k), "kind"]))}</fieldset>
      <fieldset><legend>${t("kuDistricts")}</legend>${checks("district", "ku-b-district",
        districts.map((d) => [d.id, pick({ zh: d.name_zh, en: d.name_en }), "id"]))}</fieldset>
      <fieldset><legend>${t("kuStations")}</legend>${checks("station", "ku-b-station",
        stations.map((st) => [st.id, pick({ zh: st.name_zh, en: st.name_en }), "id"]))}</fieldset>
      ${areaField()}
      ${problem ? html`<p class="ku-error" role="alert" data-testid="ku-b-error">${problem}</p>` : nothing}
      <button class="btn btn-primary" type="submit" data-testid="ku-b-send">${t("kuSend")}</button>
    </form></details>`;
}

// The area drawn on the map (areadraw.js): the form's buttons; the clicks go to the map.
function areaField() {
  const d = S.draw;
  const n = S.area.length;
  const btn = (id, label, onclick, disabled = false) => html`<button class="btn btn-small" type="button" data-testid=${id}
    ?disabled=${disabled} @click=${onclick}>${label}</button>`;
  return html`<fieldset class="ku-area" data-testid="ku-b-area" data-points=${n} data-drawing=${d && d.drawing() ? "true" : "false"}>
    <legend>${t("kuArea")}</legend>
    ${!d ? btn("ku-b-area-draw", t("kuAreaDraw"), startDrawing) : html`<div class="ku-row">
      <span class="ku-area-count">${d.drawing() ? `${t("kuAreaHint")} · ` : ""}<b>${t("kuAreaPoints", { n })}</b></span>
      ${btn("ku-b-area-undo", t("kuAreaUndo"), () => d.undo(), !n)}
      ${btn("ku-b-area-clear", t("kuAreaClear"), clearDrawing)}
      ${d.drawing() ? btn("ku-b-area-done", t("kuAreaDone"), () => { d.stop(); render(); })
        : btn("ku-b-area-draw", t("kuAreaMore"), () => { d.resume(); render(); })}
    </div>`}
  </fieldset>`;
}

function startDrawing() {
  const w = window.baojing;
  if (!w || !w.map || !window.L) return;
  S.draw = drawArea(w.map, window.L, (points) => { S.area = points; render(); });
  render();
}

function clearDrawing() {
  if (S.draw) S.draw.remove();
  S.draw = null;
  S.area = [];
  render();
}

async function sendBulletin(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  S.missing = REQUIRED.map(([name]) => name).filter((name) => !String(f.get(name) || "").trim());
  const expires = parseDateTimeText(f.get("expires"));
  S.expires = S.missing.includes("expires") ? null : expires === null ? "bad" : expires <= Date.now() ? "past" : null;
  if (S.missing.length || S.expires) {
    S.error = "";
    render();
    ev.target.querySelector("[aria-invalid=true]")?.focus();
    return;
  }
  S.areaShort = Boolean(S.area.length && S.area.length < 3);
  if (S.areaShort) {
    S.error = "";
    return render();
  }
  const body = {
    title: f.get("title"), text: f.get("text"), subject: f.get("subject"), urgency: f.get("urgency"),
    expires_at: new Date(expires).toISOString(),
    target_kinds: f.getAll("kind"), target_district_ids: f.getAll("district").map(Number),
    target_station_ids: f.getAll("station").map(Number),
    target_area: S.area.length ? S.area : null,
  };
  try {
    const b = await post("/api/bulletins", body);
    S.error = "";
    keepBulletin(b);
    S.open = b.id;
    ev.target.reset();
    clearDrawing();
  } catch (e) {
    S.error = errorText(e);
  }
  render();
}

function drawerView() {
  const list = [...S.bulletins.values()].sort((a, b) => b.id - a.id);
  return html`<div class="ku-dhead"><h2>${t("kuBulletins")}</h2><button class="btn btn-small" type="button"
      @click=${() => { S.drawer = false; if (S.draw) S.draw.stop(); render(); }}>✕</button></div>
    ${bulletinForm()}
    ${repeat(list, (b) => b.id, (b) => html`<section class="ku-bulletin${b.status !== "open" ? " closed" : ""}" data-testid="ku-bulletin"
      data-id=${b.id}><button class="ku-btitle" type="button" @click=${() => openBulletin(b.id)}><b>${
        b.status !== "open" ? t("kuClosed") : t(b.urgency)}</b> ${b.title} — ${
        t("kuReceipts", { d: b.counts.delivered, r: b.counts.read, a: b.counts.acked, n: b.counts.recipients })}</button>
      ${S.open === b.id ? bulletinDetail(b) : nothing}</section>`)}`;
}

// The siren entries over the map, the bulletins drawer and its opener, in one template.
function render() {
  if (!root) return;
  const visible = [...S.alarms.values()].filter((a) => !a.hidden).sort((a, b) => (b.siren - a.siren) || b.id - a.id);
  draw(html`<div class="ku-stack" data-testid="ku-siren-stack" role="alert" ?hidden=${!visible.length}>${
      repeat(visible.slice(0, 6), (a) => a.id, alarmCard)}</div>
    <aside class="ku-drawer" data-testid="ku-bulletins" ?hidden=${!S.drawer}>${S.drawer ? drawerView() : nothing}</aside>
    <button class="btn ku-opener" type="button" data-testid="ku-bulletins-open" @click=${() => { S.drawer = !S.drawer; render(); }}>${
      t("kuBulletins")}</button>`, root);
  drawAreas();
}

// ---- the map layer ----

function drawLayer() {
  const w = window.baojing;
  if (!w || !w.map || !window.L || S.layer) return;
  const L = window.L;
  S.layer = L.layerGroup().addTo(w.map);
  for (const u of S.units) {
    if (u.boundary) L.polygon(u.boundary, { color: "#f59e0b", weight: 2, fillOpacity: 0.08 }).addTo(S.layer);
    L.circleMarker([u.lat, u.lon], { radius: 7, color: "#f59e0b", fillColor: "#1f2937", fillOpacity: 1, weight: 3 })
      .bindTooltip(`${u.name} · ${kindName(u.kind)}`).addTo(S.layer);
  }
}

// ---- start ----

async function load() {
  const [alarms, bulletins, units, config] = await Promise.all([
    get("/api/keyunits/alarms"), get("/api/bulletins"), get("/api/keyunits"), get("/api/config")]);
  for (const a of alarms.alarms) upsertAlarm(a);
  for (const b of bulletins.bulletins) keepBulletin(b);
  S.units = units.units;
  S.config = config;
  drawLayer();
  render();
  return Math.min(alarms.seq, bulletins.seq);
}

function onEvent(name, data) {
  if (name === "keyunit.alarm") upsertAlarm(data);
  else if (name === "bulletin.updated") keepBulletin(data);
  else if (name === "bulletin.receipt") {
    const b = S.bulletins.get(data.bulletin_id);
    if (b) {
      b.counts = data.counts;
      // Kept even before the full list is here, so that list cannot take this receipt back.
      b.receipts = b.receipts || [];
      const i = b.receipts.findIndex((r) => r.id === data.receipt.id);
      if (i >= 0) b.receipts[i] = { ...b.receipts[i], ...data.receipt };
      else b.receipts.push(data.receipt);
    }
  } else return;
  render();
}

async function start() {
  const w = window.baojing;
  if (!w || !w.ready) return setTimeout(start, 300);
  S.myStation = w.myStationId ?? null;
  root = document.getElementById("ku-root");
  onLang(render);  // the console's language switch (one language for the site)
  const seq = await load();
  connectLive({ since: seq, onEvent, onResync: () => load().catch(() => {}), onState() {} });
  setInterval(sirenLoop, SIREN_EVERY_MS);
  sirenLoop();
  window.baojingKeyUnits = {
    get alarms() { return S.alarms; }, get bulletins() { return S.bulletins; },
    get sirenRounds() { return S.sirenRounds; }, get layer() { return S.layer; },
    get areas() { return S.areas && S.areas.group; },
  };
}

start();
