// Baojing administration page (/admin/): police stations with their jurisdictions and patrol
// units with their officers, by hand and by CSV import. Contract: docs/api.md ("Dispatch").
// No framework, no bundler.
//
// ---- Hooks for the browser tests ---------------------------------------------------------------
// window.baojingAdmin = {
//   ready:    true once logged in as admin and stations, units and officers are loaded
//   map:      the L.Map of the stations tab (null until then)
//   stations: [station] as last loaded from GET /api/admin/stations
//   units:    [UnitOut] as last loaded from GET /api/admin/units
//   officers: [UserOut] from GET /api/admin/users?role=officer (null when it could not be read)
//   draft():  the jurisdiction being drawn, {points: [[lat, lon]], position} (null when no form)
//   loads:    how many times the lists were (re)loaded
// }
//
// data-testid attributes:
//   login: login-view, login-form, login-username, login-password, login-submit, login-error
//     (data-code "not_admin" for a non-admin account), login-lang-toggle
//   header: user-name, lang-toggle, logout, tab-stations, tab-units (aria-selected="true" when shown),
//     count-stations, count-units
//   stations tab: stations-view, station-add, station-import-open, station-export, stations-refresh,
//     stations-filter, stations-table, station-row (data-id, data-code, data-has-jurisdiction),
//     station-jurisdiction (cell), station-edit (data-id); map, map-legend, map-fit-all, no-basemap,
//     map-station (data-id), draw-banner (data-mode draw|position) with map-undo and map-clear,
//     draft-vertex (data-index), draft-position
//   station form: station-form (data-mode add|edit, data-id), station-code, station-name-zh,
//     station-name-en, station-address, station-lat, station-lon, station-pick-position,
//     jurisdiction-status (data-count), draw-undo, draw-clear, jurisdiction-text, jurisdiction-error,
//     position-warning, overlap-warning, form-error (data-code), station-save, station-cancel
//   units tab: units-view, unit-add, unit-import-open, unit-export, units-refresh, units-filter,
//     units-table, unit-row (data-id, data-call-sign, data-status), unit-members, unit-edit (data-id)
//   unit form: unit-form (data-mode, data-id), unit-call-sign, unit-kind, unit-kind-car|motorbike|foot,
//     unit-station (select), unit-members-box, member-option (data-user-id, data-username; holds a
//     checkbox), members-count, unit-member-ids (only when the officer list is unavailable),
//     form-error, unit-save, unit-cancel
//   Rows of the last import carry the class "fresh" (green edge).
//   import (one per tab): import-panel (data-kind stations|units), import-help (details: format
//     table, closes on submit), import-format, import-example (link),
//     import-file, import-text, import-note, import-submit, import-result (data-state ok|error,
//     data-code), import-ok, import-error, import-problems, import-error-line (data-line, data-field),
//     import-server-message, import-close
//   toast
// -----------------------------------------------------------------------------------------------
import { get, post, setUnauthorizedHandler } from "/shared/api.js";
import { t, setLang, lang, applyStatic, errorText, label, pick, setLabels } from "/shared/i18n.js";
import "./i18n.js";
import { roleGuide, wrongPage } from "/shared/rolepages.js";
import { loginSteps } from "/shared/login.js";
import { download } from "./util.js";
import { stationsCsv, unitsCsv } from "./csv.js";
import { StationMap } from "./adminmap.js";
import { renderStationsTable, StationForm } from "./stations.js";
import { renderUnitsTable, UnitForm } from "./units.js";
import { ImportPanel } from "./importer.js";

const S = {
  user: null,
  config: null,
  stations: [],
  units: [],
  officers: null,
  tab: "stations",
  stationPane: "list",   // list | form | import
  unitPane: null,        // null | form | import
  selectedStationId: null,
  selectedUnitId: null,
  fresh: new Set(),      // codes / call signs of the last import, marked in the tables
  generation: 0,
};

const hooks = {
  ready: false, map: null, stations: [], units: [], officers: null, loads: 0,
  draft: () => (stationMap && stationMap.draft ? stationMap.snapshot() : null),
};
window.baojingAdmin = hooks;

const $ = (id) => document.getElementById(id);
let stationMap = null;
let stationForm = null;
let unitForm = null;
let stationImport = null;
let unitImport = null;

// ---- start ------------------------------------------------------------------------------------
function boot() {
  setLang(lang);
  applyStatic();
  wire();
  setUnauthorizedHandler(() => sessionEnded());
  loadConfig().then(checkSession);
}

// Public: the words for codes and where each role works, wanted on the login screen already.
async function loadConfig() {
  try {
    S.config = await get("/api/config");
    setLabels(S.config.labels);
  } catch { /* start() tries again after login */ }
  renderRoleGuide();
}

function renderRoleGuide() {
  $("login-roles").replaceChildren(S.config ? roleGuide(S.config, "/admin/") : "");
}

async function checkSession() {
  try {
    const me = await get("/api/auth/me");
    if (me.user.role !== "admin") return showLogin(refusal(me.user), "not_admin");
    await start(me.user);
  } catch (err) {
    showLogin(err.status === 401 ? "" : errorText(err));
  }
}

// A signed-in account that is not an administrator's: where it should go instead.
function refusal(user) {
  return wrongPage(S.config, user, "/admin/");
}

function wire() {
  loginForm = loginSteps($("login-form"));
  $("login-form").addEventListener("submit", onLogin);
  for (const b of document.querySelectorAll("[data-testid=lang-toggle], [data-testid=login-lang-toggle]")) b.addEventListener("click", toggleLang);
  $("logout").addEventListener("click", logout);
  $("tab-stations").addEventListener("click", () => showTab("stations"));
  $("tab-units").addEventListener("click", () => showTab("units"));
  $("station-add").addEventListener("click", () => openStationForm(null));
  $("station-import-open").addEventListener("click", () => showStationPane("import"));
  $("station-export").addEventListener("click", () => download("stations.csv", stationsCsv(S.stations)));
  $("stations-refresh").addEventListener("click", () => reload(true));
  $("stations-filter").addEventListener("input", renderStations);
  $("unit-add").addEventListener("click", () => openUnitForm(null));
  $("unit-import-open").addEventListener("click", () => showUnitPane("import"));
  $("unit-export").addEventListener("click", () => {
    const names = new Map((S.officers || []).map((o) => [o.id, o.username]));
    download("units.csv", unitsCsv(S.units, stationsById(), names));
  });
  $("units-refresh").addEventListener("click", () => reload(true));
  $("units-filter").addEventListener("input", renderUnits);
  $("draw-undo-map").addEventListener("click", () => stationMap && stationMap.undoPoint());
  $("draw-clear-map").addEventListener("click", () => stationMap && stationMap.clearPoints());
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && stationMap && stationMap.mode === "position") stationMap.pickPosition(false);
    if ((e.ctrlKey || e.metaKey) && e.key === "z" && stationMap && stationMap.draft &&
        !["INPUT", "TEXTAREA"].includes(document.activeElement?.tagName)) {
      e.preventDefault();
      stationMap.undoPoint();
    }
  });
  window.addEventListener("beforeunload", (e) => {
    if ((stationForm && stationForm.s && stationForm.s.dirty) || (unitForm && unitForm.s && unitForm.s.dirty)) e.preventDefault();
  });
}

function showLogin(message, code = "") {
  $("boot").hidden = true;
  $("app").hidden = true;
  $("login-view").hidden = false;
  const e = $("login-error");
  e.replaceChildren(message || "");
  e.hidden = !message;
  e.dataset.code = code;
  $("login-submit").disabled = false;
  $("login-submit").textContent = t("login");
  document.title = t("doc_title");
  setTimeout(() => ($("login-username").value ? $("login-password") : $("login-username")).focus(), 0);
}

// The shared login steps (password, authenticator code, enrolment, backup codes).
let loginForm;

async function onLogin(e) {
  e.preventDefault();
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  const errEl = $("login-error");
  errEl.hidden = true;
  $("login-submit").disabled = true;
  $("login-submit").textContent = t("logging_in");
  try {
    const res = await loginForm.submit(username, password);
    $("login-password").value = "";
    if (res.user.role !== "admin") {
      // This session was opened here for nothing: close it again.
      await post("/api/auth/logout").catch(() => {});
      return showLogin(refusal(res.user), "not_admin");
    }
    await start(res.user);
  } catch (err) {
    showLogin(errorText(err), err.code);
    $("login-password").select();
  }
}

async function start(user) {
  const gen = ++S.generation;
  S.user = user;
  $("login-view").hidden = true;
  $("boot").hidden = true;
  $("app").hidden = false;
  renderUser();
  try {
    if (!S.config) {
      S.config = await get("/api/config");
      setLabels(S.config.labels);
    }
    if (gen !== S.generation) return;
    if (!stationMap) {
      stationMap = new StationMap($("map"), S.config, {
        onSelect: (id) => selectStation(id, true),
        onDraftChange: (d) => { if (stationForm) stationForm.fromMap(d); renderDrawBanner(); },
      });
      hooks.map = stationMap.map;
      stationForm = new StationForm($("station-form-pane"), {
        map: stationMap, stations: () => S.stations,
        onSaved: (st) => { toast(t("station_saved", { name: pick(st) })); S.selectedStationId = st.id; showStationPane("list"); reload(); },
        onCancel: () => showStationPane("list"),
      });
      unitForm = new UnitForm($("unit-side"), {
        stations: () => S.stations, stationsById, units: () => S.units, officers: () => S.officers,
        onSaved: (u) => { toast(t("unit_saved", { cs: u.call_sign })); S.selectedUnitId = u.id; showUnitPane(null); reload(); },
        onCancel: () => showUnitPane(null),
      });
      stationImport = new ImportPanel($("station-import-pane"), "stations", {
        onSubmit: clearFresh, onImported: (n, keys) => { S.fresh = new Set(keys); reload(); }, onClose: () => showStationPane("list"),
      });
      unitImport = new ImportPanel($("unit-side"), "units", {
        onSubmit: clearFresh, onImported: (n, keys) => { S.fresh = new Set(keys); reload(); }, onClose: () => showUnitPane(null),
      });
    }
    if (!(await reload()) || gen !== S.generation) return;
    showTab(S.tab);
    stationMap.fitAll();
    hooks.ready = true;
  } catch (err) {
    if (gen !== S.generation) return;
    if (err.status === 401) return sessionEnded();
    if (err.status === 403) return showLogin(refusal(user), "not_admin");
    toast(errorText(err), true);
  }
}

async function reload(announce = false) {
  const gen = S.generation;
  try {
    const [st, un, off] = await Promise.all([
      get("/api/admin/stations"), get("/api/admin/units"),
      get("/api/admin/users?role=officer").catch((err) => {
        if (err.status === 401 || err.status === 403) throw err;
        return null;  // no list of accounts: the unit form falls back to user ids
      }),
    ]);
    if (gen !== S.generation) return;
    S.stations = st.stations || [];
    S.units = un.units || [];
    S.officers = off ? off.users || [] : null;
    hooks.stations = S.stations;
    hooks.units = S.units;
    hooks.officers = S.officers;
    hooks.loads += 1;
    renderAll();
    if (announce) toast(t("refreshed"));
    return true;
  } catch (err) {
    if (gen !== S.generation) return false;
    if (err.status === 401) {
      sessionEnded();
    } else if (err.status === 403) {
      const user = S.user;
      teardown();
      showLogin(user ? refusal(user) : errorText(err), "not_admin");
    } else {
      toast(errorText(err), true);
    }
    return false;
  }
}

// A new import starts: the marks of the last one would read as coming from this one.
function clearFresh() {
  if (!S.fresh.size) return;
  S.fresh = new Set();
  renderStations();
  renderUnits();
}

function stationsById() {
  return new Map(S.stations.map((s) => [s.id, s]));
}

async function logout() {
  try { await post("/api/auth/logout"); } catch { /* the session ends here anyway */ }
  teardown();
  showLogin("");
}

function teardown() {
  S.generation += 1;
  S.user = null;
  hooks.ready = false;
  if (stationForm && stationForm.isOpen) stationForm.close();
  if (unitForm && unitForm.isOpen) unitForm.close();
  S.stationPane = "list";
  S.unitPane = null;
  S.stations = [];
  S.units = [];
  S.officers = null;
  if (stationImport) stationImport.s.result = null;
  if (unitImport) unitImport.s.result = null;
}

function sessionEnded() {
  if ($("app").hidden) return;
  teardown();
  showLogin(t("session_expired"));
}

// ---- tabs and panes ---------------------------------------------------------------------------
function showTab(tab) {
  S.tab = tab;
  for (const [name, view] of [["stations", "stations-view"], ["units", "units-view"]]) {
    $(`tab-${name}`).setAttribute("aria-selected", String(name === tab));
    $(`tab-${name}`).classList.toggle("active", name === tab);
    $(view).hidden = name !== tab;
  }
  if (tab === "stations" && stationMap) stationMap.invalidate();
}

function showStationPane(pane) {
  if (pane !== "form" && stationForm.isOpen) stationForm.close();
  S.stationPane = pane;
  $("stations-list").hidden = pane !== "list";
  $("station-form-pane").hidden = pane !== "form";
  $("station-import-pane").hidden = pane !== "import";
  if (pane === "import") stationImport.open();
  renderDrawBanner();
  renderStations();
}

function openStationForm(id) {
  if (stationForm.isOpen && stationForm.s.dirty && !window.confirm(t("discard_changes"))) return;
  if (stationForm.isOpen) stationForm.close();
  const st = id === null ? null : S.stations.find((s) => s.id === id);
  showStationPane("form");
  stationForm.open(st || null);
  renderDrawBanner();
}

function showUnitPane(pane) {
  if (pane !== "form" && unitForm.isOpen) unitForm.close();
  S.unitPane = pane;
  $("unit-side").hidden = !pane;
  document.body.classList.toggle("unit-side-open", Boolean(pane));
  if (pane === "import") unitImport.open();
}

function openUnitForm(id) {
  if (unitForm.isOpen && unitForm.s.dirty && !window.confirm(t("discard_changes"))) return;
  if (unitForm.isOpen) unitForm.close();
  const u = id === null ? null : S.units.find((x) => x.id === id);
  S.selectedUnitId = u ? u.id : null;
  showUnitPane("form");
  unitForm.open(u || null);
  renderUnits();
}

function selectStation(id, fromMap = false) {
  S.selectedStationId = id;
  renderStations();
  const st = S.stations.find((s) => s.id === id);
  if (st && !fromMap) stationMap.focusStation(st);
  if (fromMap) {
    const row = document.querySelector(`[data-testid=station-row][data-id="${id}"]`);
    if (row) row.scrollIntoView({ block: "nearest" });
  }
}

// ---- rendering --------------------------------------------------------------------------------
function renderAll() {
  renderCounts();
  renderStations();
  renderUnits();
  if (unitForm && unitForm.isOpen) unitForm.renderMembers();
}

function renderCounts() {
  $("count-stations").textContent = String(S.stations.length);
  $("count-units").textContent = String(S.units.length);
  $("stations-total").textContent = t("count_stations", { n: S.stations.length });
  $("units-total").textContent = t("count_units", { n: S.units.length });
}

function renderStations() {
  if (!stationMap) return;
  renderStationsTable($("stations-table-wrap"), S.stations, {
    filter: $("stations-filter").value, selectedId: S.selectedStationId, fresh: S.fresh,
    onSelect: (id) => selectStation(id), onEdit: (id) => openStationForm(id),
  });
  stationMap.setStations(S.stations, stationMap.draft ? stationMap.draft.editingId : S.selectedStationId);
}

function renderUnits() {
  renderUnitsTable($("units-table-wrap"), S.units, {
    stationsById: stationsById(), filter: $("units-filter").value, fresh: S.fresh,
    selectedId: S.unitPane === "form" ? S.selectedUnitId : null, onEdit: (id) => openUnitForm(id),
  });
}

function renderDrawBanner() {
  const b = $("draw-banner");
  const d = stationMap && stationMap.draft;
  b.hidden = !d;
  if (!d) return;
  b.dataset.mode = stationMap.mode;
  $("draw-banner-text").textContent = stationMap.mode === "position" ? t("draw_banner_pick")
    : t("draw_banner", { n: d.points.length });
  $("draw-undo-map").hidden = stationMap.mode === "position";
  $("draw-clear-map").hidden = stationMap.mode === "position";
  $("draw-undo-map").disabled = !d.points.length;
  $("draw-clear-map").disabled = !d.points.length;
}

function renderUser() {
  const u = S.user;
  if (!u) return;
  $("user-name").textContent = u.display_name;
  $("user-name").title = `${u.username} · ${label("roles", u.role)}`;
}

function toggleLang() {
  setLang(lang === "zh" ? "en" : "zh");
  applyStatic();
  document.title = t("doc_title");
  renderUser();
  renderRoleGuide();
  if (!$("login-view").hidden) {
    $("login-submit").textContent = t("login");
    $("login-error").hidden = true;
  }
  if (!S.user || !stationMap) return;
  stationMap.relabel();
  renderCounts();
  renderStations();
  renderUnits();
  renderDrawBanner();
  if (stationForm.isOpen) stationForm.render();
  if (unitForm.isOpen) unitForm.render();
  if (S.stationPane === "import") stationImport.render();
  if (S.unitPane === "import") unitImport.render();
}

let toastTimer = null;
function toast(text, isError = false) {
  const el = $("toast");
  el.textContent = text;
  el.className = `toast show${isError ? " err" : ""}`;
  el.dataset.state = isError ? "error" : "ok";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = "toast"; }, isError ? 8000 : 3500);
}

boot();
