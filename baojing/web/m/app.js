// The caller's page (报警人), /m/. API: docs/api.md; test hooks: docs/caller-page.md.

import { api, clock, store, uuid } from "./net.js";
import { applyStatic, distanceText, errorText, getLang, t } from "../shared/lang.js";
import { useLang } from "./i18n.js";
import { h, setText } from "../shared/dom.js";
import { parseTime, whenText as fmt } from "../shared/time.js";
import { distanceM } from "../shared/distance.js";
import { normalizePhone } from "../shared/phone.js";
import { createOutbox } from "./outbox.js";
import { createLocator, fixBody } from "./locate.js";

const LOCATE_MS = 8000; // longest wait for a first fix before the alarm goes without one
// An alarm the police have taken, by how far they got (the server says which).
const IN_HAND = new Set(["handling", "dispatched", "en_route", "on_scene"]);
const DIAL_WAIT_MS = 3000; // longest wait for the server's answer before dialling 110 anyway
const REUSE_MS = 30 * 60000; // a second tap this soon after an open alarm redials, no new alarm
const TRACK_MS = 12 * 3600000; // never follow a phone longer than this, even if still open
const MOVE_M = 10;
const EVERY_MS = 30000;

const $ = (id) => document.getElementById(id);

let mine = store.get("mine", []); // this phone's alarms, newest first
if (!Array.isArray(mine)) mine = [];
const alarms = new Map(); // id -> AlarmOut, as the server last told us
const drafts = {}; // rating being written, per alarm id: {score, comment, error}
let termsDoc = null;
let stage = null; // "locating" while the first fix is awaited
let stageUntil = 0;
let fixWaiters = [];
let live = null;
let liveToken = null;
let liveState = "offline";
let locState = "";
let lastTrackPoll = 0;

const outbox = createOutbox({ resolve, onDone, onChange: render });
const locator = createLocator(onFix, onGeoError);

// ---------- helpers ----------

const saveMine = () => store.set("mine", mine.slice(0, 20));
const byKey = (key) => mine.find((r) => r.key === key);
const alarmOf = (rec) => (rec && rec.id ? alarms.get(rec.id) : null);
const isClosed = (rec) => !!rec.closed || (alarmOf(rec) || {}).status === "closed";
const tracked = () => mine.filter((r) => r.queued && !r.rejected && !isClosed(r) && Date.now() - r.at < TRACK_MS);
const openRecord = () => tracked().find((r) => Date.now() - r.at < REUSE_MS);
const pendingAlarm = (rec) => outbox.items.find((i) => i.kind === "alarm" && i.key === rec.key);
const sentFix = (fix) => fix && { lat: fix.lat, lon: fix.lon, acc: fix.acc, ts: fix.ts, sentAt: Date.now() };

// The form as typed (remembered), checked by the server's own rule (shared/phone.js) before sending.
function form() {
  const phone = $("phone").value.normalize("NFKC").trim();
  const name = $("name").value.trim();
  store.set("phone", phone);
  store.set("name", name);
  const canonical = normalizePhone(phone);
  const problem = canonical === "" ? "phoneMissing" : canonical === null ? "phoneBad" : null;
  showPhoneError(problem ? t(problem) : "");
  return { phone, name, problem: problem && t(problem) };
}

function setToken(token) {
  if (token && token !== store.get("device", null)) store.set("device", token);
}

let dials = 0;
function dial() {
  dials += 1;
  // Under automation tel: opens a hidden dialog that eats all later input; tests count dials.
  if (navigator.webdriver) return;
  try { window.location.href = "tel:110"; } catch (e) { /* the green link stays on screen */ }
}

function waitFor(test, ms) {
  return new Promise((resolve) => {
    const end = Date.now() + ms;
    const poll = () => (test() || Date.now() >= end ? resolve() : setTimeout(poll, 100));
    poll();
  });
}

// ---------- outbox: how each kind of request is sent and what its answer means ----------

async function resolve(item) {
  if (item.kind === "alarm") return { path: item.path || "/api/alarms", body: item.body };
  if (item.kind === "terms") {
    // Before this phone has a token, let a pending alarm get it first: one phone, one device.
    if (!store.get("device", null) && outbox.items.some((i) => i.kind === "alarm")) return "wait";
    if (!item.body.version) {
      const r = await api("GET", "/api/terms", undefined, 10000);
      if (!r.ok || !r.data || !r.data.version) return { failed: r };
      item.body.version = r.data.version;
    }
    return { path: "/api/device/terms", body: item.body };
  }
  const rec = item.key ? byKey(item.key) : null;
  const id = item.alarmId || (rec && rec.id);
  if (!id) return rec && !rec.rejected && pendingAlarm(rec) ? "wait" : "drop";
  const base = `/api/alarms/${id}`;
  if (item.kind === "place") return { path: `${base}/place`, body: item.body };
  if (item.kind === "rating") return { path: `${base}/rating`, body: item.body };
  // A position: stamped with the fix's time on the server's clock, unless before the last one the
  // server holds (it would be set aside as out of order): then the server stamps it.
  const body = Object.assign({}, item.body);
  // Correct the phone's clock only when it is clearly off: the Date header has whole seconds.
  const skew = clock.known && Math.abs(clock.offset) > 2000 ? clock.offset : 0;
  const when = item.fixTime ? item.fixTime + skew : 0;
  if (when && rec && when > (rec.floor || 0) && when < Date.now() + skew + 60000) {
    body.recorded_at = new Date(when).toISOString();
    item.stamp = when;
  } else {
    item.stamp = Date.now() + skew + 2000; // the server's stamp, give or take the trip
  }
  return { path: `${base}/positions`, body };
}

function onDone(item, res) {
  const rec = item.key ? byKey(item.key) : null;
  const data = res.data || {};
  if (item.kind === "terms") {
    if (res.ok) {
      const mineNow = store.get("device", null);
      // An alarm sent meanwhile got this phone another token: record the consent on that one too.
      if (mineNow && mineNow !== data.device_token) outbox.add("terms", { body: { version: data.terms_version } });
      else setToken(data.device_token);
      store.set("terms", Object.assign({}, store.get("terms", {}), { version: data.terms_version, recorded: true }));
    }
  } else if (item.kind === "alarm" && rec) {
    if (memberMod && item.path) memberMod.onSent(item, res);
    if (res.ok) {
      if (item.path) Object.assign(data, data.alarm); // one-tap: {alarm, keyunit_alarm}
      setToken(data.device_token);
      rec.id = data.id;
      rec.ackAt = Date.now();
      rec.floor = parseTime(data.received_at);
      if (item.body.location) rec.posOk = item.body.location.accuracy_m || 0;
      upsert(data);
      refresh();
    } else {
      rec.rejected = { status: res.status, body: res.data };
      const phoneErr = (data.errors || []).some((e) => e.field === "phone");
      if (phoneErr) showPhoneError(errorText(data || {}));
    }
  } else if (item.kind === "position") {
    if (res.ok && rec) {
      rec.floor = Math.max(rec.floor || 0, item.stamp || 0);
      if (item.body.source === "picked") rec.pickOk = true;
      else if (data.accepted) rec.posOk = item.body.accuracy_m || 0;
      if (data.reason === "alarm_closed") {
        rec.closed = true;
        refresh();
      }
    }
  } else if (res.ok && data.id) {
    upsert(data); // place and rating answer with the alarm
  } else if (item.kind === "rating") {
    if (res.status === 409) refresh();
    else drafts[item.alarmId] = Object.assign(drafts[item.alarmId] || {}, { error: errorText(res.data || {}) });
  } else if (item.kind === "place" && rec) {
    rec.placeError = errorText(res.data || {});
  }
  saveMine();
  render();
}

// ---------- the alarm ----------

async function onCall() {
  const { phone, name, problem } = form();
  if (problem) {
    $("phone").focus();
    return;
  }
  if (stage === "locating") {
    // Tapped again while locating: in a hurry, send it now (the fix follows). Not a double tap.
    if (Date.now() > stageUntil - LOCATE_MS + 1500) settle(null);
    return;
  }
  const open = openRecord();
  if (open) {
    if (locator.last) sendPosition(open, locator.last, true);
    else locator.once(0, 20000);
    dial();
    return;
  }
  const rec = { key: uuid(), at: Date.now(), queued: false, id: null };
  mine.unshift(rec);
  saveMine();
  stage = "locating";
  stageUntil = Date.now() + LOCATE_MS;
  render();
  const fix = await firstFix();
  stage = null;
  let location = null;
  if (fix) {
    location = fixBody(fix);
    rec.lastSent = sentFix(fix);
    rec.fixSent = fix.acc;
  }
  rec.queued = true;
  saveMine();
  outbox.add("alarm", {
    key: rec.key,
    body: { idempotency_key: rec.key, phone, name: name || null, channel: "phone", place_text: null, location },
  });
  render();
  await waitFor(() => rec.ackAt || rec.rejected, DIAL_WAIT_MS);
  dial();
}

function firstFix() {
  const last = locator.last;
  if (last && Date.now() - last.seen < 15000) return Promise.resolve(last);
  return new Promise((resolve) => {
    fixWaiters.push(resolve);
    setTimeout(() => settle(null), LOCATE_MS);
    locator.start();
    if (locator.error !== "denied" && locator.error !== "unsupported") locator.once(15000, LOCATE_MS);
    else settle(null);
  });
}

function settle(fix) {
  const waiters = fixWaiters;
  fixWaiters = [];
  for (const w of waiters) w(fix);
}

function onFix(fix) {
  settle(fix);
  for (const rec of tracked()) sendPosition(rec, fix, false);
  render();
}

function onGeoError(kind) {
  if (kind === "denied" || kind === "unsupported") settle(null);
  render();
}

// Only when it moved more than 10 m, or 30 s after the last one sent. force: send it anyway (a
// second tap, or the 30 s beat); a fix sent again unchanged is stamped by the server on arrival.
function sendPosition(rec, fix, force) {
  const last = rec.lastSent;
  const due = !last || Date.now() - last.sentAt >= EVERY_MS;
  const fresh = !last || fix.ts > last.ts;
  if (!force) {
    if (!fresh) return;
    if (!due && distanceM(last, fix) <= MOVE_M) return;
    if (!due && fix.acc > 2 * last.acc + 50) return; // a much vaguer fix is not news
  }
  rec.lastSent = sentFix(fix);
  if (!rec.fixSent) rec.fixSent = fix.acc;
  saveMine();
  outbox.add("position", { key: rec.key, fixTime: fresh ? fix.ts : null, body: fixBody(fix) });
}

// While an alarm is open: keep the watch running and a position going out every 30 s, moving or not.
function trackTick() {
  const list = tracked();
  if (!list.length) return;
  if (!locator.watching && locator.error !== "denied" && locator.error !== "unsupported") locator.start();
  const fix = locator.last;
  for (const rec of list) {
    if (!rec.ackAt || (rec.lastSent && Date.now() - rec.lastSent.sentAt < EVERY_MS)) continue;
    if (fix && (!rec.lastSent || fix.ts > rec.lastSent.ts)) sendPosition(rec, fix, false);
    else {
      // Nothing new for 30 s: ask for a fresh fix, and meanwhile repeat the last one if still recent.
      if (locator.error !== "denied" && Date.now() - lastTrackPoll > EVERY_MS) {
        lastTrackPoll = Date.now();
        locator.once(0, 20000);
      }
      if (fix && Date.now() - fix.seen < 120000) sendPosition(rec, fix, true);
    }
  }
}

// ---------- server state: snapshot + live events ----------

function upsert(a) {
  const old = alarms.get(a.id);
  if (old && parseTime(old.updated_at) > parseTime(a.updated_at)) return;
  alarms.set(a.id, a);
}

async function refresh() {
  const token = store.get("device", null);
  if (!token) return;
  const r = await api("GET", "/api/me/alarms", undefined, 10000);
  if (r.ok && r.data) {
    for (const a of r.data.alarms || []) upsert(a);
    connect(r.data.seq, token);
    render();
  } else if (r.status === 401 && r.data && r.data.code === "bad_device_token") {
    store.del("device");
  }
}

function connect(seq, token) {
  if (live && liveToken === token) return;
  if (live) live.stop();
  live = null;
  liveToken = token;
  // Loaded on its own, so that the alarm itself never depends on the live channel.
  import("../shared/live.js").then((m) => {
    if (liveToken !== token || live) return;
    live = m.connectLive({
      since: seq,
      deviceToken: token,
      onMessage: (m) => callMod && callMod.onMessage(m),
      onEvent(name, data) {
        if (callMod && name.startsWith("call.")) callMod.onEvent(name, data);
        if (memberMod) memberMod.onEvent(name, data);
        if (name === "alarm.updated" && data && data.id) {
          upsert(data);
          render();
        }
      },
      onLive(name, data) {
        // An officer on the way moved: how far they are now (never who or where).
        const a = name === "responder.moved" && data && alarms.get(data.alarm_id);
        const r = a && (a.responders || []).find((x) => x.id === data.unit.id);
        if (r) {
          Object.assign(r, data.unit);
          render();
        }
      },
      onResync: refresh,
      onState(s) {
        liveState = s;
        if (s === "unauthorized") {
          live = null;
          liveToken = null;
          refresh();
        }
        render();
      },
    });
  }).catch(() => { liveToken = null; });
}

// ---------- terms ----------

async function showTerms() {
  $("terms").hidden = false;
  renderTerms();
  const r = await api("GET", "/api/terms", undefined, 8000);
  if (r.ok && r.data && r.data.version) {
    termsDoc = r.data;
    renderTerms();
  } else {
    $("terms-note").hidden = false;
  }
}

function renderTerms() {
  const en = getLang() === "en";
  setText($("terms-title"), termsDoc ? (en ? termsDoc.title_en : termsDoc.title_zh) : t("termsTitle"));
  setText($("terms-text"), termsDoc ? (en ? termsDoc.text_en : termsDoc.text_zh) : t("termsShort"));
  setText($("terms-note"), t("termsBuiltin"));
  if (termsDoc) $("terms-note").hidden = true;
}

function acceptTerms() {
  const version = termsDoc ? termsDoc.version : null;
  store.set("terms", { version, builtin: !termsDoc, at: Date.now(), recorded: false });
  outbox.add("terms", { body: { version } });
  $("terms").hidden = true;
  showApp();
  prewarm();
}

// ---------- place and map ----------

function activeRecord() {
  const rec = mine[0];
  if (!rec || rec.rejected || !rec.queued || isClosed(rec) || Date.now() - rec.at > TRACK_MS) return null;
  return rec;
}

function sendPlace() {
  const rec = activeRecord();
  const input = $("place-input");
  const text = input.value.trim();
  if (!rec) return;
  if (!text) {
    rec.placeError = t("placeEmpty");
    render();
    input.focus();
    return;
  }
  rec.placeError = null;
  rec.placeText = text;
  saveMine();
  outbox.add("place", { key: rec.key, body: { text } });
  input.value = "";
  render();
}

async function openMap() {
  const rec = activeRecord();
  if (!rec) return;
  const a = alarmOf(rec);
  try {
    const picker = await import("./picker.js");
    await picker.openPicker({
      near: locator.last || (a && a.location),
      onPick({ lat, lon, crs }) {
        rec.picked = true;
        saveMine();
        outbox.add("position", { key: rec.key, body: { lat, lon, crs, source: "picked" } });
        render();
      },
    });
  } catch (e) {
    rec.placeError = t("mapFail");
    render();
  }
}

// ---------- video and text alarms: call.js, loaded only on a tap ----------

let callMod = null;
const callCtx = {
  form, firstFix, locator, setToken, refresh,
  send: (m) => !!live && live.send(m),
  show(on) {
    $("app").hidden = !on;
    if (on) render();
  },
  // The call's alarm joins "my alarms": its position is followed like any other alarm's.
  adopt(key, id, fix) {
    if (byKey(key)) return;
    mine.unshift({ key, at: Date.now(), queued: true, id, ackAt: Date.now(), lastSent: sentFix(fix), fixSent: fix && fix.acc, posOk: fix && fix.acc });
    saveMine();
    refresh();
  },
};

async function openCall(kind) {
  try {
    callMod = callMod || (await import("./call.js"));
    callMod.open(kind, callCtx);
  } catch (e) { /* offline before it loaded: the phone alarm and 110 are still here */ }
}

// ---------- rendering ----------

function showPhoneError(msg) {
  const el = $("phone-error");
  setText(el, msg);
  el.hidden = !msg;
  $("phone").setAttribute("aria-invalid", msg ? "true" : "false");
}

function applyLang() {
  document.title = t("title");
  applyStatic();
  if (!$("terms").hidden) renderTerms();
  listCache.clear();
  render();
}

function bannerFor(rec) {
  if (stage === "locating" && rec === mine[0] && !rec.queued) {
    const s = Math.max(1, Math.ceil((stageUntil - Date.now()) / 1000));
    return ["locating", t("stLocating", { s }), t("stLocatingSub"), 0];
  }
  const item = pendingAlarm(rec);
  if (item) {
    if (!item.tries) return ["sending", t("stSending"), t("stStillCall"), 0];
    const wait = Math.max(0, Math.ceil((outbox.nextAt("alarm") - Date.now()) / 1000));
    const sub = item.inflight ? t("stRetrying") : navigator.onLine === false ? t("stOffline") : t("stRetryWhen", { s: wait });
    return ["retrying", t("stRetry", { n: item.tries }), sub, item.tries];
  }
  if (rec.rejected) {
    const why = errorText(rec.rejected.body || {}).replace(/[。.]$/, "") + (getLang() === "en" ? ". " : "。");
    return ["rejected", t("rejected"), why + t("rejectedFix"), 0];
  }
  const a = alarmOf(rec);
  const status = isClosed(rec) ? "closed" : a ? a.status : "received";
  if (status === "closed") return [status, t("stClosed"), t("stClosedSub"), 0];
  if (IN_HAND.has(status)) return [status, `✓ ${statusText(status)}`, responderText(a) || t("stGotAt", { time: fmt(a.received_at) }), 0];
  const main = t("stReceivedAt", { time: fmt(a ? a.received_at : rec.ackAt) });
  return [status, main, `${t("sReceived")} · ${t("stStillCall")}`, 0];
}

function renderActive() {
  const rec = mine[0];
  const show = !!rec && (stage === "locating" || Date.now() - rec.at < (rec.rejected ? 3600000 : TRACK_MS));
  $("active").hidden = !show;
  const [state, main, sub, tries] = show ? bannerFor(rec) : [];
  // A closed alarm says so on top, and the form is back in its place for a new one.
  document.body.classList.toggle("has-alarm", show && state !== "closed");
  if (!show) return;
  const banner = $("banner");
  if (banner.dataset.state !== state) banner.dataset.state = state;
  banner.dataset.tries = String(tries);
  setText($("b-main"), main);
  setText($("b-sub"), sub);
  const retry = $("retry");
  retry.hidden = state !== "retrying";
  retry.disabled = !!(pendingAlarm(rec) || {}).inflight;
  $("call110").hidden = state === "closed";

  // What the police know of where the caller is.
  const loc = $("loc");
  loc.hidden = state === "rejected" || state === "locating" || state === "closed";
  const a = alarmOf(rec);
  const err = locator.error;
  let ls;
  let text;
  if (rec.picked) [ls, text] = ["picked", rec.pickOk ? t("mapPicked") : t("mapPickedQueued")];
  else if (rec.posOk != null) {
    [ls, text] = ["sent", rec.posOk ? t("locSent", { m: Math.max(1, Math.round(rec.posOk)) }) : t("locSentNoAcc")];
  } else if (rec.fixSent != null) {
    [ls, text] = ["queued", t("locQueued", { m: Math.max(1, Math.round(rec.lastSent ? rec.lastSent.acc : rec.fixSent)) })];
  } else if (a && a.location) [ls, text] = ["sent", t("locSentNoAcc")];
  else if (err === "denied" || err === "unsupported") [ls, text] = ["denied", t("locDenied")];
  else if (err && stage !== "locating") [ls, text] = ["unavailable", `${t("locUnavailable")} ${t("locWaiting")}`];
  else [ls, text] = ["waiting", t("locWaiting")];
  loc.dataset.state = ls;
  setText($("loc-text"), text);
  const bad = ls === "denied" || ls === "unavailable";
  setText($("loc-ask"), bad ? t("locAsk") : ls === "picked" ? t("mapPickedAsk") : ls === "sent" ? t("locTracking") : "");
  setText($("place-summary"), t(bad ? "locGive" : "locWrong"));
  loc.classList.toggle("bad", bad);
  if (ls !== locState) {
    // Open the place box by itself when the police have no position; never fight the caller's tap.
    $("place").open = bad;
    locState = ls;
  }
  const queued = outbox.items.find((i) => i.kind === "place" && i.key === rec.key);
  let ps = "";
  if (rec.placeError) ps = rec.placeError;
  else if (queued) ps = t("placeQueued", { text: queued.body.text });
  else if (a && a.place_text) ps = t("placeSent", { text: a.place_text });
  const pst = $("place-status");
  setText(pst, ps);
  pst.hidden = !ps;
  pst.classList.toggle("error", !!rec.placeError);
}

const listCache = new Map(); // key -> {sig, el}: items are rebuilt only when they change

const STATUS = { received: "sReceived", handling: "sHandling", dispatched: "sDispatched", en_route: "sEnRoute",
  on_scene: "sOnScene", closed: "sClosed", pending: "sPending", sending: "sSending" };
const statusText = (s) => (STATUS[s] ? t(STATUS[s]) : s);

let rating = null; // rating.js, once a closed alarm needs it
let ratingLoading = null;
function loadRating() {
  ratingLoading = ratingLoading || import("./rating.js").then((m) => {
    rating = m;
    listCache.clear();
    render();
  }).catch(() => { ratingLoading = null; });
  return null;
}

// How far the nearest officer sent is, "距您约 1.2 公里", and once on the way when they should be
// there, "，预计 4 分钟到达". The status itself says the rest; nothing once one is on scene.
function responderText(a) {
  const rs = (a && a.responders) || [];
  if (rs.some((r) => r.status === "on_scene")) return "";
  const near = rs.filter((r) => r.distance_m != null).sort((x, y) => x.distance_m - y.distance_m)[0];
  if (!near) return "";
  const eta = near.status === "en_route" && near.eta_s != null ? t("rEta", { min: Math.max(1, Math.round(near.eta_s / 60)) }) : "";
  return t("rAway", { d: distanceText(Math.max(10, near.distance_m)) }) + eta;
}

function itemView(entry) {
  const { status, id, a, rec } = entry;
  const times = [];
  const away = IN_HAND.has(status) && responderText(a);
  if (a) {
    times.push(`${t("tReceived")} ${fmt(a.received_at)}`);
    if (IN_HAND.has(status)) times.push(`${t("tUpdated")} ${fmt(a.updated_at)}`);
    if (a.closed_at) times.push(`${t("tClosed")} ${fmt(a.closed_at)}`);
  } else times.push(`${t("tReceived")} ${fmt(rec.at)}`);
  return h("li", { class: `item s-${status}`, "data-testid": "alarm-item", "data-alarm-id": id || "", "data-status": status },
    h("p", { class: "i-head" }, h("span", { class: "dot", "aria-hidden": "true" }),
      h("strong", { "data-testid": "alarm-status", text: statusText(status) })),
    h("p", { class: "i-times", text: times.join(" · ") }),
    away ? h("p", { class: "responders", "data-testid": "responders", text: away }) : null,
    a && a.place_text ? h("p", { class: "note", text: t("placeSent", { text: a.place_text }) }) : null,
    a && status === "closed" ? (rating ? rating.ratingView(a, { drafts, outbox, render }) : loadRating()) : null);
}

function renderList() {
  const entries = [];
  for (const rec of mine) {
    // An acknowledged alarm is shown from the server's copy (below) once loaded.
    const item = !rec.rejected && !rec.id && pendingAlarm(rec);
    if (item) entries.push({ k: rec.key, at: rec.at, status: item.tries ? "pending" : "sending", rec });
  }
  for (const a of alarms.values()) {
    entries.push({ k: `a${a.id}`, at: parseTime(a.received_at), status: a.status, id: a.id, a });
  }
  entries.sort((x, y) => y.at - x.at);
  $("mine").hidden = !entries.length;
  const list = $("list");
  const els = entries.map((e) => {
    const a = e.a;
    const pendingRating = a && outbox.items.some((i) => i.kind === "rating" && i.alarmId === a.id);
    const sig = JSON.stringify([e.status, a && a.updated_at, a && a.rating, a && a.place_text, a && a.responders, pendingRating]);
    const c = listCache.get(e.k);
    if (c && c.sig === sig) return c.el;
    const el = itemView(e);
    listCache.set(e.k, { sig, el });
    return el;
  });
  const same = els.length === list.children.length && els.every((el, i) => list.children[i] === el);
  if (!same) list.replaceChildren(...els);
  const liveEl = $("live");
  setText(liveEl, liveState === "live" ? `● ${t("liveOn")}` : live ? `○ ${t("liveOff")}` : "");
  liveEl.classList.toggle("on", liveState === "live");
}

// Key-unit members: member.js loads only for them; their one-tap goes through the outbox.
let memberMod = null;
const memberHooks = { firstFix, render, outbox, saveMine, mine: () => mine,
  reconnect() { if (live) live.stop(); live = liveToken = null; refresh(); } };
const member = (login) => import("./member.js").then((m) => { memberMod = m; m.start(memberHooks, { login }); }).catch(() => {});

function render() {
  if (memberMod) memberMod.render();
  if ($("app").hidden) return;
  renderActive();
  renderList();
  setText($("call-sub"), t(stage === "locating" ? "callSubHurry" : openRecord() ? "callSubOpen" : "callSub"));
}

function showApp() {
  $("app").hidden = false;
  render();
}

// ---------- start ----------

function prewarm() {
  // With permission already given, a warm fix makes the alarm instant; never ask before a tap.
  if (!store.get("terms", null)) return;
  if (tracked().length) locator.start();
  const p = navigator.permissions;
  if (p && p.query) {
    p.query({ name: "geolocation" }).then((s) => { if (s.state === "granted") locator.start(); }).catch(() => {});
  }
}

function boot() {
  $("boot").remove();
  $("lang").hidden = false;
  $("phone").value = store.get("phone", "") || "";
  $("name").value = store.get("name", "") || "";
  // Length counters show near a limit only: loaded when the caller starts typing.
  for (const el of [$("name"), $("place-input")]) {
    el.addEventListener("focus", () => import("../shared/limit.js").then((m) => m.watchLength(el)).catch(() => {}), { once: true });
  }

  $("lang").addEventListener("click", () => {
    useLang(getLang() === "en" ? "zh" : "en").then(applyLang);
  });
  $("terms-accept").addEventListener("click", acceptTerms);
  $("call").addEventListener("click", onCall);
  $("phone").addEventListener("input", () => { if (!$("phone-error").hidden) showPhoneError(""); });
  $("retry").addEventListener("click", () => outbox.kick());
  $("place-submit").addEventListener("click", sendPlace);
  $("map-open").addEventListener("click", openMap);
  $("video-btn").addEventListener("click", () => openCall("video"));
  $("text-btn").addEventListener("click", () => openCall("text"));
  $("member-open").addEventListener("click", () => member(true));
  if (store.get("member", false)) member(false);

  const wake = () => {
    outbox.kick();
    refresh();
  };
  window.addEventListener("online", wake);
  window.addEventListener("pageshow", (e) => { if (e.persisted) wake(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") wake(); });

  if (store.get("terms", null)) showApp();
  else showTerms();
  if (store.get("call", null)) openCall(null); // a video or text alarm open when the page was left
  applyLang();
  // Anything left over from last time (closed tab, no network) goes now.
  outbox.kick();
  refresh();
  prewarm();
  setInterval(() => {
    trackTick();
    if (stage || outbox.items.length) render();
  }, 1000);

  // The page opens with no network at all then. Not under automation: tests intercept requests.
  if ("serviceWorker" in navigator && window.isSecureContext && !navigator.webdriver) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
  }

  if (hook) hook.install(() => ({ outbox, mine, alarms, stage, locator, live: liveState, dials, callMod }));
}

// The tests' hook loads under automation only (never on a caller's phone), before the page starts.
let hook = null;
const hooked = navigator.webdriver && import("./hook.js").then((m) => { hook = m; }).catch(() => {});
// A remembered English needs its words: waited for 3 s at most (Chinese meanwhile).
const english = useLang(getLang());
Promise.all([Promise.race([english, new Promise((resolve) => setTimeout(resolve, 3000))]), hooked]).then(() => {
  boot();
  english.then(applyLang);
});
