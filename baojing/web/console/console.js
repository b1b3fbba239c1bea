// Baojing 110 command console (指挥台): login, live map, incident queue, detail and actions.
// Contract: docs/api.md. Live events: /shared/live.js. No framework, no bundler.
//
// ---- Hooks for the browser tests ---------------------------------------------------------------
// window.baojing = {
//   markers:   Map<alarmId (number), L.Marker>  one marker per located alarm of an open incident;
//              marker.getLatLng() is in the map's CRS (WGS-84 unless config.map.crs is "gcj02");
//              marker.bjIncidentId / .bjAlarmId / .bjSource describe it. The Map object is created
//              once and kept (entries come and go), so a reference taken early stays valid.
//   map:       the L.Map (null until logged in and the config is loaded)
//   alertsPlayed: number of new-incident sirens started (only counted when audio is running)
//   alertsMissed: new incidents that arrived while sound was off (no siren could play)
//   lastAlertAt:  Date.now() when the last siren started (null before the first)
//   lastAlertIncidentId: the incident that started it
//   ready:      true once logged in, the snapshot is applied and the live feed is "live" once
//   connection: "idle" | "connecting" | "live" | "offline" | "syncing" | "unauthorized" | "error"
//   incidents:  Map<incidentId, IncidentOut> as the console currently knows them
//   live:       the connectLive() handle ({seq, drop(), stop()}) — tests may drop() it
//   select(id): open an incident's detail (as a click on its row would)
// }
// The first snapshot after login plays no siren (only incidents first seen later, from live events
// or a resync snapshot, do); wait for window.baojing.ready before reading alertsPlayed.
//
// data-testid attributes:
//   login: login-form, login-username, login-password, login-submit, login-error, login-lang-toggle
//   header: connection-state (data-state = the connection value above), stale-banner,
//     sound-state (data-state = on|off|unsupported), sound-enable (button, shown while off),
//     sound-banner (big "sound is off" bar over the queue; a click enables sound), sound-test,
//     user-name, logout, lang-toggle, count-new, count-claimed
//   queue: queue, queue-empty, queue-row (data-incident-id, data-status, data-priority; class
//     "flash" while a new one flashes), in a row: queue-priority, queue-age ("02:37"),
//     queue-status (data-status), queue-phone, queue-claim (button, status "new" only);
//     recently closed: closed-list, closed-count, closed-row (data-incident-id)
//   map: map, map-marker (data-alarm-id, data-incident-id, data-source, data-locked),
//     map-legend, map-fit-all (button: show every alarm), no-basemap, pick-banner, pick-cancel
//   detail: detail-panel (data-incident-id, data-status), detail-close, detail-status (data-status), detail-age,
//     detail-priority, detail-banner, detail-error (data-code, e.g. "already_claimed"),
//     claim-button, claim-holder, detail-callers, detail-alarm (data-alarm-id), detail-phone,
//     detail-name, detail-position (data-source, data-locked), position-locked, set-position
//     (data-alarm-id), classify-type (select), classify-priority (radio group) with
//     classify-priority-1..4 (radios), classify-submit, notes-list, note-item, note-input,
//     note-submit, close-disposition (select), close-note, close-submit, merge-open, merge-panel,
//     merge-candidate (checkbox, data-incident-id), merge-submit, open-merged-into, timeline,
//     timeline-item (data-name)
//   toast
// -----------------------------------------------------------------------------------------------
import { connectLive } from "/shared/live.js";
import { get, post, setUnauthorizedHandler } from "./api.js";
import { t, setLang, lang, applyStatic, errorText } from "./i18n.js";
import { h, clear, now, parseTime, fmtClock } from "./util.js";
import { MapView } from "./mapview.js";
import { QueueView } from "./queue.js";
import { DetailView } from "./detail.js";
import * as sound from "./sound.js";

const OPEN = new Set(["new", "claimed"]);
const RECENT_MS = 2 * 3600 * 1000;
const FLASH_MS = 10000;
const STALE_AFTER_MS = 3000;

const hooks = {
  markers: new Map(), map: null, alertsPlayed: 0, alertsMissed: 0, lastAlertAt: null, lastAlertIncidentId: null,
  ready: false, connection: "idle", incidents: null, live: null, select: (id) => select(id),
};
window.baojing = hooks;

const S = {
  config: null,
  lookups: null,
  user: null,
  incidents: new Map(),
  trails: new Map(),        // alarmId -> [{lat, lon, accuracy_m, source, at, flag}]
  known: new Set(),         // incident ids ever seen (a first sighting with status "new" sounds)
  flashUntil: new Map(),
  claiming: new Set(),
  selectedId: null,
  detailDirty: false,
  picking: null,            // {alarmId, incidentId}
  live: null,
  buffer: null,             // events held while a snapshot loads
  conn: "idle",
  downSince: null,          // when the live feed was last lost (null while live)
  lastLiveAt: null,
  generation: 0,            // bumps on logout so late answers of an old session are dropped
};
hooks.incidents = S.incidents;

const $ = (id) => document.getElementById(id);
let mapView = null;
let queueView = null;
let detailView = null;

// ---- start ------------------------------------------------------------------------------------
function boot() {
  setLang(lang);
  applyStatic();
  wireStatic();
  sound.onSoundState(renderSound);
  sound.initSound();
  setUnauthorizedHandler(() => sessionEnded());
  setInterval(tick, 1000);
  checkSession();
}

async function checkSession() {
  try {
    const me = await get("/api/auth/me");
    await startConsole(me.user);
  } catch (err) {
    showLogin(err.status === 401 ? "" : errorText(err));
  }
}

function wireStatic() {
  $("login-form").addEventListener("submit", onLogin);
  for (const b of document.querySelectorAll("[data-testid=lang-toggle], [data-testid=login-lang-toggle]")) b.addEventListener("click", toggleLang);
  $("logout").addEventListener("click", logout);
  $("sound-enable").addEventListener("click", async () => {
    if ((await sound.unlock()) === "on") sound.testBeep();
  });
  $("sound-test").addEventListener("click", () => sound.testBeep());
  $("sound-banner").addEventListener("click", async () => {
    if ((await sound.unlock()) === "on") sound.testBeep();
  });
  $("pick-cancel").addEventListener("click", cancelPick);
  // Any click on the page is a user gesture: use it to start audio if it is still off.
  document.addEventListener("pointerdown", () => {
    if (sound.soundState() === "off") sound.unlock();
  }, true);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && S.picking) cancelPick();
  });
  $("closed-toggle").addEventListener("click", () => {
    const box = $("closed-box");
    box.classList.toggle("open");
    $("closed-toggle").setAttribute("aria-expanded", String(box.classList.contains("open")));
  });
}

function showLogin(message) {
  $("boot").hidden = true;
  $("app").hidden = true;
  $("login-view").hidden = false;
  const e = $("login-error");
  e.textContent = message || "";
  e.hidden = !message;
  $("login-submit").disabled = false;
  $("login-submit").textContent = t("login");
  setTimeout(() => ($("login-username").value ? $("login-password") : $("login-username")).focus(), 0);
  document.title = t("doc_title");
}

async function onLogin(e) {
  e.preventDefault();
  sound.unlock();  // the login click is the user gesture that lets the siren play later
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  const errEl = $("login-error");
  errEl.hidden = true;
  $("login-submit").disabled = true;
  $("login-submit").textContent = t("logging_in");
  try {
    const res = await post("/api/auth/login", { username, password });
    $("login-password").value = "";
    await startConsole(res.user);
  } catch (err) {
    errEl.textContent = errorText(err);
    errEl.hidden = false;
    $("login-submit").disabled = false;
    $("login-submit").textContent = t("login");
    $("login-password").select();
  }
}

async function startConsole(user) {
  const gen = ++S.generation;
  S.user = user;
  $("login-view").hidden = true;
  $("boot").hidden = true;
  $("app").hidden = false;
  renderUser();
  try {
    if (!S.config) {
      S.config = await get("/api/config");
      S.lookups = {
        priorities: new Map((S.config.priorities || []).map((p) => [p.value, p])),
        types: new Map((S.config.incident_types || []).map((p) => [p.code, p])),
        dispositions: new Map((S.config.dispositions || []).map((p) => [p.code, p])),
      };
    }
    if (gen !== S.generation) return;
    initViews();
    const seq = await loadSnapshot(true);
    if (gen !== S.generation) return;
    S.live = connectLive({ since: seq, onEvent, onResync, onState });
    hooks.live = S.live;
  } catch (err) {
    if (gen !== S.generation) return;
    if (err.status === 401) return sessionEnded();
    if (err.status === 403) {
      await post("/api/auth/logout").catch(() => {});
      teardown();
      return showLogin(`${t("role_forbidden")}（${user.username}）`);
    }
    toast(errorText(err), true);
    setConn("error");
    setTimeout(() => gen === S.generation && startConsole(user), 3000);
  }
}

function initViews() {
  if (!mapView) {
    mapView = new MapView($("map"), S.config, {
      onSelect: (id) => select(id),
    }, hooks.markers);
    hooks.map = mapView.map;
  }
  if (!queueView) {
    queueView = new QueueView($("queue"), $("closed-list"), $("closed-count"), {
      onSelect: (id) => select(id),
      onClaim: (id) => claimFromQueue(id),
    });
  }
  if (!detailView) {
    detailView = new DetailView($("detail"), {
      claim: (id) => claim(id),
      classify, addNote, merge, close: closeIncident,
      startPick, cancelPick,
      onSelect: (id) => select(id),
      onClosePanel: () => select(null),
      toast,
    });
  }
  mapView.invalidate();
}

function teardown() {
  S.generation += 1;
  if (S.live) S.live.stop();
  S.live = null;
  hooks.live = null;
  hooks.ready = false;
  S.incidents.clear();
  S.trails.clear();
  S.known.clear();
  S.flashUntil.clear();
  S.claiming.clear();
  S.buffer = null;
  if (S.picking) cancelPick();
  S.selectedId = null;
  if (detailView) detailView.close();
  document.body.classList.remove("has-detail");
  $("detail").hidden = true;
  if (mapView) mapView.render([], S.trails, null, null);
  if (queueView) queueView.render([], [], ctx());
  S.lastLiveAt = null;
  setConn("idle");
  S.downSince = null;
}

async function logout() {
  try { await post("/api/auth/logout"); } catch { /* the session ends on this side anyway */ }
  teardown();
  S.user = null;
  showLogin("");
}

function sessionEnded() {
  if ($("app").hidden) return;
  teardown();
  showLogin(t("session_expired"));
}

// ---- snapshot and live events -------------------------------------------------------------------
async function loadSnapshot(initial) {
  const gen = S.generation;
  S.buffer = S.buffer || [];
  if (!initial) setConn("syncing");
  let snap;
  try {
    snap = await get("/api/console/snapshot");
  } catch (err) {
    S.buffer = null;
    throw err;
  }
  if (gen !== S.generation) return snap.seq;
  const fresh = new Map();
  for (const inc of snap.incidents) {
    fresh.set(inc.id, inc);
    if (!initial && !S.known.has(inc.id) && inc.status === "new") alertNew(inc);
    S.known.add(inc.id);
  }
  // The selected incident stays known even if it left the snapshot (merged, closed long ago).
  if (S.selectedId && !fresh.has(S.selectedId) && S.incidents.has(S.selectedId)) {
    fresh.set(S.selectedId, S.incidents.get(S.selectedId));
  }
  S.incidents.clear();
  for (const [id, inc] of fresh) S.incidents.set(id, inc);
  const held = S.buffer || [];
  S.buffer = null;
  for (const ev of held) if (ev.seq > snap.seq) applyEvent(ev.name, ev.data);
  S.detailDirty = true;
  if (S.selectedId) loadDetail(S.selectedId);
  if (!initial && S.conn === "syncing") setConn(S.live ? "live" : "connecting");
  scheduleRender();
  return snap.seq;
}

function onEvent(name, data, seq) {
  if (S.buffer) {
    S.buffer.push({ name, data, seq });
    return;
  }
  applyEvent(name, data);
}

async function onResync() {
  try {
    await loadSnapshot(false);
  } catch (err) {
    toast(errorText(err), true);
    if (S.live) S.live.drop();  // reconnect; the server sends resync again if needed
  }
}

function onState(state) {
  if (state === "unauthorized") return sessionEnded();
  const wasDown = S.conn !== "live" && S.lastLiveAt !== null;
  setConn(state === "live" && S.buffer ? "syncing" : state);
  if (state === "live") {
    if (S.config) hooks.ready = true;
    // Back after a drop: the replay brought the events; refresh the open detail's timeline too.
    if (wasDown && S.selectedId) refreshDetailSoon(S.selectedId);
  }
}

function setConn(state) {
  const now_ = Date.now();
  if (state === "live") {
    S.downSince = null;
    S.lastLiveAt = now_;
  } else if (S.downSince === null || S.downSince === undefined) {
    S.downSince = now_;  // stays set through connecting/offline flips until live again
  }
  S.conn = state;
  hooks.connection = state;
  renderConn();
}

function applyEvent(name, data) {
  if (name === "incident.upserted") upsertIncident(data);
  else if (name === "alarm.position") applyPosition(data);
  else if (name === "incident.note") applyNote(data);
  if (S.conn === "live") S.lastLiveAt = Date.now();
}

// Find an alarm wherever it is now (merges move alarms between incidents).
function findAlarm(alarmId, incidentId) {
  const inc = S.incidents.get(incidentId);
  const a = inc && (inc.alarms || []).find((x) => x.id === alarmId);
  if (a) return { a, inc };
  for (const i of S.incidents.values()) {
    const b = (i.alarms || []).find((x) => x.id === alarmId);
    if (b) return { a: b, inc: i };
  }
  return { a: null, inc: null };
}

function upsertIncident(inc) {
  if (!inc || typeof inc.id !== "number") return;
  const prev = S.incidents.get(inc.id);
  if (prev && parseTime(prev.updated_at) > parseTime(inc.updated_at)) return;  // an older view
  // Keep a position we already have that is newer than the one in this view.
  for (const a of inc.alarms || []) {
    const { a: old } = findAlarm(a.id, inc.id);
    if (old && old.location && a.location && parseTime(old.location.at) > parseTime(a.location.at)) a.location = old.location;
  }
  const first = !S.known.has(inc.id);
  S.known.add(inc.id);
  S.incidents.set(inc.id, inc);
  if (first && inc.status === "new") alertNew(inc);
  if (!OPEN.has(inc.status)) S.flashUntil.delete(inc.id);
  if (inc.id === S.selectedId) {
    S.detailDirty = true;
    refreshDetailSoon(inc.id);
    if (S.picking && !OPEN.has(inc.status)) cancelPick();
  } else if (detailView && detailView.mergeOpen) {
    S.detailDirty = true;
  }
  scheduleRender();
}

function samePoint(p, q) {
  return p.at === q.at && p.lat === q.lat && p.lon === q.lon;
}

function applyPosition({ incident_id: incidentId, alarm_id: alarmId, point, location }) {
  const { a, inc } = findAlarm(alarmId, incidentId);
  let trail = S.trails.get(alarmId);
  if (!trail) {
    trail = [];
    // The trail was never loaded: start it from the position we were showing.
    if (a && a.location && a.location.source !== "operator" && point && !samePoint(a.location, point)) {
      trail.push({ ...a.location, flag: null });
    }
    S.trails.set(alarmId, trail);
  }
  if (point && !trail.some((p) => samePoint(p, point))) trail.push(point);
  if (a && location && !(a.location && parseTime(a.location.at) > parseTime(location.at))) a.location = location;
  if (inc && inc.id === S.selectedId) S.detailDirty = true;
  scheduleRender();
}

function applyNote({ incident_id: incidentId, note }) {
  if (detailView && detailView.id === incidentId && note) detailView.addNote(note, ctx());
}

// ---- new incident alert -------------------------------------------------------------------------
function alertNew(inc) {
  S.flashUntil.set(inc.id, Date.now() + FLASH_MS);
  const ok = sound.playSiren(() => {
    hooks.alertsPlayed += 1;
    hooks.lastAlertAt = Date.now();
    hooks.lastAlertIncidentId = inc.id;
  });
  if (!ok) {
    hooks.alertsMissed += 1;
    const el = $("sound-state");
    el.classList.remove("nudge");
    void el.offsetWidth;  // restart the animation
    el.classList.add("nudge");
  }
}

// ---- rendering ------------------------------------------------------------------------------------
let renderTimer = null;
function scheduleRender() {
  if (!renderTimer) renderTimer = setTimeout(renderAll, 16);
}

function lists() {
  const n = now();
  const open = [], closed = [];
  for (const inc of S.incidents.values()) {
    if (OPEN.has(inc.status)) open.push(inc);
    else if (inc.status === "closed" && n - parseTime(inc.closed_at) < RECENT_MS) closed.push(inc);
  }
  return { open, closed };
}

function ctx(open) {
  const nowMs = Date.now();
  const flashing = new Set();
  for (const [id, until] of S.flashUntil) if (until > nowMs) flashing.add(id);
  return {
    config: S.config,
    priorities: S.lookups ? S.lookups.priorities : new Map(),
    types: S.lookups ? S.lookups.types : new Map(),
    dispositions: S.lookups ? S.lookups.dispositions : new Map(),
    myUserId: S.user ? S.user.id : null,
    me: S.user,
    selectedId: S.selectedId,
    flashing,
    claiming: S.claiming,
    trails: S.trails,
    open: open || lists().open,
    pickingAlarmId: S.picking ? S.picking.alarmId : null,
  };
}

function renderAll() {
  renderTimer = null;
  if (!queueView) return;
  const { open, closed } = lists();
  const c = ctx(open);
  queueView.render(open, closed, c);
  mapView.render(open, S.trails, S.selectedId, c.myUserId);
  const nNew = open.filter((i) => i.status === "new").length;
  $("count-new").textContent = String(nNew);
  $("count-new").parentElement.classList.toggle("hot", nNew > 0);
  $("count-claimed").textContent = String(open.length - nNew);
  if (detailView && detailView.isOpen && S.detailDirty) {
    S.detailDirty = false;
    const inc = S.incidents.get(S.selectedId);
    if (inc) detailView.update(inc, c);
  }
}

function renderConn() {
  const el = $("connection-state");
  let key = { live: "conn_live", connecting: "conn_connecting", offline: "conn_offline", syncing: "conn_syncing",
    unauthorized: "conn_unauthorized", error: "conn_error", idle: "conn_connecting" }[S.conn] || "conn_offline";
  // After having been live, any attempt to get back is "reconnecting" (no flicker between states).
  if ((S.conn === "connecting" || S.conn === "offline") && S.lastLiveAt) key = "conn_offline";
  el.dataset.state = S.conn;
  el.querySelector(".txt").textContent = t(key);
  el.title = S.lastLiveAt ? `${t("stale_since")} ${fmtClock(S.lastLiveAt)}` : "";
  renderStale();
}

function renderStale() {
  const stale = Boolean(S.user) && S.conn !== "live" && S.conn !== "idle" && S.downSince !== null &&
    Date.now() - S.downSince > STALE_AFTER_MS;
  const b = $("stale-banner");
  b.hidden = !stale;
  document.body.classList.toggle("is-stale", stale);
  if (stale) {
    b.querySelector(".txt").textContent = t("stale_banner");
    b.querySelector(".since").textContent = S.lastLiveAt ? ` · ${t("stale_since")} ${fmtClock(S.lastLiveAt)}` : "";
  }
}

function renderSound(state = sound.soundState()) {
  const el = $("sound-state");
  el.dataset.state = state;
  el.querySelector(".txt").textContent = t(state === "on" ? "sound_on" : state === "off" ? "sound_off" : "sound_unsupported");
  $("sound-enable").hidden = state !== "off";
  $("sound-test").hidden = state !== "on";
  $("sound-banner").hidden = state !== "off";
  if (state === "on") el.classList.remove("nudge");
}

function renderUser() {
  const u = S.user;
  if (!u) return;
  const role = t(`role_${u.role}`);
  const el = $("user-name");
  el.textContent = u.display_name;
  el.title = `${u.username}${role !== `role_${u.role}` ? ` · ${role}` : ""}`;
}

let titleOn = false;
let tickCount = 0;
function tick() {
  if (queueView) queueView.tick();
  if (detailView) detailView.tick();
  if (S.user) renderStale();
  // Flash the title while unclaimed incidents wait; end row flashes whose time is up.
  const { open } = S.user ? lists() : { open: [] };
  const nNew = open.filter((i) => i.status === "new").length;
  titleOn = nNew > 0 ? !titleOn : false;
  document.title = nNew > 0 && titleOn ? `【${nNew}】${t("doc_title_new")} · ${t("doc_title")}` : t("doc_title");
  const nowMs = Date.now();
  let expired = false;
  for (const [id, until] of S.flashUntil) {
    if (until <= nowMs) {
      S.flashUntil.delete(id);
      expired = true;
    }
  }
  if (expired) scheduleRender();
  // Once a minute: forget merged incidents after a while, closed ones past the 2 h window, and
  // the trails of alarms no longer shown (a night shift is long).
  tickCount += 1;
  if (tickCount % 60 === 0) {
    for (const [id, inc] of S.incidents) {
      if (id === S.selectedId) continue;
      const gone = inc.status === "merged" ? nowMs - parseTime(inc.updated_at) > 600000
        : inc.status === "closed" ? now() - parseTime(inc.closed_at) > RECENT_MS : false;
      if (gone) S.incidents.delete(id);
    }
    const alarmIds = new Set();
    for (const inc of S.incidents.values()) for (const a of inc.alarms || []) alarmIds.add(a.id);
    for (const id of S.trails.keys()) if (!alarmIds.has(id)) S.trails.delete(id);
  }
}

function toggleLang() {
  setLang(lang === "zh" ? "en" : "zh");
  applyStatic();
  renderConn();
  renderSound();
  renderUser();
  if (mapView) mapView.relabel();
  if (detailView && detailView.isOpen) detailView.relabel(ctx());
  if (S.picking) renderPickBanner();
  if (!$("login-view").hidden) {
    $("login-submit").textContent = t("login");
    $("login-error").hidden = true;
  }
  scheduleRender();
}

let toastTimer = null;
function toast(text, isError = false) {
  const el = $("toast");
  el.textContent = text;
  el.className = `toast show${isError ? " err" : ""}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = "toast"; }, isError ? 7000 : 3000);
}

// ---- selection and detail ----------------------------------------------------------------------
async function select(id) {
  if (S.picking) cancelPick();
  if (id === null || id === undefined) {
    S.selectedId = null;
    detailView.close();
    $("detail").hidden = true;
    document.body.classList.remove("has-detail");
    mapView.invalidate();
    scheduleRender();
    return;
  }
  const same = S.selectedId === id;
  S.selectedId = id;
  S.flashUntil.delete(id);
  let inc = S.incidents.get(id);
  if (!inc) {
    try {
      const d = await get(`/api/incidents/${id}`);
      if (S.selectedId !== id) return;
      inc = stripDetail(d);
      S.known.add(inc.id);
      S.incidents.set(inc.id, inc);
    } catch (err) {
      toast(errorText(err), true);
      return;
    }
  }
  $("detail").hidden = false;
  document.body.classList.add("has-detail");
  mapView.invalidate();
  if (!same || !detailView.isOpen) detailView.open(inc, ctx());
  mapView.focus(inc);
  S.detailDirty = true;
  scheduleRender();
  loadDetail(id);
}

function stripDetail(d) {
  const { notes, trails, timeline, ...inc } = d;
  return inc;
}

async function loadDetail(id) {
  try {
    const d = await get(`/api/incidents/${id}`);
    if (S.selectedId !== id) return;
    for (const [alarmId, points] of Object.entries(d.trails || {})) {
      const key = Number(alarmId);
      const live = S.trails.get(key) || [];
      const merged = [...points];
      for (const p of live) if (!merged.some((q) => samePoint(p, q))) merged.push(p);
      S.trails.set(key, merged);
    }
    upsertIncident(stripDetail(d));
    const c = ctx();
    detailView.setData(d, c);
    S.detailDirty = true;
    scheduleRender();
  } catch (err) {
    if (S.selectedId === id && detailView.isOpen) detailView.setLoadError(err, ctx());
  }
}

let refreshTimer = null;
function refreshDetailSoon(id) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => S.selectedId === id && loadDetail(id), 400);
}

// ---- actions -------------------------------------------------------------------------------------
async function claim(id) {
  S.claiming.add(id);
  scheduleRender();
  try {
    const inc = await post(`/api/incidents/${id}/claim`);
    upsertIncident(inc);
    toast(t("claimed_done", { id }));
    return inc;
  } catch (err) {
    if (err.status === 409) refreshDetailSoon(id);
    throw err;
  } finally {
    S.claiming.delete(id);
    scheduleRender();
  }
}

// The queue's claim button: open the incident and claim it (the panel shows any refusal).
async function claimFromQueue(id) {
  await select(id);
  if (detailView.id === id) {
    const ok = await detailView.run("claim", () => claim(id));
    if (!ok) toast(errorText(detailView.lastError) || t("err_generic"), true);
  }
}

async function classify(id, type, priority) {
  upsertIncident(await post(`/api/incidents/${id}/classify`, { type, priority }));
}

async function addNote(id, text) {
  upsertIncident(await post(`/api/incidents/${id}/notes`, { text }));
}

async function merge(id, ids) {
  const inc = await post(`/api/incidents/${id}/merge`, { incident_ids: ids });
  for (const other of ids) {
    const o = S.incidents.get(other);
    if (o && OPEN.has(o.status)) S.incidents.set(other, { ...o, status: "merged", merged_into: id, alarms: [] });
  }
  upsertIncident(inc);
}

async function closeIncident(id, disposition, note) {
  const body = { disposition };
  if (note) body.note = note;
  upsertIncident(await post(`/api/incidents/${id}/close`, body));
}

function startPick(alarm, inc) {
  S.picking = { alarmId: alarm.id, incidentId: inc.id, phone: alarm.phone, name: alarm.name };
  renderPickBanner();
  $("pick-banner").hidden = false;
  mapView.startPick((pt) => setOperatorPosition(S.picking, pt));
  S.detailDirty = true;
  scheduleRender();
}

function renderPickBanner() {
  const p = S.picking;
  if (!p) return;
  $("pick-text").textContent = t("pick_banner", { who: `#${p.incidentId} ${p.phone}${p.name ? ` ${p.name}` : ""}` });
  $("pick-cancel").textContent = t("pick_cancel");
}

function cancelPick() {
  S.picking = null;
  if (mapView) mapView.stopPick();
  $("pick-banner").hidden = true;
  S.detailDirty = true;
  scheduleRender();
}

async function setOperatorPosition(picking, pt) {
  cancelPick();
  if (!picking) return;
  try {
    const inc = await post(`/api/alarms/${picking.alarmId}/operator-position`,
      { lat: pt.lat, lon: pt.lon, crs: pt.crs, accuracy_m: pt.accuracy_m });
    upsertIncident(inc);
    toast(t("position_set"));
    if (picking.incidentId === S.selectedId) refreshDetailSoon(S.selectedId);
  } catch (err) {
    toast(errorText(err), true);
    if (detailView.id === picking.incidentId) detailView.showError(err);
  }
}

boot();
