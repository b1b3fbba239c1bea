// Field officer's phone page (/officer/): sign in, go on duty (position reports), get a dispatch
// (siren, vibration, notification), accept or decline, see who called and where, call them with
// one tap, navigate there, and report en route / on scene / backup / clear.
//
// Test hooks (data-testid):
//   login-username, login-password, login-submit, login-error, switch-account, login-lang-toggle
//   top-callsign, connection-state (data-state: idle|connecting|live|offline|unauthorized|error),
//   lang-toggle, logout, sound-banner, offline-banner, toast
//   home, unit-card, unit-callsign, unit-meta, no-unit, duty-switch (role=switch, aria-checked),
//   unit-status (data-status = the unit's status), busy-toggle (aria-checked), home-error,
//   avl-panel, last-report (data-at = epoch ms of the last accepted report), avl-queue (data-count),
//   my-fix, avl-warning, notify-note
//   offer-card, offer-type, offer-distance, offer-where, offer-wait, offer-accept, offer-decline,
//   offer-error, decline-dialog, decline-reason-0..3, decline-text, decline-confirm, decline-cancel
//   incident-card, assignment-status (data-status), incident-priority, incident-type, distance
//   (data-m = metres), eta (data-s = seconds), callers, caller (one per alarm), caller-name,
//   caller-phone (<a href="tel:…">), caller-verified, caller-position, caller-place, nav-links,
//   nav-<app> (app: apple|amap|baidu|geo; data-app), nav-primary (the first of them again, beside
//   the next-step button while accepted / en route), incident-map, map-recenter, notes, note,
//   incident-closed (the console closed or merged it meanwhile), backup-state, card-error
//   status-actions, status-en-route, status-on-scene, status-backup, status-clear (the next step
//   has class "next"), clear-dialog, disposition-<code>, clear-note, clear-confirm, clear-cancel,
//   backup-dialog, backup-note, backup-confirm, backup-cancel
//   photo-pick (label), photo-input (file input, camera), photo-list, photo-item (data-state =
//     uploading | done | error): scene photos sent to the incident's evidence
// window.baojing = {
//   offersAlerted: number of dispatch offers that started the alert (siren/vibration/notification),
//   lastOffer: the last dispatch.offer data {assignment, incident_id} (+ alert: {sound, vibrate}),
//   map: the Leaflet map of the incident card (null when none),
//   markers: {caller, me}: its L.Marker objects (null when not drawn),
//   state: () => {user, unit, assignment, incident, conn}, avl: () => the AVL state,
//   platform: "ios" | "android" | "other" (the nav-link order in use),
//   call: the video call the officer joined, or null (videocall.js: {id, me, peers, …}),
//   me: () => the signed-in user's id,
// }
// Video calls (videocall.js): call-invite, call-join, call-decline, call-view, call-state,
//   call-remote (data-party-id), call-local, call-mute, call-leave
import { api, get, post, setUnauthorizedHandler } from "/shared/api.js";
import { t, lang, setLang, pick, errorText, distanceText, agoText, applyStatic, label, setLabels } from "/shared/i18n.js";
import "/officer/i18n.js";
import { roleGuide, wrongPage } from "/shared/rolepages.js";
import { createAvl } from "/officer/avl.js";
import { distanceM } from "/shared/distance.js";
import { h, clear } from "/shared/dom.js";
import { watchLength } from "/shared/limit.js";
import { parseTime, clockText as clock, elapsedText as mmss } from "/shared/time.js";
import {
  initSound, unlockSound, onSoundState, soundState, startAlarm, stopAlarm, testBeep,
  registerWorker, askNotify, notify, notifyState, closeNotifications, keepAwake,
} from "/officer/alert.js";
import { navLinks, detectPlatform } from "/officer/navlinks.js";
import { OfficerMap } from "/officer/mapview.js";
import { connectLive } from "/shared/live.js";
import { loginSteps } from "/shared/login.js";
import { createVideoCall } from "/officer/videocall.js";
import { createCallerChat, channelOf, channelChip, mustNotCall, noCallText } from "/officer/callerchat.js";

const $ = (id) => document.getElementById(id);
const ACTIVE = new Set(["accepted", "en_route", "on_scene"]);
const SPEED_KMH = { car: 30, motorbike: 30, foot: 5 };
const ROUTE_FACTOR = 1.4;

const S = {
  config: null,
  user: null,
  unit: null,
  assignment: null,
  incident: null,
  calls: [],            // the video / text calls on the incident (GET /api/officer/me)
  conn: "idle",
  live: null,
  avl: null,
  offer: null,          // the assignment being offered (status dispatched)
  alerted: new Set(),   // assignment ids that already rang
  busy: false,          // an action is in flight
  map: null,
  mapFor: null,         // incident id the map was made for
};

const platform = detectPlatform(navigator.userAgent, navigator.maxTouchPoints || 0);
const hooks = (window.baojing = {
  offersAlerted: 0, lastOffer: null, map: null, markers: { caller: null, me: null }, platform,
  state: () => ({ user: S.user, unit: S.unit, assignment: S.assignment, incident: S.incident, conn: S.conn }),
  avl: () => (S.avl ? S.avl.state() : null),
  me: () => (S.user ? S.user.id : null),
});
const callerChat = createCallerChat({ root: $("c-chat"), onChange: () => reloadSoon() });
const videoCall = createVideoCall({ hooks, send: (o) => Boolean(S.live && S.live.send(o)), toast: (...a) => toast(...a) });

// ---- small helpers ------------------------------------------------------------------------------
// 13800138000 -> "138 0013 8000" for reading aloud (the href keeps the digits).
function phoneText(p) {
  const m = /^(\+?86)?(1\d{2})(\d{4})(\d{4})$/.exec(String(p || ""));
  return m ? [m[1], m[2], m[3], m[4]].filter(Boolean).join(" ") : String(p || "");
}

function show(el, on) {
  el.hidden = !on;
}

function setError(el, err) {
  if (!err) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  el.textContent = typeof err === "string" ? err : errorText(err);
  el.hidden = false;
}

let toastTimer = null;
let toastText = () => "";
// text: a function giving the words in the current language, said again if the language is switched
// while the toast is up (a fixed string would stay in the language it was made in).
function toast(text, kind = "ok") {
  const el = $("toast");
  toastText = text;
  el.textContent = text();
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === "bad" ? 6000 : 3000);
}

const typeLabel = (code) => {
  const o = (S.config?.incident_types || []).find((x) => x.code === code);
  return o ? pick(o) : code ? code : t("unclassified");
};
const priorityLabel = (n) => {
  const o = (S.config?.priorities || []).find((x) => x.value === n);
  return o ? `${t("priority_n", { n })} ${pick(o)}` : n ? t("priority_n", { n }) : "";
};
const kindLabel = (k) => label("unit_kinds", k);
const stationName = (id) => {
  const st = (S.config?.stations || []).find((s) => s.id === id);
  return st ? pick(st) : "";
};

// ---- where things are --------------------------------------------------------------------------
// The officer: this phone's latest fix, else the unit's last position on the server.
function myPosition() {
  const fix = S.avl && S.avl.fix;
  if (fix && Date.now() - fix.seen < 5 * 60000) return { lat: fix.lat, lon: fix.lon, acc: fix.acc };
  const p = S.unit && S.unit.position;
  return p ? { lat: p.lat, lon: p.lon, acc: p.accuracy_m } : null;
}

// The destination: the first of the incident's alarms that has a position (as the server does).
function callerPosition(incident) {
  for (const a of incident?.alarms || []) {
    if (a.location && Number.isFinite(a.location.lat)) {
      return { lat: a.location.lat, lon: a.location.lon, acc: a.location.accuracy_m, alarm: a };
    }
  }
  return null;
}

function distanceAndEta(incident) {
  const me = myPosition(), to = callerPosition(incident);
  if (!me || !to) return { me, to, d: null, eta: null };
  const d = distanceM(me, to);
  const kmh = SPEED_KMH[S.unit?.kind] || SPEED_KMH.car;
  return { me, to, d, eta: (d * ROUTE_FACTOR) / (kmh / 3.6), kmh };
}

function etaText(s) {
  if (s === null || s === undefined) return t("no_distance");
  return s < 60 ? t("eta_lt1") : t("eta_min", { n: Math.ceil(s / 60) });
}

function sourceText(loc) {
  const parts = [loc.source ? label("position_sources", loc.source) : t("src_unknown")];
  if (Number.isFinite(loc.accuracy_m)) parts[0] += ` ${t("acc", { d: distanceText(loc.accuracy_m) })}`;
  if (loc.locked) parts.push(t("locked"));
  return parts.join(" · ");
}

// ---- sign in / out ------------------------------------------------------------------------------
function showView(which) {
  show($("boot"), false);
  show($("login-view"), which === "login");
  show($("app"), which === "app");
}

function showLogin(message) {
  showView("login");
  setError($("login-error"), message || null);
  show($("switch-account"), false);
  $("login-submit").disabled = false;
  $("login-submit").textContent = t("login");
  document.title = t("doc_title");
}

// Another role's account: say where it works instead (roles.py's pages, from /api/config).
function showWrongRole(user) {
  showView("login");
  $("login-error").replaceChildren(wrongPage(S.config, user, "/officer/"));
  show($("login-error"), true);
  show($("switch-account"), true);
}

function renderRoleGuide() {
  $("login-roles").replaceChildren(roleGuide(S.config, "/officer/"));
}

// The shared login steps (password, authenticator code, enrolment, backup codes).
let loginForm;

async function onLogin(e) {
  e.preventDefault();
  unlockSound();
  const username = $("login-username").value.trim(), password = $("login-password").value;
  if (!username || !password) {
    setError($("login-error"), `${t("username")} / ${t("password")}`);
    return;
  }
  const btn = $("login-submit");
  btn.disabled = true;
  btn.textContent = t("logging_in");
  setError($("login-error"), null);
  try {
    const { user } = await loginForm.submit(username, password);
    $("login-password").value = "";
    if (user.role !== "officer") {
      showWrongRole(user);
    } else {
      await startApp(user);
    }
  } catch (err) {
    setError($("login-error"), err);
  } finally {
    btn.disabled = false;
    btn.textContent = t("login");
  }
}

async function logout(ask = true) {
  if (ask && S.unit?.on_duty && !window.confirm(t("logout_on_duty"))) return;
  stopApp();
  try { await post("/api/auth/logout"); } catch { /* gone anyway */ }
  showLogin();
}

function stopApp() {
  videoCall.close();
  if (S.live) S.live.stop();
  S.live = null;
  if (S.avl) S.avl.dispose();
  S.avl = null;
  stopAlarm();
  keepAwake(false);
  S.user = S.unit = S.assignment = S.incident = S.offer = null;
  dropMap();
  setConn("idle");
}

setUnauthorizedHandler(() => {
  stopApp();
  showLogin(t("session_expired"));
});

// ---- the app -----------------------------------------------------------------------------------
async function startApp(user) {
  S.user = user;
  showView("app");
  if (S.avl) S.avl.dispose();
  {
    S.avl = createAvl({
      post: (path, body) => post(path, body),
      storageKey: `baojing.officer.avl.${user.username}`,
      onChange: renderAvl,
    });
  }
  await reloadMe();
  S.live = connectLive({
    since: null,
    onEvent,
    onLive: () => { /* nothing unsequenced is sent to officers today */ },
    onMessage: (m) => videoCall.onMessage(m),
    onResync: () => reloadMe(),
    onState: (s) => {
      setConn(s);
      if (s === "live") reloadMe();  // whatever happened while the link was down
    },
  });
  S.avl.flush();
  renderSound(soundState());
}

function setConn(s) {
  S.conn = s;
  const el = $("connection-state");
  el.dataset.state = s;
  el.querySelector(".txt").textContent = t(`conn_${s}`);
  show($("offline-banner"), Boolean(S.user) && (s === "offline" || s === "error"));
}

let meInFlight = null, meAgain = false;
async function reloadMe() {
  if (meInFlight) {
    meAgain = true;
    return meInFlight;
  }
  meInFlight = (async () => {
    do {
      meAgain = false;
      try {
        apply(await get("/api/officer/me"));
      } catch (err) {
        if (err.status !== 401) toast(() => errorText(err), "bad");
      }
    } while (meAgain);
  })();
  try { await meInFlight; } finally { meInFlight = null; }
}

function apply(me) {
  S.unit = me.unit;
  const a = me.assignment;
  S.assignment = a;
  S.incident = me.incident;
  S.calls = me.calls || [];
  callerChat.set(S.calls);
  if (S.unit?.on_duty && S.avl && !S.avl.state().watching) S.avl.start();
  if (S.unit && !S.unit.on_duty && S.avl && S.avl.state().watching) S.avl.stop();
  keepAwake(Boolean(S.unit?.on_duty));
  if (a && a.status === "dispatched") openOffer(a);
  else closeOffer();
  render();
}

function render() {
  const a = S.assignment;
  const onCard = Boolean(a && ACTIVE.has(a.status) && S.incident);
  show($("home"), !onCard);
  show($("card"), onCard);
  show($("actions"), onCard);
  document.body.classList.toggle("has-actions", onCard);
  // On the card the toast is a line in the status bar, so it never covers the caller's number.
  const toastEl = $("toast"), home = onCard ? $("actions") : $("app");
  if (toastEl.parentElement !== home) home.prepend(toastEl);
  $("top-callsign").textContent = S.unit ? S.unit.call_sign : "";
  renderHome();
  if (onCard) renderCard();
  else dropMap();
  if (S.offer) renderOffer();
  renderAvl(S.avl ? S.avl.state() : null);
}

// ---- home --------------------------------------------------------------------------------------
function renderHome() {
  const u = S.unit;
  show($("no-unit"), !u);
  $("no-unit").textContent = t("no_unit");
  show($("duty-switch"), Boolean(u));
  show($("avl"), Boolean(u));
  if (!u) {
    $("unit-callsign").textContent = S.user ? S.user.display_name : "";
    $("unit-meta").textContent = "";
    $("unit-members").textContent = "";
    show($("busy-toggle"), false);
    $("unit-status").textContent = "";
    return;
  }
  $("unit-callsign").textContent = u.call_sign;
  $("unit-meta").textContent = [kindLabel(u.kind), stationName(u.station_id)].filter(Boolean).join(" · ");
  $("unit-members").textContent = u.members.map((m) => m.display_name).join("、");
  const sw = $("duty-switch");
  sw.setAttribute("aria-checked", String(u.on_duty));
  sw.classList.toggle("on", u.on_duty);
  $("duty-label").textContent = u.on_duty ? t("duty_on") : t("duty_off");
  $("duty-hint").textContent = u.on_duty ? t("duty_on_hint") : t("duty_off_hint");
  sw.disabled = S.busy;
  const st = $("unit-status");
  st.dataset.status = u.status;
  st.textContent = label("unit_statuses", u.status);
  const busy = $("busy-toggle");
  show(busy, u.on_duty && !S.assignment);
  busy.setAttribute("aria-checked", String(u.busy));
  busy.classList.toggle("on", u.busy);
  busy.disabled = S.busy;
  const ns = notifyState();
  show($("notify-note"), u.on_duty && ns === "denied");
  $("notify-note").textContent = t("notify_denied");
}

async function toggleDuty() {
  if (!S.unit || S.busy) return;
  const want = !S.unit.on_duty;
  if (want) askNotify();  // inside the tap: the only moment browsers allow the question
  S.busy = true;
  setError($("home-error"), null);
  renderHome();
  try {
    S.unit = await post("/api/officer/duty", { on_duty: want });
    if (want) S.avl.start();
    else S.avl.stop();
    keepAwake(want);
  } catch (err) {
    setError($("home-error"), err);
  } finally {
    S.busy = false;
    render();
  }
}

async function toggleBusy() {
  if (!S.unit || S.busy) return;
  S.busy = true;
  setError($("home-error"), null);
  try {
    S.unit = await post("/api/officer/busy", { busy: !S.unit.busy });
  } catch (err) {
    setError($("home-error"), err);
  } finally {
    S.busy = false;
    render();
  }
}

function renderAvl(st) {
  if (!st) return;
  const last = $("last-report");
  last.dataset.at = st.lastOkAt ? String(st.lastOkAt) : "";
  last.textContent = st.lastOkAt
    ? (lang === "zh" ? `${clock(st.lastOkAt)}（${agoText(Date.now() - st.lastOkAt)}）`
      : `${clock(st.lastOkAt)} (${agoText(Date.now() - st.lastOkAt)})`) : t("avl_never");
  const q = $("avl-queue");
  q.dataset.count = String(st.queue);
  q.textContent = t("avl_points", { n: st.queue });
  q.classList.toggle("bad", st.queue > 0 && Boolean(st.failing));
  $("my-fix").textContent = st.fix
    ? `${t("acc", { d: distanceText(st.fix.acc || 0) })} · ${clock(st.fix.ts)}` : st.watching ? t("avl_no_fix") : "—";
  let warn = null;
  if (st.geoError) warn = t(`avl_${st.geoError === "timeout" ? "unavailable" : st.geoError}`);
  else if (st.blocked) warn = errorText(st.blocked);
  else if (st.failing && st.queue > 0) warn = t("avl_failing");
  $("avl-warning").textContent = warn || "";
  show($("avl-warning"), Boolean(warn) && Boolean(S.unit?.on_duty || st.queue));
  // The officer moved: the distance on the card follows.
  if (!$("card").hidden) renderDistance();
}

// ---- dispatch offer ----------------------------------------------------------------------------
function openOffer(a) {
  const isNew = !S.offer || S.offer.id !== a.id;
  S.offer = a;
  show($("offer"), true);
  document.body.classList.add("offering");
  if (isNew) {
    setError($("offer-error"), null);
    closeSheet("decline-sheet");
  }
  if (!S.alerted.has(a.id)) {
    S.alerted.add(a.id);
    const alert = startAlarm();
    hooks.offersAlerted += 1;
    hooks.lastOffer = { ...(hooks.lastOffer?.assignment?.id === a.id ? hooks.lastOffer : { assignment: a, incident_id: a.incident_id }), alert };
    notify(t("offer_title") + (S.unit ? ` · ${S.unit.call_sign}` : ""), offerSummary() || t("offer_loading"), `offer-${a.id}`);
    keepAwake(true);
  }
  renderOffer();
}

function closeOffer() {
  if (!S.offer) return;
  closeNotifications(`offer-${S.offer.id}`);
  S.offer = null;
  stopAlarm();
  show($("offer"), false);
  closeSheet("decline-sheet");
  document.body.classList.remove("offering");
  document.title = t("doc_title");
}

function offerSummary() {
  const inc = S.incident && S.offer && S.incident.id === S.offer.incident_id ? S.incident : null;
  if (!inc) return "";
  const { d, eta } = distanceAndEta(inc);
  return [typeLabel(inc.type), priorityLabel(inc.priority), d !== null ? `${distanceText(d)} · ${etaText(eta)}` : ""]
    .filter(Boolean).join(" · ");
}

function renderOffer() {
  const a = S.offer;
  if (!a) return;
  document.title = t("doc_title_offer");
  $("offer-sub").textContent = t("offer_sub", { cs: a.call_sign || S.unit?.call_sign || "" });
  const inc = S.incident && S.incident.id === a.incident_id ? S.incident : null;
  // What the dispatcher wrote (其中一人持棍) and whether the caller may be rung come before the map.
  const channel = channelOf(inc, S.calls);
  const noCall = $("offer-nocall");
  show(noCall, Boolean(inc) && mustNotCall(channel));
  noCall.textContent = inc && mustNotCall(channel) ? noCallText(channel) : "";
  const notes = newestFirst(inc?.notes);
  const notesEl = clear($("offer-notes"));
  show(notesEl, notes.length > 0);
  for (const n of notes) notesEl.append(h("li", { testid: "offer-note" }, n.text));
  const typeEl = clear($("offer-type"));
  const whereEl = $("offer-where");
  if (!inc) {
    typeEl.textContent = t("offer_loading");
    clear($("offer-distance"));
    whereEl.textContent = "";
  } else {
    const channel = channelOf(inc, S.calls);
    typeEl.append(
      h("span", { class: `chip chip-prio p${inc.priority}` }, priorityLabel(inc.priority)), " ",
      h("span", {}, typeLabel(inc.type)), " ", channelChip(channel, "offer-channel"), " ",
      h("span", { class: "muted" }, `#${inc.id}`));
    const { d, eta } = distanceAndEta(inc);
    const de = clear($("offer-distance"));
    if (d !== null) de.append(h("span", { class: "od-d" }, distanceText(d)), h("span", { class: "od-eta" }, etaText(eta)));
    const to = callerPosition(inc);
    const place = inc.alarms.map((x) => x.place_text).filter(Boolean)[0];
    whereEl.textContent = [to ? sourceText(to.alarm.location) : t("no_position"), place].filter(Boolean).join(" · ");
  }
  tickOffer();
}

function tickOffer() {
  const a = S.offer;
  if (!a) return;
  const since = parseTime(a.dispatched_at);
  const parts = [];
  if (since) parts.push(t("offer_waiting", { t: mmss(Date.now() - since) }));
  if (a.overdue_at) parts.push(t("offer_overdue"));
  $("offer-wait").textContent = parts.join(" · ");
}

async function acceptOffer() {
  const a = S.offer;
  if (!a || S.busy) return;
  S.busy = true;
  $("offer-accept").disabled = true;
  setError($("offer-error"), null);
  try {
    S.assignment = await post(`/api/assignments/${a.id}/accept`);
    closeOffer();
    toast(() => t("accepted_done"));
  } catch (err) {
    setError($("offer-error"), err);
    if (err.status === 409 || err.status === 403 || err.status === 404) closeOffer();
  } finally {
    S.busy = false;
    $("offer-accept").disabled = false;
  }
  await reloadMe();
}

const REASONS = () => t("decline_reasons").split("|");
let declineChoice = null;

function openDecline() {
  declineChoice = null;
  stopAlarm();  // the officer is answering; the siren starts again if they back out
  const box = clear($("decline-reasons"));
  REASONS().forEach((r, i) => {
    box.append(h("button", {
      type: "button", class: "choice", testid: `decline-reason-${i}`, "aria-pressed": "false",
      onclick: (e) => {
        declineChoice = declineChoice === r ? null : r;
        for (const b of box.children) b.setAttribute("aria-pressed", String(b === e.currentTarget && declineChoice !== null));
        updateDecline();
      },
    }, r));
  });
  $("decline-text").value = "";
  setError($("decline-error"), null);
  updateDecline();
  openSheet("decline-sheet");
}

function declineReason() {
  const text = $("decline-text").value.trim();
  return [declineChoice, text].filter(Boolean).join(lang === "zh" ? "：" : ": ").slice(0, 200);
}

function updateDecline() {
  $("decline-confirm").disabled = !declineReason() || S.busy;
}

function cancelDecline() {
  closeSheet("decline-sheet");
  if (S.offer) startAlarm();
}

async function confirmDecline() {
  const a = S.offer, reason = declineReason();
  if (!a || !reason || S.busy) return;
  S.busy = true;
  updateDecline();
  try {
    await post(`/api/assignments/${a.id}/decline`, { reason });
    closeOffer();
    toast(() => t("decline_done"));
  } catch (err) {
    setError($("decline-error"), err);
    if (err.status === 409 || err.status === 403 || err.status === 404) closeOffer();
  } finally {
    S.busy = false;
    updateDecline();
  }
  await reloadMe();
}

// ---- incident card -----------------------------------------------------------------------------
let callersKey = "";
let navKey = "";

function renderCard() {
  const a = S.assignment, inc = S.incident;
  const st = $("c-status");
  st.dataset.status = a.status;
  st.textContent = label("assignment_statuses", a.status);
  const pr = $("c-prio");
  pr.className = `chip chip-prio p${inc.priority}`;
  pr.textContent = priorityLabel(inc.priority);
  $("c-type").textContent = typeLabel(inc.type);
  $("c-id").textContent = `#${inc.id}`;
  const channel = channelOf(inc, S.calls);
  clear($("c-channel")).append(channelChip(channel, "incident-channel"));
  show($("c-nocall"), mustNotCall(channel));
  $("c-nocall").textContent = mustNotCall(channel) ? noCallText(channel) : "";
  // The console can close or merge the incident while this unit is still on it.
  const closed = $("c-closed");
  show(closed, inc.status === "closed" || inc.status === "merged");
  closed.textContent = inc.status === "merged" ? t("incident_merged", { id: inc.merged_into ?? "" })
    : inc.status === "closed" ? t("incident_closed") : "";
  renderCallers(inc);
  renderNav(inc);
  renderNotes(inc);
  renderDistance();
  renderActions(a);
  const bk = $("c-backup");
  const bt = parseTime(a.backup_requested_at);
  show(bk, Boolean(bt));
  bk.textContent = bt ? t("backup_at", { t: clock(bt) }) : "";
}

function renderCallers(inc) {
  const aside = mustNotCall(channelOf(inc, S.calls));
  const key = JSON.stringify([lang, aside, inc.alarms.map((a) => [a.id, a.name, a.phone, a.phone_verified, a.place_text, a.location])]);
  if (key === callersKey) {
    tickAges();
    return;
  }
  callersKey = key;
  const box = clear($("c-callers"));
  // A silent or text caller is written to: their number waits below the chat, small, for when it is safe.
  const asideBox = clear($("c-call-aside"));
  show(asideBox, aside);
  for (const a of inc.alarms) {
    const tel = a.phone ? `tel:${a.phone.replace(/[^\d+]/g, "")}` : null;
    if (aside && tel) {
      asideBox.append(h("a", { class: "btn btn-call-aside", href: tel, testid: "caller-phone", "data-aside": "true" },
        `☎ ${phoneText(a.phone)} · ${t("call_aside")}`));
    }
    const loc = a.location;
    box.append(h("div", { class: "caller", testid: "caller", "data-alarm": a.id },
      h("div", { class: "caller-top" },
        h("span", { class: "caller-name", testid: "caller-name" }, a.name || t("no_name")),
        a.phone ? h("span", {
          class: `badge ${a.phone_verified ? "ok" : "warn"}`, testid: "caller-verified",
          "data-verified": String(Boolean(a.phone_verified)),
        }, a.phone_verified ? t("verified") : t("unverified")) : null),
      aside && a.phone ? h("div", { class: "muted" }, phoneText(a.phone))
      : a.phone
        ? h("a", { class: "btn btn-call", href: tel, testid: "caller-phone",
          "aria-label": `${t("call")} ${a.name || t("caller")} ${a.phone}` },
          h("span", { class: "call-ico", "aria-hidden": "true" }, "☎"),
          h("span", { class: "call-num" }, phoneText(a.phone)))
        : h("div", { class: "muted" }, t("no_phone")),
      h("div", { class: `caller-pos ${loc ? `src-${loc.source}` : "none"}`, testid: "caller-position" },
        loc ? [sourceText(loc), " · ", h("span", { "data-since": loc.at }, "")] : t("no_position")),
      a.place_text ? h("div", { class: "caller-place", testid: "caller-place" }, `${t("place_text")}：${a.place_text}`) : null));
  }
  tickAges();
}

function tickAges() {
  for (const el of document.querySelectorAll("[data-since]")) {
    const ms = parseTime(el.dataset.since);
    el.textContent = ms ? agoText(Date.now() - ms) : "";
  }
}

function renderNav(inc) {
  const to = callerPosition(inc);
  const label = `110 #${inc.id} ${to?.alarm?.name || t("caller")}`;
  const key = JSON.stringify([lang, to && [to.lat, to.lon], label]);
  if (key === navKey) return;
  navKey = key;
  const box = clear($("c-nav"));
  const quick = $("act-nav");
  if (!to) {
    box.append(h("p", { class: "muted" }, t("no_position")));
    quick.removeAttribute("href");
    return;
  }
  const links = navLinks(to.lat, to.lon, label, platform);
  // The platform's first choice also sits next to the next-step button, in thumb reach.
  quick.href = links[0].href;
  quick.dataset.app = links[0].app;
  quick.title = lang === "zh" ? links[0].label_zh : links[0].label_en;
  if (links[0].href.startsWith("http")) quick.target = "_blank";
  else quick.removeAttribute("target");
  links.forEach((l, i) => {
    box.append(h("a", {
      class: `btn nav-link${i === 0 ? " first" : ""}`, href: l.href, testid: `nav-${l.app}`, "data-app": l.app,
      rel: "noopener", target: l.href.startsWith("http") ? "_blank" : null,
    }, lang === "zh" ? l.label_zh : l.label_en));
  });
}

const newestFirst = (notes) => [...(notes || [])].sort((x, y) => (parseTime(y.at) || 0) - (parseTime(x.at) || 0));

function renderNotes(inc) {
  const box = clear($("c-notes"));
  const notes = newestFirst(inc.notes);
  if (!notes.length) box.append(h("li", { class: "muted" }, t("notes_none")));
  for (const n of notes) {
    const at = parseTime(n.at);
    box.append(h("li", { class: "note", testid: "note" },
      h("div", { class: "note-meta" }, [at ? clock(at) : "", n.author?.display_name || n.author || ""].filter(Boolean).join(" · ")),
      h("div", { class: "note-text" }, n.text)));
  }
}

function renderDistance() {
  const inc = S.incident;
  if (!inc) return;
  const { me, to, d, eta, kmh } = distanceAndEta(inc);
  const de = $("c-distance"), ee = $("c-eta");
  de.textContent = d !== null ? distanceText(d) : t("no_distance");
  de.dataset.m = d !== null ? String(Math.round(d)) : "";
  ee.textContent = etaText(eta);
  ee.dataset.s = eta !== null ? String(Math.round(eta)) : "";
  $("c-eta-basis").textContent = !to ? t("no_position") : !me ? t("no_my_fix") : t("eta_basis", { v: kmh });
  ensureMap();
  if (S.map) {
    S.map.update(to, me);
    hooks.map = S.map.map;
  }
}

function ensureMap() {
  if (typeof L === "undefined") return;
  if (S.map && S.mapFor === S.incident.id) return;
  dropMap();
  S.map = new OfficerMap($("c-map"), S.config, hooks.markers, { caller: lang === "zh" ? "报" : "C", me: lang === "zh" ? "我" : "Me" });
  S.mapFor = S.incident.id;
  hooks.map = S.map.map;
  // The card was hidden a moment ago: measure again, then frame both points.
  requestAnimationFrame(() => {
    if (!S.map || !S.incident) return;
    S.map.resize();
    S.map.recenter(callerPosition(S.incident), myPosition());
  });
}

function dropMap() {
  if (S.map) S.map.destroy();
  S.map = null;
  S.mapFor = null;
  hooks.map = null;
  callersKey = "";
  navKey = "";
}

const NEXT = { accepted: "en_route", en_route: "on_scene", on_scene: "clear" };
const BUTTONS = { en_route: "act-en-route", on_scene: "act-on-scene", backup: "act-backup", clear: "act-clear" };

function renderActions(a) {
  const next = NEXT[a.status];
  const visible = {
    en_route: a.status === "accepted",
    on_scene: a.status === "accepted" || a.status === "en_route",
    backup: true,
    clear: true,
  };
  const primary = $("act-primary"), secondary = $("act-secondary");
  for (const [act, id] of Object.entries(BUTTONS)) {
    const b = $(id);
    const isNext = act === next;
    b.classList.toggle("next", isNext);
    b.classList.toggle("done", act === "backup" && Boolean(a.backup_requested_at));
    show(b, visible[act]);
    b.disabled = S.busy;
    const target = isNext ? primary : secondary;
    if (b.parentElement !== target) target.append(b);
  }
  // Navigation beside the next step while driving there.
  const quick = $("act-nav");
  show(quick, (a.status === "accepted" || a.status === "en_route") && quick.hasAttribute("href"));
  primary.append(quick);
  // keep a stable order in the secondary row
  for (const act of ["en_route", "on_scene", "backup", "clear"]) {
    const b = $(BUTTONS[act]);
    if (b.parentElement === secondary) secondary.append(b);
  }
}

async function act(kind, body) {
  const a = S.assignment;
  if (!a || S.busy) return false;
  const path = { en_route: "en-route", on_scene: "on-scene", backup: "backup", clear: "clear" }[kind];
  S.busy = true;
  renderActions(a);
  setError($("card-error"), null);
  let ok = false;
  try {
    S.assignment = await post(`/api/assignments/${a.id}/${path}`, body);
    ok = true;
    const status = S.assignment.status;
    if (kind === "clear") toast(() => t("cleared_done"));
    else if (kind === "backup") toast(() => t("backup_done"), "warn");
    else toast(() => label("assignment_statuses", status));
  } catch (err) {
    setError($("card-error"), err);
    toast(() => errorText(err), "bad");
  } finally {
    S.busy = false;
  }
  if (ok && kind === "clear") {
    S.assignment = null;
    S.incident = null;
  }
  render();
  await reloadMe();
  return ok;
}

function onAction(e) {
  const kind = e.currentTarget.dataset.act;
  if (kind === "backup") openBackup();
  else if (kind === "clear") openClear();
  else act(kind);
}

let disposition = null;
function openClear() {
  disposition = null;
  const box = clear($("clear-choices"));
  for (const d of S.config?.dispositions || []) {
    box.append(h("button", {
      type: "button", class: "choice", testid: `disposition-${d.code}`, "data-code": d.code, "aria-pressed": "false",
      onclick: (e) => {
        disposition = d.code;
        for (const b of box.children) b.setAttribute("aria-pressed", String(b === e.currentTarget));
        $("clear-confirm").disabled = false;
      },
    }, pick(d)));
  }
  $("clear-note").value = "";
  $("clear-confirm").disabled = true;
  setError($("clear-error"), null);
  openSheet("clear-sheet");
}

async function confirmClear() {
  if (!disposition) return;
  const note = $("clear-note").value.trim();
  $("clear-confirm").disabled = true;
  const ok = await act("clear", note ? { disposition, note } : { disposition });
  if (ok) closeSheet("clear-sheet");
  else {
    setError($("clear-error"), $("card-error").textContent);
    $("clear-confirm").disabled = false;
  }
}

// ---- scene photos: each goes to the incident's evidence, with its own progress line ------------
function uploadPhotos(files) {
  const a = S.assignment;
  if (!a) return;
  for (const file of files) {
    const line = document.createElement("li");
    line.setAttribute("data-testid", "photo-item");
    const say = (text, state) => { line.textContent = `${file.name} · ${text}`; line.dataset.state = state; };
    say(t("photo_uploading", { pct: 0 }), "uploading");
    $("c-photos").prepend(line);
    const form = new FormData();
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/assignments/${a.id}/photos`);
    xhr.upload.onprogress = (e) => e.lengthComputable && say(t("photo_uploading", { pct: Math.round((100 * e.loaded) / e.total) }), "uploading");
    xhr.onload = () => {
      if (xhr.status === 201) return say(t("photo_done"), "done");
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      say(t("photo_failed", { why: errorText({ status: xhr.status, ...(body || {}) }) }), "error");
    };
    xhr.onerror = () => say(t("photo_failed", { why: t("err_network") }), "error");
    xhr.send(form);
  }
}

function openBackup() {
  $("backup-note").value = "";
  setError($("backup-error"), null);
  openSheet("backup-sheet");
}

async function confirmBackup() {
  const note = $("backup-note").value.trim();
  $("backup-confirm").disabled = true;
  const ok = await act("backup", note ? { note } : {});
  $("backup-confirm").disabled = false;
  if (ok) closeSheet("backup-sheet");
  else setError($("backup-error"), $("card-error").textContent);
}

function openSheet(id) {
  show($(id), true);
  document.body.classList.add("sheet-open");
}

function closeSheet(id) {
  show($(id), false);
  if (![...document.querySelectorAll(".sheet")].some((s) => !s.hidden)) document.body.classList.remove("sheet-open");
}

// ---- live events -------------------------------------------------------------------------------
let reloadTimer = null;
function reloadSoon(ms = 250) {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(reloadMe, ms);
}

function onEvent(name, data) {
  if (name.startsWith("call.")) {
    videoCall.onEvent(name, data);
    callerChat.onEvent(name, data);
  }
  if (name === "dispatch.offer") {
    hooks.lastOffer = { ...data };
    if (data.assignment && data.assignment.status === "dispatched") openOffer(data.assignment);
    reloadMe();
  } else if (name === "assignment.updated") {
    if (data.status === "cancelled" && (S.offer?.id === data.id || S.assignment?.id === data.id)) {
      toast(() => t("offer_cancelled"), "warn");
      closeOffer();
    }
    if (S.offer?.id === data.id && data.status !== "dispatched") closeOffer();
    reloadSoon(0);
  } else if (name === "incident.upserted") {
    if (S.incident && data.id === S.incident.id) {
      // IncidentOut has no notes/trails/timeline: keep those from the detail.
      S.incident = { ...S.incident, ...data };
      render();
      if (data.status === "closed" || data.status === "merged") reloadSoon();
    } else if (S.assignment && data.id === S.assignment.incident_id) {
      reloadSoon();
    }
  } else if (name === "incident.note") {
    if (S.incident && data.incident_id === S.incident.id) {
      const notes = S.incident.notes || (S.incident.notes = []);
      if (!notes.some((n) => n.id === data.note.id)) notes.push(data.note);
      if (S.offer) renderOffer();
      if (!$("card").hidden) {
        renderNotes(S.incident);
        try { navigator.vibrate && navigator.vibrate(200); } catch { /* not supported */ }
        toast(() => `${t("notes")}${lang === "zh" ? "：" : ": "}${data.note.text}`, "warn");
      }
    }
  } else if (name === "alarm.position") {
    if (S.incident && data.incident_id === S.incident.id) {
      const alarm = S.incident.alarms.find((x) => x.id === data.alarm_id);
      if (alarm && data.location) {
        alarm.location = data.location;
        render();
      }
    }
  } else if (name === "unit.upserted") {
    if (S.unit && data.id === S.unit.id) {
      S.unit = data;
      render();
    }
  }
}

// ---- sound banner ------------------------------------------------------------------------------
function renderSound(state) {
  show($("sound-banner"), Boolean(S.user) && state === "off");
}

// ---- wiring ------------------------------------------------------------------------------------
function relabel() {
  applyStatic();
  $("toast").textContent = toastText();
  setConn(S.conn);
  if (!$("login-view").hidden) $("login-submit").textContent = t("login");
  renderRoleGuide();
  callersKey = "";
  navKey = "";
  callerChat.render();
  if (S.user) render();
  document.title = S.offer ? t("doc_title_offer") : t("doc_title");
}

function wire() {
  loginForm = loginSteps($("login-form"));
  $("login-form").addEventListener("submit", onLogin);
  $("switch-account").addEventListener("click", () => logout(false));
  for (const b of document.querySelectorAll(".js-lang")) {
    b.addEventListener("click", () => { setLang(lang === "zh" ? "en" : "zh"); relabel(); });
  }
  $("logout").addEventListener("click", () => logout(true));
  $("duty-switch").addEventListener("click", toggleDuty);
  $("busy-toggle").addEventListener("click", toggleBusy);
  $("sound-banner").addEventListener("click", async () => { if ((await unlockSound()) === "on") testBeep(); });
  $("offer-accept").addEventListener("click", acceptOffer);
  $("offer-decline").addEventListener("click", openDecline);
  $("decline-cancel").addEventListener("click", cancelDecline);
  $("decline-confirm").addEventListener("click", confirmDecline);
  $("decline-text").addEventListener("input", updateDecline);
  for (const id of Object.values(BUTTONS)) $(id).addEventListener("click", onAction);
  $("clear-cancel").addEventListener("click", () => closeSheet("clear-sheet"));
  $("clear-confirm").addEventListener("click", confirmClear);
  $("backup-cancel").addEventListener("click", () => closeSheet("backup-sheet"));
  $("backup-confirm").addEventListener("click", confirmBackup);
  for (const id of ["clear-note", "backup-note", "decline-text"]) watchLength($(id));
  $("c-photo").addEventListener("change", (e) => { uploadPhotos([...e.target.files]); e.target.value = ""; });
  $("c-recenter").addEventListener("click", () => {
    if (S.map && S.incident) S.map.recenter(callerPosition(S.incident), myPosition());
  });
  // Any tap arms the siren (browsers refuse sound until the page has had a gesture).
  document.addEventListener("pointerdown", () => { if (soundState() === "off") unlockSound(); }, { capture: true });
  onSoundState(renderSound);
  setInterval(() => {
    tickOffer();
    if (!$("card").hidden) tickAges();
    if (S.avl) renderAvl(S.avl.state());
  }, 1000);
  window.addEventListener("resize", () => S.map && S.map.resize());
  // The card's end scrolls clear of the status bar whatever its height (two rows on a phone, one on
  // a wide screen, a toast line more or less): officer.css pads the card by --actions-h.
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => document.documentElement.style.setProperty("--actions-h", `${$("actions").offsetHeight}px`))
      .observe($("actions"));
  }
}

async function boot() {
  setLang(lang);
  applyStatic();
  wire();
  initSound();
  registerWorker();
  try {
    S.config = await get("/api/config");
  } catch {
    S.config = { map: { tiles: "none" }, incident_types: [], priorities: [], dispositions: [], stations: [] };
  }
  setLabels(S.config.labels);
  renderRoleGuide();
  let me = null;
  try {
    me = (await api("GET", "/api/auth/me")).user;
  } catch {
    me = null;
  }
  if (!me) showLogin();
  else if (me.role !== "officer") showWrongRole(me);
  else await startApp(me);
}

boot();
