// Baojing 110 command console (指挥台): login, live map, incident queue, detail and actions.
// Contract: docs/api.md. Live events: /shared/live.js. Views in lit-html, no bundler.
//
// State: incidents and units live in Stores keyed by id (store.js). A live event only writes to a
// store; once per animation frame draw() hands the changed ids to the views, which redraw what
// those ids touch (the queue draws only the rows in view, the map only the changed markers).
//
// ---- Hooks for the browser tests ---------------------------------------------------------------
// window.baojing = {
//   markers:   Map<alarmId (number), L.Marker>  one marker per located alarm of an open incident;
//              marker.getLatLng() is in the map's CRS (WGS-84 unless config.map.crs is "gcj02");
//              marker.bjIncidentId / .bjAlarmId / .bjSource describe it. The Map object is created
//              once and kept (entries come and go), so a reference taken early stays valid.
//   map:       the L.Map (null until logged in and the config is loaded)
//   alertsPlayed: number of new-incident sirens started (only counted when audio is running)
//   alertsSoft:   number of soft single beeps started instead (see "Which new incident sounds how")
//   alertsMissed: new incidents that arrived while sound was off (no siren or beep could play)
//   lastAlertAt:  Date.now() when the last siren or beep started (null before the first)
//   lastAlertIncidentId: the incident that started it; lastAlertKind: "siren" | "beep"
//   ready:      true once logged in, the snapshot is applied and the live feed is "live" once
//   connection: "idle" | "connecting" | "live" | "offline" | "syncing" | "unauthorized" | "error"
//   incidents:  Map<incidentId, IncidentOut> as the console currently knows them
//   live:       the connectLive() handle ({seq, drop(), stop()}) — tests may drop() it
//   feed(name, data, seq): apply a live event as if it came from the socket (bench/console.py)
//   frames:     how many times draw() ran (one per animation frame with changes, at most)
//   select(id): open an incident's detail (as a click on its row would)
//   unitMarkers: Map<unitId (number), L.Marker>  one marker per unit with a position that passes the
//              units filter (off duty hidden unless "show off duty"; the station select), plus the
//              units picked or sent for the open incident. getLatLng() as for markers; .bjUnitId,
//              .bjStatus. Created once and kept, like markers. Markers move on "units.moved".
//   units:     Map<unitId, UnitOut> as the console knows them (position = newest seen)
//   unitsReady: true once /api/units has loaded (it reloads after a reconnect or resync)
//   myStationId: the logged-in user's station_id (null: no station, e.g. the city dispatcher)
//   overdueAlerts: number of assignment.overdue alerts raised (sound + banners), one per assignment
//   ctiPops:   number of cti.call events handled (matched: incident selected; or "no record" banner)
//   showTab("queue" | "units" | "calls"): switch the left column's tab
//   calls, call, callRings: the video desk (videodesk.js header): calls = Map<callId, CallOut>,
//     call = {id, me, peers: Map<partyId, RTCPeerConnection>, …} for the call in view, or null
// }
// The first snapshot after login plays no siren (only incidents first seen later, from live events
// or a resync snapshot, do); wait for window.baojing.ready before reading alertsPlayed.
//
// Which new incident sounds how: the two-tone siren plays for incidents routed to my station
// (incident.station_id === my station_id) and for unrouted ones (station_id null: no station's
// jurisdiction holds the position, or there is none). An incident routed to another station gets
// one soft beep (that station's consoles siren for it). A user without a station (the city command
// centre) hears the siren for every incident. Within a priority the queue lists my station's
// incidents first ("本所" badge). An offer nobody accepted (assignment.overdue) plays three quick
// high pips twice, unlike either.
//
// data-testid attributes:
//   login: login-form, login-username, login-password, login-submit, login-error, login-lang-toggle,
//     role-guide (where each role works), wrong-page (in login-error: another role's account, with
//     role-page-link data-page = where it goes; shared/rolepages.js)
//   header: connection-state (data-state = the connection value above), stale-banner,
//     sound-state (data-state = on|off|unsupported), sound-enable (button, shown while off),
//     sound-banner (big "sound is off" bar over the queue; a click enables sound), sound-test,
//     user-name, logout, lang-toggle, count-new, count-claimed
//   queue: queue, queue-empty, queue-row (data-incident-id, data-status, data-priority; class
//     "flash" while a new one flashes), in a row: queue-priority, queue-age ("02:37"),
//     queue-status (data-status), queue-phone, queue-claim (button, status "new" only);
//     recently closed: closed-list, closed-count, closed-row (data-incident-id), closed-rating
//     (data-score: the caller's stars). The queue draws only the rows in view when it is long.
//   map: map, map-marker (data-alarm-id, data-incident-id, data-source, data-locked; only the
//     markers outside clusters are in the page), map-cluster (data-count, data-kind new|claimed),
//     map-legend (data-state collapsed|open, remembered per user), map-legend-toggle, map-fit-all (button: show every alarm), no-basemap, pick-banner, pick-cancel,
//     unit-marker (data-unit-id, data-status = the unit's status, data-stale = true|false; class
//     "is-hi" when picked/sent for the open incident), map-station (data-station-id: its name label)
//   left column tabs: tab-queue, tab-units (aria-selected), tab-units-n (available units)
//   units panel: units-panel, units-station (select; "" = all, remembered), units-show-off
//     (checkbox, remembered), units-summary, units-list, units-empty, unit-row (data-unit-id,
//     data-status, data-stale), in a row: unit-call-sign, unit-status (data-status), unit-incident
//     (button "#id", data-incident-id), unit-pos-age ("位置 12 秒前" / "位置已过时：3 分钟前")
//   queue rows also: data-mine (my station's), data-overdue (an offer unanswered), class "cti"
//     while a matched 110 call flashes it, queue-mine
//     ("本所" badge), queue-timer-dispatched, queue-timer-on-scene (mm:ss, data-timer),
//     queue-assignment (data-unit-id, data-status; one chip per active assignment)
//   alerts over the map: alert-stack, overdue-alert (data-incident-id, data-assignment-id) with
//     overdue-alert-dispatch (data-unit-id: one-click dispatch of the proposal) and overdue-dismiss;
//     cti-alert (data-call-id, data-matched = true|false, data-incident-id) with cti-dismiss
//   detail: detail-panel (data-incident-id, data-status), detail-close, detail-status (data-status), detail-age,
//     detail-priority, detail-banner, detail-error (data-code, e.g. "already_claimed"),
//     claim-button, claim-holder, detail-callers, detail-alarm (data-alarm-id), detail-phone,
//     detail-name, detail-position (data-source, data-locked), position-locked, set-position
//     (data-alarm-id), detail-abuse-marked (why it came in lowered), abuse-mark-open, abuse-mark-form,
//     abuse-mark-target (select), abuse-mark-reason, abuse-mark-submit, abuse-mark-cancel,
//     abuse-mark-error, abuse-mark-done (console/abusemark.js), classify-type (select), classify-priority (radio group) with
//     classify-priority-1..4 (radios), classify-submit, notes-list, note-item, note-input,
//     note-input-count ("12/2000", at the cap "已达上限…"), note-submit, close-disposition (select),
//     close-note, close-note-count (once typed in), close-submit, merge-open, merge-panel,
//     merge-candidate (checkbox, data-incident-id; the 50 likeliest), merge-more (how many are not
//     listed), merge-submit, open-merged-into, timeline, timeline-item (data-name)
//   detail timers: detail-timers; detail-age (since received), timer-dispatched, timer-on-scene
//     (mm:ss ticking, "--:--" before; fixed once closed; each has data-timer)
//   detail dispatch: detail-mine ("本所" in the header), dispatch-section, detail-station
//     (data-station-id: the incident's jurisdiction station), assignments, assignment-row
//     (data-assignment-id, data-unit-id, data-status), in a row: assignment-status (data-status),
//     assignment-timer (current step, mm:ss), assignment-cancel (first click arms "确认撤回？",
//     the second recalls); rec-list, rec-row (data-unit-id), in a row: rec-check (checkbox;
//     the nearest is ticked while nothing is dispatched yet), rec-call-sign, rec-distance
//     ("555 米", "1.2 公里"), rec-eta ("约 4 分钟"), rec-juris ("✓ 辖区"); rec-no-position (the
//     incident has no position yet: refreshed as soon as one arrives); dispatch-button
//   detail alerts: overdue-banner (data-assignment-id, data-unit-id; with overdue-dispatch,
//     data-unit-id), cti-banner (data-call-id: "来电 138…" while a matched call rings)
//   toast
//   video desk (videodesk.js header): calls-tab, calls-pane, call-row, call-answer, call-view, …
// -----------------------------------------------------------------------------------------------
import { connectLive } from "/shared/live.js";
import { loginSteps } from "/shared/login.js";
import { get, getLarge, post, setDateListener, setUnauthorizedHandler } from "/shared/api.js";
import { eachInSlices } from "/shared/slices.js";
import { t, setLang, getLang, onLang, applyStatic, errorText, distanceText, setLabels, label } from "/shared/i18n.js";
import { roleGuide, wrongPage } from "/shared/rolepages.js";
import { etaText } from "./i18n.js";
import { html, render, nothing } from "/vendor/lit-html/lit-html.js";
import { repeat } from "/vendor/lit-html/directives/repeat.js";
import { now, noteServerDate } from "./clock.js";
import { parseTime, clockText } from "/shared/time.js";
import { MapView } from "./mapview.js";
import { QueueView, isActiveAssignment, isOverdue, starsText, phoneTpl, timerTpl } from "./queue.js";
import { Store, OpenList, frameScheduler } from "./store.js";
import { DetailView } from "./detail.js";
import { UnitsView } from "./units.js";
import * as sound from "./sound.js";
import { VideoDesk } from "./videodesk.js";

setDateListener(noteServerDate); // "time since received" follows the server's clock

const OPEN = new Set(["new", "claimed"]);
const RECENT_MS = 2 * 3600 * 1000;
const FLASH_MS = 10000;
const STALE_AFTER_MS = 3000;
const RECS_EVERY_MS = 10000;     // recommendations of the open incident refresh this often (units move)
const CTI_KEEP_MS = 120000;      // how long a "call from" banner stays
const ACTIVE_UNIT = new Set(["dispatched", "en_route", "on_scene"]);
const HEAD_ROWS = 20;            // the queue's first incidents, painted while the whole snapshot loads

const hooks = {
  markers: new Map(), map: null, alertsPlayed: 0, alertsMissed: 0, lastAlertAt: null, lastAlertIncidentId: null,
  ready: false, connection: "idle", incidents: null, live: null, select: (id) => select(id),
  unitMarkers: new Map(), units: null, unitsReady: false, alertsSoft: 0, lastAlertKind: null,
  overdueAlerts: 0, ctiPops: 0, myStationId: null, showTab: (name) => showTab(name),
  feed: (name, data, seq) => onEvent(name, data, seq), frames: 0,
};
window.baojing = hooks;

const schedule = frameScheduler(() => draw());
// What needs drawing besides the changed incidents and units: "detail" (with the units it shows on
// the map), "panel" (the detail alone), "alerts", "closed", "units".
const need = new Set();
function want(...parts) {
  for (const p of parts) need.add(p);
  schedule();
}

const S = {
  config: null,
  lookups: null,
  user: null,
  incidents: new Store(schedule),
  alarmOwner: new Map(),    // alarmId -> incidentId (merges move alarms)
  open: new OpenList((inc) => OPEN.has(inc.status)),
  trails: new Map(),        // alarmId -> [{lat, lon, accuracy_m, source, at, flag}]
  known: new Set(),         // incident ids ever seen (a first sighting with status "new" sounds)
  flashUntil: new Map(),
  claiming: new Set(),
  selectedId: null,
  picking: null,            // {alarmId, incidentId}
  live: null,
  buffer: null,             // events held while a snapshot loads
  early: null,              // {head, whole}: the snapshot asked for while the page boots
  head: null,               // only the queue's head is loaded: the server's open counts {new, claimed, ...}
  waiting: 0,               // unclaimed open incidents, as the header last said
  conn: "idle",
  downSince: null,          // when the live feed was last lost (null while live)
  lastLiveAt: null,
  generation: 0,            // bumps on logout so late answers of an old session are dropped
  units: new Store(schedule), // unitId -> UnitOut (position kept newest from units.moved)
  unitBuffer: null,         // unit.upserted events held while /api/units loads
  unitsLoading: null,
  stationsById: new Map(),
  recs: null,               // {incidentId, data, loading, error, at} for the open incident
  proposals: new Map(),     // assignmentId -> recommendation proposed by assignment.overdue
  overdueSeen: new Set(),   // assignment ids already alerted (sound)
  overdueDismissed: new Set(),
  ctiSeen: new Set(),
  ctiAlerts: [],            // [{callId, number, incidentId, at}] newest first
  cti: null,                // the last matched call: {callId, number, incidentId, at}
  ctiFlash: new Map(),      // incidentId -> flash until (ms)
  tab: "queue",
};
hooks.incidents = S.incidents.map;
hooks.units = S.units.map;

const $ = (id) => document.getElementById(id);
let mapView = null;
let queueView = null;
let detailView = null;
let unitsView = null;
let videoDesk = null;

// ---- start ------------------------------------------------------------------------------------
function boot() {
  setLang(getLang());
  applyStatic();
  onLang(relabel);
  wireStatic();
  sound.onSoundState(renderSound);
  setUnauthorizedHandler(() => sessionEnded());
  setInterval(tick, 1000);
  // Still logged in, most likely: the queue is asked for now, not after the config and the
  // session check (two round trips and the map's set-up). showLogin() drops it if not.
  S.early = askSnapshot();
  const me = get("/api/auth/me");
  me.catch(() => {});  // read by checkSession
  loadConfig().catch(() => {}).then(() => checkSession(me));  // public: the login screen lists where each role works
}

// GET /api/config once: words for codes, stations, where each role works.
async function loadConfig() {
  if (S.config) return;
  const cfg = await get("/api/config");
  S.config = cfg;
  setLabels(cfg.labels);
  S.lookups = {
    priorities: new Map((cfg.priorities || []).map((p) => [p.value, p])),
    types: new Map((cfg.incident_types || []).map((p) => [p.code, p])),
    dispositions: new Map((cfg.dispositions || []).map((p) => [p.code, p])),
  };
  S.stationsById = new Map((cfg.stations || []).map((st) => [st.id, st]));
  renderRoleGuide();
}

function renderRoleGuide() {
  $("login-roles").replaceChildren(S.config ? roleGuide(S.config, "/console/") : "");
}

// Does this account work here? Unknown until the config is loaded: the server answers 403 then.
const worksHere = (user) => !S.config || ((S.config.role_pages || {})[user.role] || []).includes("/console/");

// asked: GET /api/auth/me, sent in parallel with the config.
async function checkSession(asked) {
  try {
    const me = await asked;
    if (!worksHere(me.user)) return wrongRole(me.user);
    await startConsole(me.user);
  } catch (err) {
    showLogin(err.status === 401 ? "" : errorText(err));
  }
}

function wireStatic() {
  loginForm = loginSteps($("login-form"));
  $("login-form").addEventListener("submit", onLogin);
  for (const b of document.querySelectorAll("[data-testid=lang-toggle], [data-testid=login-lang-toggle]")) {
    b.addEventListener("click", () => setLang(getLang() === "zh" ? "en" : "zh"));
  }
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
  $("tab-queue").addEventListener("click", () => showTab("queue"));
  $("tab-units").addEventListener("click", () => showTab("units"));
  $("calls-tab").addEventListener("click", () => showTab("calls"));
  $("closed-toggle").addEventListener("click", () => {
    const box = $("closed-box");
    box.classList.toggle("open");
    $("closed-toggle").setAttribute("aria-expanded", String(box.classList.contains("open")));
  });
}

// message: text, or the element wrongPage() builds.
function showLogin(message) {
  S.early = null;
  $("boot").hidden = true;
  $("app").hidden = true;
  $("login-view").hidden = false;
  if (message !== wrongMessage) wrongUser = null;
  const e = $("login-error");
  e.replaceChildren(message || "");
  e.hidden = !message;
  $("login-submit").disabled = false;
  $("login-submit").textContent = t("login");
  setTimeout(() => ($("login-username").value ? $("login-password") : $("login-username")).focus(), 0);
  document.title = t("doc_title");
}

// Another role's account (a traffic officer, a key-unit member, a field officer): told where it
// works instead, in the current language (relabel() says it again after a switch). Signed out here,
// so the form takes the right account next.
let wrongUser = null;
let wrongMessage = null;
async function wrongRole(user) {
  await post("/api/auth/logout").catch(() => {});
  wrongUser = user;
  wrongMessage = wrongPage(S.config, user, "/console/");
  showLogin(wrongMessage);
}

// The shared login steps (password, authenticator code, enrolment, backup codes).
let loginForm;

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
    const res = await loginForm.submit(username, password);
    $("login-password").value = "";
    if (!worksHere(res.user)) return wrongRole(res.user);
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
    await loadConfig();
    hooks.myStationId = myStationId();
    S.open.setStation(myStationId());
    if (gen !== S.generation) return;
    initViews();
    mapView.setUser(user.username);
    const seq = await loadSnapshot(true);
    if (gen !== S.generation) return;
    S.live = connectLive({ since: seq, onEvent, onResync, onState, onLive,
      onMessage: (m) => videoDesk && videoDesk.onMessage(m) });
    videoDesk.load();
    hooks.live = S.live;
  } catch (err) {
    if (gen !== S.generation) return;
    if (err.status === 401) return sessionEnded();
    if (err.status === 403) {
      teardown();
      return wrongRole(user);
    }
    console.error(err);  // eslint-disable-line no-console -- a bug, not a server answer, lands here
    toast(errorText(err), true);
    setConn("error");
    setTimeout(() => gen === S.generation && startConsole(user), 3000);
  }
}

function initViews() {
  if (!mapView) {
    mapView = new MapView($("map"), S.config, {
      onSelect: (id) => select(id),
      onUnit: (id) => onUnitClicked(id),
      onMore: () => schedule(),
    }, hooks.markers, hooks.unitMarkers);
    hooks.map = mapView.map;
    // On a phone-width window the alerts above the map take their height from it (console.css):
    // Leaflet learns of its box changing only on a window resize.
    if (typeof ResizeObserver === "function") new ResizeObserver(() => mapView.invalidate()).observe($("map"));
  }
  if (!unitsView) {
    unitsView = new UnitsView($("units-pane"), {
      onLocate: (id) => mapView.focusUnit(id),
      onSelectIncident: (id) => select(id),
      onFilter: () => renderUnits(),
    });
    unitsView.setStations(S.config.stations || []);
  }
  if (!queueView) {
    queueView = new QueueView($("queue"), $("closed-list"), $("closed-count"), {
      onSelect: (id) => select(id),
      onClaim: (id) => claimFromQueue(id),
    });
  }
  if (!videoDesk) {
    videoDesk = new VideoDesk({
      pane: $("calls-pane"), view: $("call-view"), tab: $("calls-tab"), tabN: $("calls-tab-n"), hooks,
      user: () => S.user, incident: (id) => S.incidents.get(id), units: () => S.units.map, select: (id) => select(id),
      toast, send: (o) => Boolean(S.live && S.live.send(o)),
    });
  }
  if (!detailView) {
    detailView = new DetailView($("detail"), {
      claim: (id) => claim(id),
      classify, addNote, merge, close: closeIncident,
      startPick, cancelPick,
      dispatch: dispatchUnits, cancelAssignment,
      focusUnit: (id) => mapView.focusUnit(id),
      onRecSelection: () => renderUnits(),
      onSelect: (id) => select(id),
      onClosePanel: () => select(null),
      redraw: () => want("panel"),  // the operator's own ticks and typing: the panel alone
      toast,
    });
  }
  mapView.invalidate();
}

function teardown() {
  S.generation += 1;
  if (videoDesk) videoDesk.stop();
  if (S.live) S.live.stop();
  S.live = null;
  hooks.live = null;
  hooks.ready = false;
  S.incidents.clear();
  S.alarmOwner.clear();
  S.open.clear();
  S.trails.clear();
  S.known.clear();
  S.flashUntil.clear();
  S.claiming.clear();
  S.buffer = null;
  S.head = null;
  S.units.clear();
  S.unitBuffer = null;
  S.unitsLoading = null;
  hooks.unitsReady = false;
  S.recs = null;
  S.proposals.clear();
  S.overdueSeen.clear();
  S.overdueDismissed.clear();
  S.ctiSeen.clear();
  S.ctiAlerts = [];
  S.cti = null;
  S.ctiFlash.clear();
  if (S.picking) cancelPick();
  S.selectedId = null;
  if (detailView) detailView.close();
  document.body.classList.remove("has-detail");
  $("detail").hidden = true;
  draw();
  if (mapView) mapView.renderUnits(S.units.map, { passes: () => true, highlight: new Set(), links: [], now: now() });
  if (unitsView) unitsView.render(S.units.map, ctx());
  renderAlertStack();
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
// The whole snapshot of 10,000 open incidents takes the server seconds: the head of the queue
// (and how many are open) comes first, so the operator reads and claims the oldest meanwhile.
// index.html preloads the head (HEAD_ROWS there too) with the config and the session.
function askSnapshot() {
  const head = get(`/api/console/snapshot?first=${HEAD_ROWS}`);
  const whole = head.then(() => getLarge("/api/console/snapshot"));
  whole.catch(() => {});  // when unused (logged out): not an unhandled rejection
  return { head, whole };
}

// The head alone: the queue's first rows, and the server's counts of all open incidents until the
// whole snapshot replaces them (draw() adds what changed here since, e.g. a claim).
function applyHead(head) {
  let localNew = 0, localClaimed = 0;
  for (const inc of head.incidents) {
    S.known.add(inc.id);
    putIncident(inc);
    if (inc.status === "new") localNew += 1;
    else if (inc.status === "claimed") localClaimed += 1;
  }
  S.head = { ...head.open, localNew, localClaimed };
}

async function loadSnapshot(initial) {
  const gen = S.generation;
  S.buffer = S.buffer || [];
  if (!initial) setConn("syncing");
  let snap;
  try {
    if (initial) {
      const early = S.early || askSnapshot();
      S.early = null;
      const head = await early.head;
      if (gen !== S.generation) return head.seq;
      applyHead(head);
      // Creating the audio context takes ~100 ms: after the frame that shows the queue. (No
      // incident of the first snapshot sounds; the live ones come after the whole of it.)
      requestAnimationFrame(() => setTimeout(() => sound.initSound(), 0));
      snap = await early.whole;
    } else {
      snap = await getLarge("/api/console/snapshot");
    }
  } catch (err) {
    S.buffer = null;
    throw err;
  }
  if (gen !== S.generation) return snap.seq;
  // 10,000 incidents are sorted out in slices, the page answering in between (the head, or what
  // the page showed before a resync, stays on screen meanwhile); then the stores change at once.
  const fresh = new Map();
  await eachInSlices(snap.incidents, (inc) => {
    fresh.set(inc.id, inc);
    if (!initial && !S.known.has(inc.id) && inc.status === "new") alertNew(inc);
    S.known.add(inc.id);
  });
  if (gen !== S.generation) return snap.seq;
  S.head = null;
  // The selected incident stays known even if it left the snapshot (merged, closed long ago).
  if (S.selectedId && !fresh.has(S.selectedId) && S.incidents.has(S.selectedId)) {
    fresh.set(S.selectedId, S.incidents.get(S.selectedId));
  }
  for (const id of [...S.incidents.keys()]) if (!fresh.has(id)) S.incidents.delete(id);
  for (const inc of fresh.values()) putIncident(inc);
  // Units after the snapshot: their seq is then at least the snapshot's, and the live feed (which
  // resumes from the snapshot's seq) brings any unit change in between again (harmless). The
  // queue is drawn meanwhile; live events wait in the buffer.
  await loadUnits();
  if (gen !== S.generation) return snap.seq;
  const held = S.buffer || [];
  S.buffer = null;
  // Unit events held here arrived in order after /api/units answered: applying them all ends on
  // the newest state.
  for (const ev of held) if (ev.seq > snap.seq || ev.name === "unit.upserted") applyEvent(ev.name, ev.data);
  if (S.selectedId) loadDetail(S.selectedId);
  if (!initial && S.conn === "syncing") setConn(S.live ? "live" : "connecting");
  want("detail", "closed", "alerts");
  return snap.seq;
}

function onEvent(name, data, seq) {
  if (name === "unit.upserted" && S.unitBuffer) {
    S.unitBuffer.push({ data, seq });
    return;
  }
  if (S.buffer) {
    S.buffer.push({ name, data, seq });
    return;
  }
  applyEvent(name, data);
}

async function onResync() {
  try {
    await loadSnapshot(false);
    if (videoDesk) videoDesk.load();
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
    // Unit movements are not replayed: reload where every unit is.
    if (wasDown) loadUnits().catch(() => {});
    if (wasDown && videoDesk) videoDesk.load();
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
  else if (name === "unit.upserted") upsertUnit(data);
  else if (name === "assignment.overdue") applyOverdue(data);
  else if (name === "cti.call") applyCti(data);
  else if (name === "incident.rated") applyRated(data);
  else if (name === "incident.routed") applyRouted(data);
  else if (name === "media.added" && detailView) detailView.addMedia(data);
  if (videoDesk && (name.startsWith("call.") || name === "media.added" || name === "incident.upserted")) {
    videoDesk.onEvent(name, data);
  }
  if (S.conn === "live") S.lastLiveAt = Date.now();
}

// Unsequenced live messages: state not worth replaying (a reconnect reloads instead).
function onLive(name, data) {
  if (name === "units.moved") applyMoved(data);
}

// ---- units -------------------------------------------------------------------------------------
// GET /api/units, while holding unit.upserted events; those newer than its seq are applied after.
function loadUnits() {
  if (S.unitsLoading) return S.unitsLoading;
  const gen = S.generation;
  S.unitBuffer = S.unitBuffer || [];
  S.unitsLoading = (async () => {
    try {
      const res = await get("/api/units");
      if (gen !== S.generation) return;
      const fresh = new Map();
      for (const u of res.units || []) fresh.set(u.id, keepNewerPosition(u, S.units.get(u.id)));
      for (const id of [...S.units.keys()]) if (!fresh.has(id)) S.units.delete(id);
      for (const [id, u] of fresh) S.units.set(id, u);
      const held = S.unitBuffer || [];
      S.unitBuffer = null;
      for (const ev of held) if (ev.seq > res.seq) upsertUnit(ev.data);
      hooks.unitsReady = true;
    } catch (err) {
      // Keep what we had; the next reconnect or resync tries again.
      if (gen === S.generation) {
        const held = S.unitBuffer || [];
        S.unitBuffer = null;
        for (const ev of held) upsertUnit(ev.data);
        if (err.status !== 401) toast(errorText(err), true);
      }
    } finally {
      S.unitsLoading = null;
    }
  })();
  return S.unitsLoading;
}

function keepNewerPosition(u, prev) {
  if (prev && prev.position && (!u.position || parseTime(prev.position.at) > parseTime(u.position.at))) {
    return { ...u, position: prev.position };
  }
  return u;
}

function upsertUnit(u) {
  if (!u || typeof u.id !== "number") return;
  const prev = S.units.get(u.id);
  S.units.set(u.id, keepNewerPosition(u, prev));
  // A unit that became (un)available changes what the open incident should be offered.
  if (S.selectedId && (!prev || prev.status !== u.status)) refreshRecsSoon(400);
}

let unknownUnitReload = 0;
function applyMoved(data) {
  let changed = false;
  for (const m of (data && data.units) || []) {
    const u = S.units.get(m.id);
    if (!u) {
      // A unit we have not heard of (added since we loaded): reload, at most every 10 s.
      if (Date.now() - unknownUnitReload > 10000) {
        unknownUnitReload = Date.now();
        loadUnits().catch(() => {});
      }
      continue;
    }
    if (!m.position || (u.position && parseTime(u.position.at) > parseTime(m.position.at))) continue;
    S.units.set(m.id, { ...u, position: m.position, stale: false });
  }
}

function myStationId() {
  const id = S.user ? S.user.station_id : null;
  return id === undefined ? null : id;
}

function onUnitClicked(unitId) {
  const u = S.units.get(unitId);
  if (!u) return;
  if (u.incident_id) return select(u.incident_id);
  showTab("units");
  const row = document.querySelector(`[data-testid=unit-row][data-unit-id="${unitId}"]`);
  if (row) {
    row.scrollIntoView({ block: "nearest" });
    row.classList.remove("ping");
    void row.offsetWidth;
    row.classList.add("ping");
  }
}

function showTab(name) {
  S.tab = name === "units" || name === "calls" ? name : "queue";
  const units = S.tab === "units";
  for (const [tab, pane, on] of [["tab-queue", "queue-pane", S.tab === "queue"], ["tab-units", "units-pane", units],
    ["calls-tab", "calls-pane", S.tab === "calls"]]) {
    $(pane).hidden = !on;
    $(tab).setAttribute("aria-selected", String(on));
    $(tab).classList.toggle("on", on);
  }
  if (units) renderUnits();
}

// ---- dispatch: recommendations, overdue offers, CTI calls ---------------------------------------
let recsGen = 0;
async function loadRecs(id) {
  const inc = S.incidents.get(id);
  if (!inc || !OPEN.has(inc.status)) return;
  const cur = S.recs && S.recs.incidentId === id ? S.recs : null;
  S.recs = { incidentId: id, data: cur ? cur.data : null, loading: true, error: null, at: Date.now() };
  const gen = ++recsGen;
  try {
    const data = await get(`/api/incidents/${id}/recommendations`);
    if (gen !== recsGen || S.selectedId !== id) return;
    S.recs = { incidentId: id, data, loading: false, error: null, at: Date.now() };
  } catch (err) {
    if (gen !== recsGen || S.selectedId !== id) return;
    S.recs = { incidentId: id, data: cur ? cur.data : null, loading: false, error: err, at: Date.now() };
  }
  want("detail");
}

// Soon, not "after the events stop": a timer already set for the same incident stays, so a steady
// stream of its events cannot postpone the refresh for ever.
let recsTimer = null, recsFor = null;
function refreshRecsSoon(delay = 400) {
  const id = S.selectedId;
  if (recsTimer !== null && recsFor === id) return;
  clearTimeout(recsTimer);
  recsFor = id;
  recsTimer = setTimeout(() => {
    recsTimer = recsFor = null;
    if (id !== null && S.selectedId === id) loadRecs(id);
  }, delay);
}

function applyOverdue({ assignment, incident_id: incidentId, proposal }) {
  if (!assignment) return;
  S.proposals.set(assignment.id, proposal || null);
  const inc = S.incidents.get(incidentId);
  const cur = inc && (inc.assignments || []).find((a) => a.id === assignment.id);
  if (cur && cur.status !== "dispatched") return;  // answered meanwhile (a replayed event)
  if (cur && !cur.overdue_at) cur.overdue_at = assignment.overdue_at || new Date().toISOString();
  if (!S.overdueSeen.has(assignment.id)) {
    S.overdueSeen.add(assignment.id);
    hooks.overdueAlerts += 1;
    if (!sound.playOverdue()) nudgeSound();
  }
  if (inc) S.incidents.touch(incidentId);
  want("alerts");
}

function applyCti(d) {
  if (!d || S.ctiSeen.has(d.call_id)) return;
  S.ctiSeen.add(d.call_id);
  hooks.ctiPops += 1;
  const alert = { callId: d.call_id, number: d.caller_number, incidentId: d.incident_id ?? null, at: Date.now() };
  S.ctiAlerts = [alert, ...S.ctiAlerts.filter((a) => a.callId !== d.call_id)].slice(0, 3);
  if (alert.incidentId !== null) {
    S.cti = alert;
    S.ctiFlash.set(alert.incidentId, Date.now() + FLASH_MS);
    showTab("queue");
    select(alert.incidentId);
    S.incidents.touch(alert.incidentId);
    if (queueView) queueView.reveal(alert.incidentId);
  }
  want("alerts");
}

// A caller rated the handling: the incident's timeline and the closed list show the stars.
function applyRated(d) {
  if (!d) return;
  const inc = S.incidents.get(d.incident_id);
  if (inc) {
    const a = (inc.alarms || []).find((x) => x.id === d.alarm_id);
    if (a && !a.rating) {
      a.rating = { score: d.score, comment: d.comment, at: d.at };
      S.incidents.touch(inc.id);
    }
  }
  if (d.incident_id === S.selectedId) refreshDetailSoon(d.incident_id);
  want("closed");
  toast(t("rated_toast", { id: d.incident_id, stars: starsText(d.score) }));
}

function nudgeSound() {
  const el = $("sound-state");
  el.classList.remove("nudge");
  void el.offsetWidth;  // restart the animation
  el.classList.add("nudge");
}

// Find an alarm wherever it is now (merges move alarms between incidents).
function findAlarm(alarmId, incidentId) {
  for (const id of [incidentId, S.alarmOwner.get(alarmId)]) {
    const inc = S.incidents.get(id);
    const a = inc && (inc.alarms || []).find((x) => x.id === alarmId);
    if (a) return { a, inc };
  }
  return { a: null, inc: null };
}

// Every incident goes into the store through here, so that where each alarm is stays known
// without searching 10,000 incidents for it.
function putIncident(inc) {
  S.incidents.set(inc.id, inc);
  for (const a of inc.alarms || []) S.alarmOwner.set(a.id, inc.id);
}

// reload: false for the detail's own answer, which must not ask for itself again (it did, every
// 400 ms while an incident was open, and the recommendations' timer never came round).
function upsertIncident(inc, { reload = true } = {}) {
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
  putIncident(inc);
  if (first && inc.status === "new") alertNew(inc);
  if (!OPEN.has(inc.status)) S.flashUntil.delete(inc.id);
  if (inc.id === S.selectedId) {
    if (reload) refreshDetailSoon(inc.id);
    refreshRecsSoon(500);
    if (S.picking && !OPEN.has(inc.status)) cancelPick();
  } else if (detailView && detailView.mergeOpen) {
    want("detail");
  }
  if (!OPEN.has(inc.status) || (prev && !OPEN.has(prev.status))) want("closed");
  if ((inc.assignments || []).length || (prev && (prev.assignments || []).length)) want("alerts");
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
  if (a && location && !(a.location && parseTime(a.location.at) > parseTime(location.at))) {
    a.location = location;
    // The nearest units are measured from here now (a late first fix turns "no position" into a list).
    if (inc && inc.id === S.selectedId) refreshRecsSoon(400);
  }
  if (inc) S.incidents.touch(inc.id);
}

// A position put the incident in another jurisdiction: the open detail's station, timeline and
// recommendations follow (its incident.upserted brings the station itself).
function applyRouted(d) {
  if (!d || d.incident_id !== S.selectedId) return;
  refreshDetailSoon(d.incident_id);
  refreshRecsSoon(400);
}

function applyNote({ incident_id: incidentId, note }) {
  if (detailView && detailView.id === incidentId && note) detailView.addNote(note, ctx());
}

// ---- new incident alert -------------------------------------------------------------------------
// The siren is for my station's incidents and for unrouted ones (no station's jurisdiction holds
// them); an incident routed to another station gets one soft beep (that station's console sirens).
// A user with no station (the city command centre) hears the siren for every incident.
function sirenFor(inc) {
  const mine = myStationId();
  return mine === null || inc.station_id === null || inc.station_id === undefined || inc.station_id === mine;
}

function alertNew(inc) {
  S.flashUntil.set(inc.id, Date.now() + FLASH_MS);
  const siren = sirenFor(inc);
  const started = () => {
    if (siren) hooks.alertsPlayed += 1;
    else hooks.alertsSoft += 1;
    hooks.lastAlertAt = Date.now();
    hooks.lastAlertIncidentId = inc.id;
    hooks.lastAlertKind = siren ? "siren" : "beep";
  };
  const ok = siren ? sound.playSiren(started) : sound.playSoft(started);
  if (!ok) {
    hooks.alertsMissed += 1;
    nudgeSound();
  }
}

// ---- rendering ------------------------------------------------------------------------------------
// Closed incidents of the last 2 hours, and those rated within them (the caller rates later).
function closedList() {
  const n = now();
  const closed = [];
  for (const inc of S.incidents.values()) {
    if (inc.status !== "closed") continue;
    const r = (inc.alarms || []).find((a) => a.rating);
    const last = Math.max(parseTime(inc.closed_at) || 0, (r && parseTime(r.rating.at)) || 0);
    if (n - last < RECENT_MS) closed.push(inc);
  }
  return closed;
}

function ctx() {
  const nowMs = Date.now();
  const flashing = new Set();
  for (const [id, until] of S.flashUntil) if (until > nowMs) flashing.add(id);
  const ctiFlash = new Set();
  for (const [id, until] of S.ctiFlash) if (until > nowMs) ctiFlash.add(id);
  return {
    lang: getLang(),
    myStationId: myStationId(),
    stationsById: S.stationsById,
    ctiFlash,
    recs: S.recs,
    proposals: S.proposals,
    cti: S.cti && nowMs - S.cti.at < CTI_KEEP_MS ? S.cti : null,
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
    get open() { return S.open.incidents(); },  // merge candidates (only while merging)
    pickingAlarmId: S.picking ? S.picking.alarmId : null,
  };
}

const isOpen = (inc) => OPEN.has(inc.status);

// One frame's drawing: the changed incidents and units, and the parts asked for with want().
function draw() {
  const started = performance.now();  // the map places markers in what is left of the frame's time
  hooks.frames += 1;
  const ids = S.incidents.take();
  const unitIds = S.units.take();
  const parts = new Set(need);
  need.clear();
  if (ids.size) S.open.update(ids, S.incidents);
  if (!queueView) return;
  const c = ctx();
  queueView.render(S.open, c);
  if (parts.has("closed") || parts.has("lang")) queueView.renderClosed(closedList(), c);
  // The head's markers wait for the whole snapshot (which touches every incident again): the
  // first frame is the header and the queue's rows only.
  if (!S.head && (ids.size || S.selectedId !== mapView.selectedId || mapView.pending.size)) {
    mapView.sync(ids, S.incidents.map, S.trails, S.selectedId, isOpen, started);
  }
  let nNew = 0, overdue = false;
  for (const it of S.open.items) {
    if (it.inc.status === "new") nNew += 1;
    if (!overdue && (it.inc.assignments || []).some(isOverdue)) overdue = true;
  }
  let nClaimed = S.open.length - nNew;
  if (S.head) {
    nNew += S.head.new - S.head.localNew;
    nClaimed += S.head.claimed - S.head.localClaimed;
  }
  S.waiting = nNew;
  $("count-new").textContent = String(nNew);
  $("count-new").parentElement.classList.toggle("hot", nNew > 0);
  $("count-claimed").textContent = String(nClaimed);
  $("tab-queue-n").textContent = String(nNew + nClaimed);
  // Looking at the units while new alarms wait: the queue tab says so loudly.
  $("tab-queue").classList.toggle("hot", nNew > 0 || overdue);
  if (detailView && detailView.isOpen && (ids.has(S.selectedId) || parts.has("detail") || parts.has("panel") ||
      parts.has("lang"))) {
    const inc = S.incidents.get(S.selectedId);
    if (inc) detailView.update(inc, c);
  }
  const sel = S.selectedId !== null ? S.incidents.get(S.selectedId) : null;
  mapView.highlightStation(sel && sel.station_id !== undefined ? sel.station_id : null);
  if (unitIds.size || parts.has("units") || parts.has("detail") || parts.has("lang") || ids.has(S.selectedId)) renderUnits(c);
  if (parts.has("alerts") || parts.has("lang")) renderAlertStack();
}

// Units on the map and in the panel. The filter (station, off duty) applies to both, except that
// the units picked or sent for the open incident always show on the map.
function renderUnits(c) {
  if (!unitsView || !mapView) return;
  c = c || ctx();
  const nowMs = now();
  const sel = S.selectedId !== null ? S.incidents.get(S.selectedId) : null;
  const highlight = new Set(detailView && detailView.isOpen && sel && OPEN.has(sel.status) ? detailView.selectedRecs() : []);
  const links = [];
  if (sel) {
    const loc = ((sel.alarms || []).find((a) => a.location) || {}).location;
    for (const a of (sel.assignments || []).filter(isActiveAssignment)) {
      highlight.add(a.unit_id);
      if (loc) links.push({ unitId: a.unit_id, lat: loc.lat, lon: loc.lon, status: a.status === "accepted" ? "dispatched" : a.status });
    }
  }
  mapView.renderUnits(S.units.map, { passes: (u) => unitsView.passes(u), highlight, links, now: nowMs });
  if (S.tab === "units") unitsView.render(S.units.map, c);
  let free = 0;
  for (const u of S.units.values()) if (u.status === "available") free += 1;
  $("tab-units-n").textContent = String(free);
  $("tab-units").title = t("units_summary", { a: free, d: [...S.units.values()].filter((u) => ACTIVE_UNIT.has(u.status)).length,
    b: [...S.units.values()].filter((u) => u.status === "busy").length,
    o: [...S.units.values()].filter((u) => u.status === "off_duty").length });
}

// Over the map, top right: offers nobody accepted (until answered or dismissed) and ringing calls.
// Drawn again each second (their clocks tick) and when they change; lit-html touches only what did.
const alertBusy = new Set();  // assignment ids whose one-click dispatch is on its way
function renderAlertStack() {
  const box = $("alert-stack");
  if (!S.user) {
    render(nothing, box);
    return;
  }
  const nowMs = Date.now();
  const overdue = [];
  for (const { inc } of S.open.items) {
    if (inc.id === S.selectedId) continue;  // the open detail shows its own overdue banners
    for (const a of inc.assignments || []) {
      if (!isOverdue(a) || S.overdueDismissed.has(a.id)) continue;
      // Handled once the proposed unit was sent (the row keeps its red "not accepted" chip).
      const prop = S.proposals.get(a.id);
      if (prop && (inc.assignments || []).some((x) => x.unit_id === prop.unit_id && isActiveAssignment(x))) continue;
      overdue.push({ inc, a });
    }
  }
  S.ctiAlerts = S.ctiAlerts.filter((x) => nowMs - x.at < CTI_KEEP_MS);
  const dismissCti = (x) => {
    S.ctiAlerts = S.ctiAlerts.filter((y) => y.callId !== x.callId);
    renderAlertStack();
  };
  const sendProposal = async (inc, a, prop) => {
    alertBusy.add(a.id);
    renderAlertStack();
    try {
      await dispatchUnits(inc.id, [prop.unit_id]);
    } catch (err) {
      toast(errorText(err), true);
    }
    alertBusy.delete(a.id);
    renderAlertStack();
  };
  render(html`${repeat(S.ctiAlerts, (x) => x.callId, (x) => {
    const matched = x.incidentId !== null;
    return html`<div class="alert cti${matched ? "" : " small"}" data-testid="cti-alert" role="status" data-call-id=${x.callId}
      data-matched=${String(matched)} data-incident-id=${matched ? x.incidentId : ""}>
      <span class="al-ico" aria-hidden="true">☎</span>
      <span class="al-text">${t("cti_banner", { phone: "" })}${phoneTpl(x.number)}<span class="al-sub"> · ${
        matched ? t("cti_matched", { id: x.incidentId }) : t("cti_unmatched")}</span><span class="muted"> ${clockText(x.at)}</span></span>
      ${matched ? html`<button type="button" class="btn btn-small" @click=${() => select(x.incidentId)}>${
        t("go_to_incident", { id: x.incidentId })}</button>` : nothing}
      <button type="button" class="btn btn-small btn-x" data-testid="cti-dismiss" aria-label=${t("dismiss")}
        @click=${() => dismissCti(x)}>×</button>
    </div>`;
  })}${repeat(overdue, ({ a }) => a.id, ({ inc, a }) => {
    const prop = S.proposals.get(a.id);
    return html`<div class="alert overdue" data-testid="overdue-alert" role="alert" data-incident-id=${inc.id} data-assignment-id=${a.id}>
      <span class="al-ico" aria-hidden="true">⚠</span>
      <span class="al-text"><b>#${inc.id} </b>${t("overdue_banner", { name: a.call_sign })} ${
        timerTpl("overdue", parseTime(a.dispatched_at), null)}${prop ? html`<span class="al-sub"> · ${
        t("overdue_propose", { name: prop.call_sign, d: distanceText(prop.distance_m), eta: etaText(prop.eta_s) })}</span>` : nothing}</span>
      <span class="al-btns">
        ${prop ? html`<button type="button" class="btn btn-small btn-dispatch" data-testid="overdue-alert-dispatch"
          data-unit-id=${prop.unit_id} ?disabled=${alertBusy.has(a.id)} @click=${() => sendProposal(inc, a, prop)}>${
          t("overdue_dispatch", { name: prop.call_sign })}</button>` : nothing}
        <button type="button" class="btn btn-small" @click=${() => select(inc.id)}>${t("overdue_open", { id: inc.id })}</button>
        <button type="button" class="btn btn-small" data-testid="overdue-dismiss" @click=${() => {
          S.overdueDismissed.add(a.id);
          renderAlertStack();
        }}>${t("dismiss")}</button>
      </span>
    </div>`;
  })}`, box);
}

function renderConn() {
  const el = $("connection-state");
  let key = { live: "conn_live", connecting: "conn_connecting", offline: "conn_offline", syncing: "conn_syncing",
    unauthorized: "conn_unauthorized", error: "conn_error", idle: "conn_connecting" }[S.conn] || "conn_offline";
  // After having been live, any attempt to get back is "reconnecting" (no flicker between states).
  if ((S.conn === "connecting" || S.conn === "offline") && S.lastLiveAt) key = "conn_offline";
  el.dataset.state = S.conn;
  el.querySelector(".txt").textContent = t(key);
  el.title = S.lastLiveAt ? `${t("stale_since")} ${clockText(S.lastLiveAt)}` : "";
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
    b.querySelector(".since").textContent = S.lastLiveAt ? ` · ${t("stale_since")} ${clockText(S.lastLiveAt)}` : "";
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
  const el = $("user-name");
  el.textContent = u.display_name;
  el.title = `${u.username} · ${label("roles", u.role)}`;
}

let titleOn = false;
let tickCount = 0;
function tick() {
  if (queueView) queueView.tick();
  if (detailView) detailView.tick();
  if (unitsView && S.tab === "units") unitsView.tick();
  if (videoDesk && S.user) videoDesk.tick();
  if (S.user && $("alert-stack").firstElementChild) renderAlertStack();  // the overdue clocks
  if (S.user) renderStale();
  // Flash the title while unclaimed incidents wait; end row flashes whose time is up.
  const nNew = S.user ? S.waiting : 0;
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
  for (const [id, until] of S.ctiFlash) {
    if (until <= nowMs) {
      S.ctiFlash.delete(id);
      expired = true;
    }
  }
  if (expired) schedule();
  tickCount += 1;
  // Every 5 s: units cross the 2-minute stale line on the map; call banners expire.
  if (tickCount % 5 === 0 && S.user) {
    renderUnits();
    if (S.ctiAlerts.some((x) => nowMs - x.at >= CTI_KEEP_MS)) renderAlertStack();
    if (S.cti && nowMs - S.cti.at >= CTI_KEEP_MS && S.cti.incidentId === S.selectedId) {
      S.cti = null;
      want("detail");
    }
  }
  // The open incident's recommendations: units move, distances change.
  if (S.selectedId !== null && S.recs && S.recs.incidentId === S.selectedId && !S.recs.loading &&
      nowMs - S.recs.at > RECS_EVERY_MS) loadRecs(S.selectedId);
  // Once a minute: forget merged incidents after a while, closed ones past the 2 h window, and
  // the trails of alarms no longer shown (a night shift is long).
  if (tickCount % 60 === 0) {
    const recent = new Set(closedList().map((i) => i.id));
    for (const [id, inc] of [...S.incidents.map]) {
      if (id === S.selectedId) continue;
      const gone = inc.status === "merged" ? nowMs - parseTime(inc.updated_at) > 600000
        : inc.status === "closed" ? !recent.has(id) : false;
      if (gone) S.incidents.delete(id);
    }
    want("closed");
    const alarmIds = new Set();
    for (const inc of S.incidents.values()) for (const a of inc.alarms || []) alarmIds.add(a.id);
    for (const id of S.trails.keys()) if (!alarmIds.has(id)) S.trails.delete(id);
  }
}

// The language changed (here or on another page of the site): every view says it again, the
// open call view included.
function relabel() {
  applyStatic();
  renderConn();
  renderSound();
  renderUser();
  if (mapView) mapView.relabel();
  if (unitsView) unitsView.relabel();
  if (videoDesk) videoDesk.relabel();
  if (detailView && detailView.isOpen) detailView.relabel(ctx());
  if (S.picking) renderPickBanner();
  if (!$("login-view").hidden) {
    $("login-submit").textContent = t("login");
    renderRoleGuide();
    if (wrongUser) showLogin(wrongMessage = wrongPage(S.config, wrongUser, "/console/"));
    else $("login-error").hidden = true;
  }
  document.title = t("doc_title");
  want("lang");
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
    S.recs = null;
    detailView.close();
    $("detail").hidden = true;
    document.body.classList.remove("has-detail");
    mapView.invalidate();
    want("alerts", "units", "closed");
    return;
  }
  const same = S.selectedId === id;
  S.selectedId = id;
  S.flashUntil.delete(id);
  if (!same) S.recs = null;
  let inc = S.incidents.get(id);
  if (!inc) {
    try {
      const d = await get(`/api/incidents/${id}`);
      if (S.selectedId !== id) return;
      inc = stripDetail(d);
      S.known.add(inc.id);
      putIncident(inc);
    } catch (err) {
      toast(errorText(err), true);
      return;
    }
  }
  $("detail").hidden = false;
  document.body.classList.add("has-detail");
  mapView.invalidate();
  const opened = !same || !detailView.isOpen;
  if (opened) detailView.open(inc, ctx());
  mapView.focus(inc);
  if (queueView) queueView.reveal(id);
  want("detail", "alerts", "units", "closed");
  loadDetail(id);
  loadRecs(id);
  if (opened) loadEvidence(id);
}

async function loadEvidence(id) {
  try {
    const res = await get(`/api/incidents/${id}/media`);
    if (S.selectedId === id) for (const m of res.media || []) detailView.addMedia(m);
  } catch { /* media.added events still come */ }
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
    upsertIncident(stripDetail(d), { reload: false });
    const c = ctx();
    detailView.setData(d, c);
    want("detail");
  } catch (err) {
    if (S.selectedId === id && detailView.isOpen) detailView.setLoadError(err, ctx());
  }
}

let refreshTimer = null, refreshFor = null;
function refreshDetailSoon(id) {
  if (refreshTimer !== null && refreshFor === id) return;
  clearTimeout(refreshTimer);
  refreshFor = id;
  refreshTimer = setTimeout(() => {
    refreshTimer = refreshFor = null;
    if (S.selectedId === id) loadDetail(id);
  }, 400);
}

// ---- actions -------------------------------------------------------------------------------------
async function claim(id) {
  S.claiming.add(id);
  want("alerts");
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
    want("alerts");
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

async function dispatchUnits(id, unitIds) {
  let inc;
  try {
    inc = await post(`/api/incidents/${id}/dispatch`, { unit_ids: unitIds });
  } catch (err) {
    // unit_busy / unit_off_duty: someone was faster, or the unit changed; offer what is free now.
    if (err.status === 409 && id === S.selectedId) loadRecs(id);
    throw err;
  }
  upsertIncident(inc);
  const names = unitIds.map((u) => (S.units.get(u) || {}).call_sign || `#${u}`).join("、");
  toast(t("dispatch_done", { names }));
  if (id === S.selectedId) loadRecs(id);
  return inc;
}

async function cancelAssignment(a) {
  await post(`/api/assignments/${a.id}/cancel`);
  refreshDetailSoon(a.incident_id);
  if (a.incident_id === S.selectedId) refreshRecsSoon(300);
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
    if (o && OPEN.has(o.status)) putIncident({ ...o, status: "merged", merged_into: id, alarms: [] });
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
  want("detail");
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
  want("detail");
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
