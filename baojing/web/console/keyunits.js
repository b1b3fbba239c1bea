// Key units on the console (重点单位): the one-tap siren entries, each with the unit's profile
// (address, type, floor plans, contacts, owning station, nearest patrol units), sounding until a
// call-taker acknowledges it; the key-unit layer on the map; and the bulletins desk (协查/预警通报)
// with live receipts, re-notify, close and CAP export. A module of its own, started by a script tag
// in index.html, that waits for the console (window.baojing.ready) and keeps its own live feed, so
// the console's code needs no change. Contract: docs/api.md ("Key units").
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
import { words, t, pick, errorText, setLang, getLang, onLang } from "/shared/i18n.js";
import { h, put } from "/shared/dom.js";
import { playSiren, soundState } from "./sound.js";
import { drawArea, showAreas } from "./areadraw.js";

const consoleLang = () => getLang(); // the console speaks the site's one language (shared/i18n.js)

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
    kuAreaOf: "通报区域：{t}",
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
    kuAreaOf: "Bulletin area: {t}",
  },
});

const KINDS = { school: ["学校", "School"], kindergarten: ["幼儿园", "Kindergarten"], company: ["企业", "Company"],
                bank: ["银行网点", "Bank branch"], hospital: ["医院", "Hospital"], market: ["市场", "Market"] };
const SIREN_EVERY_MS = 2600;
const S = { alarms: new Map(), bulletins: new Map(), open: null, drawer: false, config: null, units: [], sirenRounds: 0,
            myStation: null, layer: null, error: "", draw: null, area: [], areas: null, areasKey: "" };
let stack, drawer;

const kindName = (k) => (KINDS[k] ? KINDS[k][consoleLang() === "en" ? 1 : 0] : k);
const clock = (v) => (v ? new Date(v).toLocaleTimeString(consoleLang() === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "");

// Sounds here: the owning station's consoles and the command centre's (no station).
const mine = (a) => S.myStation === null || S.myStation === undefined || a.station_id === S.myStation;

function sirenLoop() {
  const due = [...S.alarms.values()].some((a) => a.siren && mine(a));
  if (due && soundState() === "on" && playSiren()) S.sirenRounds += 1;
}

function alarmCard(a) {
  const u = a.unit;
  const files = u.files || [];
  return h("article", { class: `ku-alarm${a.siren ? " sounding" : ""}`, "data-testid": "ku-alarm", "data-id": a.id,
                        "data-kind": a.kind, "data-siren": a.siren ? "true" : "false", "data-status": a.status },
    h("header", {},
      h("b", { class: "ku-badge" }, a.kind === "found" ? t("kuFound") : t("kuOneTap")), " ",
      h("strong", {}, u.name), ` · ${kindName(u.kind)} · ${clock(a.created_at)}`),
    a.status === "cancelled" ? h("p", { class: "ku-cancelled" }, t("kuCancelled", { r: a.cancel_reason })) : null,
    h("dl", { class: "ku-profile", "data-testid": "ku-profile" },
      h("dt", {}, t("kuMember")), h("dd", {}, `${a.member.name} ${a.member.phone}`),
      h("dt", {}, t("kuAddress")), h("dd", {}, `${u.address}（${a.position_from === "unit" ? t("kuUnitFix") : t("kuPhoneFix")}）`),
      h("dt", {}, t("kuStation")), h("dd", {}, pick({ zh: u.station_name_zh, en: u.station_name_en }) || "—"),
      u.opening_hours ? h("dt", {}, t("kuHours")) : null, u.opening_hours ? h("dd", {}, u.opening_hours) : null,
      h("dt", {}, t("kuContacts")),
      h("dd", {}, ...(u.contacts || []).map((c) => h("a", { href: `tel:${c.phone}`, class: "ku-contact", "data-testid": "ku-contact" },
        `${c.name}${c.title ? "（" + c.title + "）" : ""} ${c.phone}`))),
      files.length ? h("dt", {}, t("kuFloor")) : null,
      files.length ? h("dd", {}, ...files.map((f) => h("a", { href: f.url, target: "_blank", rel: "noopener", class: "ku-file", "data-testid": "ku-floorplan" },
        f.mime === "application/pdf" ? `📄 ${f.name || "PDF"}` : h("img", { src: f.url, alt: f.name || "", class: "ku-thumb" })))) : null,
      a.nearest_units?.length ? h("dt", {}, t("kuNearest")) : null,
      a.nearest_units?.length ? h("dd", { "data-testid": "ku-nearest" }, a.nearest_units.map((n) => `${n.call_sign} ${Math.round(n.distance_m)} m`).join("，")) : null),
    (a.notes?.length || a.photos?.length) ? h("div", { class: "ku-notes", "data-testid": "ku-notes" },
      h("b", {}, t("kuNotes") + "："), ...a.notes.map((n) => h("p", {}, `${clock(n.at)} ${n.text}`)),
      ...a.photos.map((p) => h("a", { href: p.url, target: "_blank", rel: "noopener" }, h("img", { src: p.url, alt: "", class: "ku-thumb" })))) : null,
    a.siren
      ? h("button", { class: "btn ku-ack", type: "button", "data-testid": "ku-ack", onclick: () => ack(a) }, t("kuAck"))
      : h("p", { class: "ku-acked" }, t("kuAcked", { who: a.acked_by?.display_name || "", t: clock(a.acked_at) }),
          h("button", { class: "btn btn-small", type: "button", onclick: () => { a.hidden = true; render(); } }, t("kuHide"))));
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

function bulletinDetail(b) {
  const c = b.counts;
  return h("div", { class: "ku-bdetail" },
    h("p", { class: "ku-receipts", "data-testid": "ku-receipts", "data-acked": c.acked, "data-read": c.read,
             "data-delivered": c.delivered, "data-recipients": c.recipients },
      t("kuReceipts", { d: c.delivered, r: c.read, a: c.acked, n: c.recipients })),
    h("table", { class: "ku-rtable" }, ...(b.receipts || []).map((r) => {
      const st = receiptState(r);
      return h("tr", { "data-testid": "ku-receipt", "data-phone": r.phone, "data-state": st, class: `st-${st}` },
        h("td", {}, r.unit_name || ""), h("td", {}, `${r.name} ${r.phone}`),
        h("td", {}, t({ sent: "kuStSent", delivered: "kuStDelivered", read: "kuStRead", acked: "kuStAcked", found: "kuStFound" }[st])),
        h("td", {}, r.notify_count > 1 ? `×${r.notify_count}` : ""));
    })),
    b.status === "open" ? h("div", { class: "ku-row" },
      h("button", { class: "btn", type: "button", "data-testid": "ku-renotify", onclick: () => act(b, "renotify") }, t("kuRenotify")),
      h("button", { class: "btn", type: "button", "data-testid": "ku-close", onclick: () => act(b, "close") }, t("kuClose")),
      h("a", { class: "btn", href: `/api/bulletins/${b.id}/cap.xml`, "data-testid": "ku-cap" }, t("kuCap")))
      : h("a", { class: "btn", href: `/api/bulletins/${b.id}/cap.xml`, "data-testid": "ku-cap" }, t("kuCap")));
}

async function act(b, what) {
  try {
    const v = await post(`/api/bulletins/${b.id}/${what}`);
    S.bulletins.set(b.id, { ...S.bulletins.get(b.id), ...v });
    if (what === "close") await openBulletin(b.id);
  } catch (e) { S.error = errorText(e); }
  render();
}

async function openBulletin(id) {
  S.open = S.open === id ? null : id;
  if (S.open) {
    try { S.bulletins.set(id, await get(`/api/bulletins/${id}`)); } catch (e) { S.error = errorText(e); }
  }
  render();
  // Its area in view, clear of the drawer on the right.
  const w = window.baojing;
  if (S.open && S.areas && S.areas.opened && w && w.map) {
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

function field(id, label, input) {
  return h("label", { class: "ku-field" }, h("span", {}, label), input);
}

function bulletinForm() {
  const districts = (S.config?.districts?.features || []).map((f) => f.properties);
  const stations = S.config?.stations || [];
  const in6h = new Date(Date.now() + 6 * 3600e3);
  const local = new Date(in6h.getTime() - in6h.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  // Folded away while a bulletin's receipts are open: the receipts are what the desk watches then.
  return h("details", { class: "ku-new", open: S.open === null || S.error ? true : null }, h("summary", {}, t("kuNew")),
    h("form", { class: "ku-form", "data-testid": "ku-bulletin-form", onsubmit: sendBulletin },
    field("t", t("kuTitle"), h("input", { name: "title", required: true, maxlength: "100", "data-testid": "ku-b-title" })),
    field("s", t("kuSubject"), h("textarea", { name: "subject", required: true, rows: "2", maxlength: "2000", "data-testid": "ku-b-subject" })),
    field("x", t("kuText"), h("textarea", { name: "text", required: true, rows: "3", maxlength: "4000", "data-testid": "ku-b-text" })),
    h("div", { class: "ku-row" },
      field("u", t("kuUrgency"), h("select", { name: "urgency", "data-testid": "ku-b-urgency" },
        ...["immediate", "urgent", "normal"].map((u) => h("option", { value: u }, t(u))))),
      field("e", t("kuExpires"), h("input", { type: "datetime-local", name: "expires", value: local, required: true, "data-testid": "ku-b-expires" }))),
    h("fieldset", {}, h("legend", {}, t("kuKinds")),
      ...Object.keys(KINDS).map((k) => h("label", { class: "ku-check" },
        h("input", { type: "checkbox", name: "kind", value: k, "data-testid": "ku-b-kind", "data-kind": k }), kindName(k)))),
    h("fieldset", {}, h("legend", {}, t("kuDistricts")),
      ...districts.map((d) => h("label", { class: "ku-check" },
        h("input", { type: "checkbox", name: "district", value: d.id, "data-testid": "ku-b-district", "data-id": d.id }), pick({ zh: d.name_zh, en: d.name_en })))),
    h("fieldset", {}, h("legend", {}, t("kuStations")),
      ...stations.map((s) => h("label", { class: "ku-check" },
        h("input", { type: "checkbox", name: "station", value: s.id, "data-testid": "ku-b-station", "data-id": s.id }), pick({ zh: s.name_zh, en: s.name_en })))),
    areaField(),
    S.error ? h("p", { class: "ku-error", role: "alert", "data-testid": "ku-b-error" }, S.error) : null,
    h("button", { class: "btn btn-primary", type: "submit", "data-testid": "ku-b-send" }, t("kuSend"))));
}

// The area drawn on the map (areadraw.js): the form's buttons; the clicks go to the map.
function areaField() {
  const d = S.draw;
  const n = S.area.length;
  const btn = (id, label, onclick, disabled) => h("button", { class: "btn btn-small", type: "button", "data-testid": id, onclick, disabled }, label);
  return h("fieldset", { class: "ku-area", "data-testid": "ku-b-area", "data-points": n, "data-drawing": d && d.drawing() ? "true" : "false" },
    h("legend", {}, t("kuArea")),
    !d ? btn("ku-b-area-draw", t("kuAreaDraw"), startDrawing)
      : h("div", { class: "ku-row" },
          h("span", { class: "ku-area-count" }, d.drawing() ? `${t("kuAreaHint")} · ` : "", h("b", {}, t("kuAreaPoints", { n }))),
          btn("ku-b-area-undo", t("kuAreaUndo"), () => d.undo(), !n),
          btn("ku-b-area-clear", t("kuAreaClear"), clearDrawing),
          d.drawing() ? btn("ku-b-area-done", t("kuAreaDone"), () => { d.stop(); render(); })
            : btn("ku-b-area-draw", t("kuAreaMore"), () => { d.resume(); render(); })));
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
  if (S.area.length && S.area.length < 3) {
    S.error = t("kuAreaShort", { n: S.area.length });
    return render();
  }
  const f = new FormData(ev.target);
  const body = {
    title: f.get("title"), text: f.get("text"), subject: f.get("subject"), urgency: f.get("urgency"),
    expires_at: new Date(f.get("expires")).toISOString(),
    target_kinds: f.getAll("kind"), target_district_ids: f.getAll("district").map(Number),
    target_station_ids: f.getAll("station").map(Number),
    target_area: S.area.length ? S.area : null,
  };
  try {
    const b = await post("/api/bulletins", body);
    S.error = "";
    S.bulletins.set(b.id, b);
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
  return [
    h("div", { class: "ku-dhead" }, h("h2", {}, t("kuBulletins")),
      h("button", { class: "btn btn-small", type: "button", onclick: () => { S.drawer = false; if (S.draw) S.draw.stop(); render(); } }, "✕")),
    bulletinForm(),
    ...list.map((b) => h("section", { class: `ku-bulletin${b.status !== "open" ? " closed" : ""}`, "data-testid": "ku-bulletin", "data-id": b.id },
      h("button", { class: "ku-btitle", type: "button", onclick: () => openBulletin(b.id) },
        h("b", {}, b.status !== "open" ? t("kuClosed") : t(b.urgency)), " ", b.title, " — ",
        t("kuReceipts", { d: b.counts.delivered, r: b.counts.read, a: b.counts.acked, n: b.counts.recipients })),
      S.open === b.id ? bulletinDetail(b) : null)),
  ];
}

function render() {
  if (getLang() !== consoleLang()) setLang(consoleLang(), { remember: false });
  const visible = [...S.alarms.values()].filter((a) => !a.hidden).sort((a, b) => (b.siren - a.siren) || b.id - a.id);
  put(stack, ...visible.slice(0, 6).map(alarmCard));
  stack.hidden = !visible.length;
  drawAreas();
  drawer.hidden = !S.drawer;
  if (S.drawer) {
    const keep = {};
    for (const el of drawer.querySelectorAll("form input:not([type=checkbox]), form textarea, form select")) keep[el.name] = el.value;
    const checked = new Set([...drawer.querySelectorAll("form input[type=checkbox]:checked")].map((el) => `${el.name}:${el.value}`));
    put(drawer, ...drawerView());
    for (const el of drawer.querySelectorAll("form input, form textarea, form select")) {
      if (el.type === "checkbox") el.checked = checked.has(`${el.name}:${el.value}`);
      else if (keep[el.name] !== undefined) el.value = keep[el.name];
    }
  }
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
  for (const b of bulletins.bulletins) S.bulletins.set(b.id, { ...S.bulletins.get(b.id), ...b });
  S.units = units.units;
  S.config = config;
  drawLayer();
  render();
  return Math.min(alarms.seq, bulletins.seq);
}

function onEvent(name, data) {
  if (name === "keyunit.alarm") upsertAlarm(data);
  else if (name === "bulletin.updated") S.bulletins.set(data.id, { ...S.bulletins.get(data.id), ...data });
  else if (name === "bulletin.receipt") {
    const b = S.bulletins.get(data.bulletin_id);
    if (b) {
      b.counts = data.counts;
      if (b.receipts) {
        const i = b.receipts.findIndex((r) => r.id === data.receipt.id);
        if (i >= 0) b.receipts[i] = { ...b.receipts[i], ...data.receipt };
      }
    }
  } else return;
  render();
}

async function start() {
  const w = window.baojing;
  if (!w || !w.ready) return setTimeout(start, 300);
  S.myStation = w.myStationId ?? null;
  stack = h("div", { class: "ku-stack", "data-testid": "ku-siren-stack", role: "alert", hidden: true });
  drawer = h("aside", { class: "ku-drawer", "data-testid": "ku-bulletins", hidden: true });
  const opener = h("button", { class: "btn ku-opener", type: "button", "data-testid": "ku-bulletins-open",
                               onclick: () => { S.drawer = !S.drawer; render(); } }, t("kuBulletins"));
  document.head.append(h("link", { rel: "stylesheet", href: "/console/keyunits.css" }));
  document.body.append(stack, drawer, opener);
  onLang(() => { opener.textContent = t("kuBulletins"); render(); });
  const seq = await load();
  connectLive({ since: seq, onEvent, onResync: () => load().catch(() => {}), onState() {} });
  setInterval(sirenLoop, SIREN_EVERY_MS);
  sirenLoop();
  // The console's own language switch: follow it.
  setInterval(() => { if (consoleLang() !== (window.__kuLang || "")) { window.__kuLang = consoleLang(); opener.textContent = t("kuBulletins"); render(); } }, 1000);
  window.baojingKeyUnits = {
    get alarms() { return S.alarms; }, get bulletins() { return S.bulletins; },
    get sirenRounds() { return S.sirenRounds; }, get layer() { return S.layer; },
    get areas() { return S.areas && S.areas.group; },
  };
}

start();
