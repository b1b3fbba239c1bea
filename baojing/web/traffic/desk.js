/* The traffic desk (/traffic/, role traffic_officer): the queue of quick-handling cases with their
 * waiting time ticking (an alert sound past the set wait), a case's six photos (zoom, side by side,
 * rotate), map, parties, history, and the three ways out: decide, ask for more photos, dispatch.
 *
 * data-testid: login-form, login-username, login-password, login-submit, login-error; sound-toggle;
 *   queue-item (data-case-id, data-status, data-overdue), record-item; case-view (data-case-id,
 *   data-status); thumb-i; viewer (data-mode), view-compare, view-single, zoom-in, zoom-out,
 *   rotate, pane-i (data-zoom, data-rotate); case-map; party-row-R; history-item;
 *   decide-A, decide-B, decide-rule, decide-note, decide-submit; retake-slot-i, retake-reason,
 *   retake-submit; dispatch-reason, dispatch-submit; action-error; doc-determination, doc-agreement
 * window.baojing.desk (read-only): {cases, selected, alerts, overdue, sound}
 */
import { html, render } from "/vendor/lit-html/lit-html.js";
import { ApiError, get, post, put, setDateListener, setUnauthorizedHandler } from "/shared/api.js";
import { audioNow, initSound, onSoundState, soundState, tone, unlock } from "/shared/audio.js";
import { addBaseTiles } from "/shared/basemap.js";
import { errorText, getLang, onLang, setLabels, setLang, t } from "/shared/i18n.js";
import { connectLive } from "/shared/live.js";
import { loginSteps } from "/shared/login.js";
import { roleGuide, wrongPage } from "/shared/rolepages.js";
import { dateTimeText, elapsedText, parseTime } from "/shared/time.js";
import "./words.js";

const LEVELS = ["full", "main", "equal", "secondary", "none"];
const PAIR = { full: "none", main: "secondary", equal: "equal", secondary: "main", none: "full" };
const QUESTIONS = ["injured", "drivable", "two_vehicles", "licensed_insured", "drink_drugs", "dispute"];
const REALERT_MS = 20000;

const S = {
  user: null, cases: new Map(), alertAfter: 600, selected: null, detail: null, rules: [], config: null,
  viewer: { mode: "single", left: 0, right: 1, zoom: {}, rot: {} }, decide: { A: "full", B: "none", rule: "", note: "" },
  retake: { slots: new Set(), reason: "" }, dispatchReason: "", error: "", busy: "", alerts: 0, lastAlert: 0,
  live: "off", loginError: "", sound: "off", checklist: [], clSaved: false, site: null, wrong: null,
};
let offset = 0; // server clock minus ours, from the Date header of every answer
let live = null;
let map = null;
let mapEl = null;
const root = document.getElementById("app");
const now = () => Date.now() + offset;
const pickLang = (zh, en) => (getLang() === "zh" ? zh : en);

setDateListener((d) => {
  const ms = Date.parse(d || "");
  if (ms) offset = ms + 500 - Date.now();
});
setUnauthorizedHandler(() => { S.user = null; show(); });

function show() {
  render(view(), root);
  syncMap();
}

// ---------- login ----------

async function login(e) {
  e.preventDefault();
  const f = e.target;
  S.busy = "login";
  show();
  try {
    // The shared steps: the authenticator code, enrolment and backup codes when the server asks.
    const res = await loginSteps(f).submit(f.username.value, f.password.value);
    S.loginError = "";
    await start(res.user);
  } catch (err) {
    S.loginError = errorText(err);
  }
  S.busy = "";
  show();
}

async function logout() {
  await post("/api/auth/logout").catch(() => {});
  live && live.stop();
  live = null;
  S.user = null;
  show();
}

// ---------- the queue ----------

async function start(user) {
  if (user.role === "admin") {
    // The admin keeps the photo checklist here (no desk work: deciding is the traffic officers').
    S.user = user;
    S.checklist = (await get("/api/traffic/checklist")).items;
    return;
  }
  if (user.role !== "traffic_officer") {
    S.wrong = wrongPage(S.site, user, "/traffic/");
    S.user = null;
    return;
  }
  S.wrong = null;
  S.user = user;
  const [queue, rules] = await Promise.all([get("/api/traffic/desk/cases"), get("/api/traffic/rules")]);
  S.rules = rules.rules;
  S.config = S.site ? S.site.map : null;
  S.decide.rule = S.decide.rule || (S.rules[0] && S.rules[0].code);
  S.alertAfter = queue.alert_after_s;
  S.cases = new Map(queue.cases.map((c) => [c.id, c]));
  live = connectLive({
    since: queue.seq,
    onEvent: (name, data) => {
      if (name !== "traffic.case") return;
      S.cases.set(data.id, data);
      if (S.selected === data.id) loadDetail(data.id);
      show();
    },
    onResync: async () => {
      const q = await get("/api/traffic/desk/cases");
      S.cases = new Map(q.cases.map((c) => [c.id, c]));
      show();
    },
    onState: (s) => { S.live = s === "live" ? "on" : "off"; show(); },
  });
  show();
}

const waitingMs = (c) => now() - (parseTime(c.waiting_since) || now());
const isOverdue = (c) => c.status === "submitted" && waitingMs(c) > S.alertAfter * 1000;

function queueLists() {
  const all = [...S.cases.values()];
  const waiting = all.filter((c) => c.status === "submitted" || c.status === "reviewing")
    .sort((a, b) => parseTime(a.waiting_since) - parseTime(b.waiting_since));
  const record = all.filter((c) => !waiting.includes(c) && c.status !== "draft")
    .sort((a, b) => parseTime(b.updated_at) - parseTime(a.updated_at));
  return { waiting, record };
}

// A case waiting past the set time sounds, and again every 20 s while any still waits unopened.
function tick() {
  const overdue = [...S.cases.values()].filter(isOverdue);
  if (overdue.length && now() - S.lastAlert > REALERT_MS) {
    S.lastAlert = now();
    S.alerts += 1;
    if (soundState() === "on") {
      const at = audioNow();
      for (let i = 0; i < 3; i++) tone(at + i * 0.35, 0.22, i % 2 ? 660 : 880, 0.2, 3000);
    }
  }
  if (S.user) show();
}

// ---------- a case ----------

async function select(id) {
  S.selected = id;
  S.error = "";
  S.viewer = { mode: "single", left: 0, right: 1, zoom: {}, rot: {} };
  S.retake = { slots: new Set(), reason: "" };
  const c = S.cases.get(id);
  try {
    S.detail = c && c.status === "submitted" ? await post(`/api/traffic/desk/cases/${id}/claim`) : await get(`/api/traffic/desk/cases/${id}`);
  } catch (err) {
    S.error = errorText(err);
  }
  show();
}

async function loadDetail(id) {
  try {
    S.detail = await get(`/api/traffic/desk/cases/${id}`);
    show();
  } catch { /* the next event tries again */ }
}

async function act(path, body) {
  S.error = "";
  S.busy = path;
  show();
  try {
    S.detail = await post(`/api/traffic/desk/cases/${S.selected}/${path}`, body);
    S.cases.set(S.detail.id, { ...S.cases.get(S.detail.id), ...S.detail });
  } catch (err) {
    S.error = err instanceof ApiError ? errorText(err) : String(err);
  }
  S.busy = "";
  show();
}

const decide = () => act("decision", { liability: { A: S.decide.A, B: S.decide.B }, rule: S.decide.rule, note: S.decide.note || null });
const askRetake = () => act("retake", { slots: [...S.retake.slots].sort(), reason: S.retake.reason });
const dispatchCase = () => act("dispatch", { reason: S.dispatchReason || null });

function syncMap() {
  const el = document.querySelector("[data-testid=case-map]");
  if (!el || !window.L) {
    if (map && !el) { map.remove(); map = null; mapEl = null; }
    return;
  }
  const loc = S.detail && S.detail.location;
  if (!loc) return;
  if (mapEl !== el) {
    if (map) map.remove();
    map = L.map(el, { zoomControl: true, attributionControl: false }).setView([loc.lat, loc.lon], 16);
    addBaseTiles(map, S.config);
    mapEl = el;
  }
  map.eachLayer((layer) => layer instanceof L.CircleMarker && map.removeLayer(layer));
  L.circleMarker([loc.lat, loc.lon], { radius: 9, color: "#d71920", fillOpacity: 0.8 }).addTo(map);
  map.setView([loc.lat, loc.lon]);
}

// ---------- views ----------

function loginView() {
  return html`<form class="login" data-testid="login-form" @submit=${login}>
    <div class="login-top"><h1>${t("loginTitle")}</h1>${langButton()}</div>
    <label>${t("username")}<input name="username" autocomplete="username" data-testid="login-username" required></label>
    <label>${t("password")}<input name="password" type="password" autocomplete="current-password" data-testid="login-password" required></label>
    <button class="primary" data-testid="login-submit" ?disabled=${S.busy === "login"}>${S.busy === "login" ? t("loggingIn") : t("login")}</button>
    ${S.loginError ? html`<p class="error" role="alert" data-testid="login-error">${S.loginError}</p>` : ""}
    ${S.wrong ? html`<p class="error" role="alert">${S.wrong}</p>` : ""}
    ${S.site ? roleGuide(S.site, "/traffic/") : ""}
  </form>`;
}

const langButton = () => html`<button type="button" class="ghost" data-testid="lang-switch" @click=${() => setLang(getLang() === "zh" ? "en" : "zh")}>${t("lang")}</button>`;

function queueItem(c, testid) {
  const overdue = isOverdue(c);
  return html`<li><button type="button" class=${`qi ${S.selected === c.id ? "sel" : ""} ${overdue ? "overdue" : ""}`}
      data-testid=${testid} data-case-id=${c.id} data-status=${c.status} data-overdue=${overdue ? "yes" : "no"} @click=${() => select(c.id)}>
    <span class="qi-top"><b>#${c.id}</b> <span class=${`badge st-${c.status}`}>${t(`st_${c.status}`)}</span>
      ${testid === "queue-item" ? html`<span class="wait">${overdue ? t("overdue") + " " : ""}${elapsedText(waitingMs(c))}</span>` : ""}</span>
    <span class="qi-plates">${c.parties.A ? c.parties.A.plate : ""} / ${c.parties.B ? c.parties.B.plate : ""}</span>
  </button></li>`;
}

function photoPane(slot, d) {
  const p = d.photos[String(slot)];
  const item = d.checklist[slot];
  const z = S.viewer.zoom[slot] || 1;
  const r = S.viewer.rot[slot] || 0;
  if (!p) return html`<div class="pane empty">—</div>`;
  return html`<div class="pane" data-testid=${`pane-${slot}`} data-zoom=${z} data-rotate=${r}>
    <div class="pane-bar"><b>${slot + 1}. ${pickLang(item.title_zh, item.title_en)}</b>
      <span class="tools">
        <button type="button" title=${t("zoomOut")} data-testid="zoom-out" @click=${() => { S.viewer.zoom[slot] = Math.max(1, z / 1.5); show(); }}>−</button>
        <button type="button" title=${t("zoomIn")} data-testid="zoom-in" @click=${() => { S.viewer.zoom[slot] = Math.min(8, z * 1.5); show(); }}>+</button>
        <button type="button" title=${t("rotate")} data-testid="rotate" @click=${() => { S.viewer.rot[slot] = (r + 90) % 360; show(); }}>↻</button>
        <button type="button" title=${t("reset")} @click=${() => { S.viewer.zoom[slot] = 1; S.viewer.rot[slot] = 0; show(); }}>⟲</button>
      </span></div>
    <div class="pane-img" @wheel=${(e) => { e.preventDefault(); S.viewer.zoom[slot] = Math.min(8, Math.max(1, z * (e.deltaY < 0 ? 1.2 : 1 / 1.2))); show(); }}>
      <img src=${p.url} alt="" style=${`width:${z * 100}%;transform:rotate(${r}deg)`}>
    </div>
    <p class="sha" title=${t("sha")}>${t("sha")} ${p.sha256}</p>
  </div>`;
}

function caseView() {
  const d = S.detail;
  if (!d) return html`<section class="case empty"><p>${S.error || t("pick")}</p></section>`;
  const v = S.viewer;
  const open = ["submitted", "reviewing"].includes(d.status);
  const decidable = open || d.status === "decided";
  const lia = d.decision && d.decision.liability;
  return html`<section class="case" data-testid="case-view" data-case-id=${d.id} data-status=${d.status}>
    <div class="case-head"><h2>${t("case", { id: d.id })} <span class=${`badge st-${d.status}`}>${t(`st_${d.status}`)}</span></h2>
      <span class="muted">${t("submittedAt", { t: dateTimeText(d.submitted_at) })}</span></div>
    <div class="case-body">
      <div class="photos">
        <div class="thumbs">${d.checklist.map((it, i) => {
          const p = d.photos[String(i)];
          const on = v.left === i || (v.mode === "compare" && v.right === i);
          return html`<button type="button" class=${`thumb ${on ? "on" : ""}`} data-testid=${`thumb-${i}`}
              @click=${() => { if (v.mode === "compare" && v.left !== i) { v.right = i; } else { v.left = i; } show(); }}>
            ${p ? html`<img src=${p.thumb} alt="">` : ""}<span>${i + 1}. ${pickLang(it.title_zh, it.title_en)}</span></button>`;
        })}</div>
        <div class="viewer" data-testid="viewer" data-mode=${v.mode}>
          <div class="viewer-bar">
            <button type="button" class=${v.mode === "single" ? "on" : ""} data-testid="view-single" @click=${() => { v.mode = "single"; show(); }}>${t("single")}</button>
            <button type="button" class=${v.mode === "compare" ? "on" : ""} data-testid="view-compare" @click=${() => { v.mode = "compare"; if (v.right === v.left) v.right = (v.left + 1) % d.checklist.length; show(); }}>${t("compare")}</button>
          </div>
          <div class=${`panes ${v.mode}`}>${photoPane(v.left, d)}${v.mode === "compare" ? photoPane(v.right, d) : ""}</div>
        </div>
        ${d.earlier_photos.length ? html`<p class="muted">${t("earlier")}: ${d.earlier_photos.map((p) => html`<a href=${p.url} target="_blank">${p.slot + 1}</a> `)}</p>` : ""}
      </div>
      <div class="side">
        <h3>${t("map")}</h3>
        <div class="case-map" data-testid="case-map"></div>
        <p class="muted">${d.place_text || ""} ${d.location ? `${d.location.lat.toFixed(5)}, ${d.location.lon.toFixed(5)}` : ""}</p>
        <h3>${t("parties")}</h3>
        <table class="parties"><tr><th>${t("role")}</th><th>${t("plate")}</th><th>${t("vtype")}</th><th>${t("insurer")}</th><th>${t("phone")}</th></tr>
          ${["A", "B"].map((r) => {
            const p = d.parties[r];
            return html`<tr data-testid=${`party-row-${r}`}><td>${t(r)}</td><td><b>${p.plate}</b></td><td>${p.vehicle_type ? t(`vt_${p.vehicle_type}`) : ""}</td>
              <td>${p.insurer || ""}</td><td>${p.phone}${p.verified ? html` <span class="ok">✓</span>` : ""}
              ${p.response ? html`<br><span class="note">${t(`response_${p.response}`)}</span>` : ""}
              ${p.settle_answer ? html`<br><span class="note">${t(`settle_${p.settle_answer}`)}</span>` : ""}</td></tr>`;
          })}</table>
        <h3>${t("description")}</h3><p>${d.description || t("noDescription")}</p>
        <h3>${t("answers")}</h3><p class="muted">${QUESTIONS.map((q) => `${t(`q_${q}`)}${t("sep")}${d.answers[q] ? t("yes") : t("no")}`).join(t("listSep"))}</p>
        <h3>${t("history")}</h3>
        ${d.history.length ? html`<ul class="history">${d.history.map((h) => html`<li data-testid="history-item">#${h.id} ${dateTimeText(h.created_at)} ·
          ${t(`st_${h.status}`)} · ${h.matched.join(", ")}${h.decision ? ` · ${t("A")}${t(`lv_${h.decision.liability.A}`)}` : ""}</li>`)}</ul>` : html`<p class="muted">${t("noHistory")}</p>`}
        ${Object.keys(d.documents).length ? html`<h3>${t("documents")}</h3>
          ${d.documents.determination ? html`<a data-testid="doc-determination" href=${d.documents.determination} target="_blank">${t("determination")}</a> ` : ""}
          ${d.documents.agreement ? html`<a data-testid="doc-agreement" href=${d.documents.agreement} target="_blank">${t("agreement")}</a>` : ""}` : ""}
      </div>
    </div>
    <div class="actions">
      ${decidable ? html`<div class="act">
        <h3>${t("decide")}</h3>
        ${lia ? html`<p class="ok">${t("decided")}${t("sep")}${t("A")} ${t(`lv_${lia.A}`)} · ${t("B")} ${t(`lv_${lia.B}`)}</p>` : ""}
        <div class="grid2">
          <label>${t("A")}<select data-testid="decide-A" @change=${(e) => { S.decide.A = e.target.value; S.decide.B = PAIR[e.target.value]; show(); }}>
            ${LEVELS.map((l) => html`<option value=${l} ?selected=${S.decide.A === l}>${t(`lv_${l}`)}</option>`)}</select></label>
          <label>${t("B")}<select data-testid="decide-B" @change=${(e) => { S.decide.B = e.target.value; S.decide.A = PAIR[e.target.value]; show(); }}>
            ${LEVELS.map((l) => html`<option value=${l} ?selected=${S.decide.B === l}>${t(`lv_${l}`)}</option>`)}</select></label>
        </div>
        <label>${t("rule")}<select data-testid="decide-rule" @change=${(e) => { S.decide.rule = e.target.value; }}>
          ${S.rules.map((r) => html`<option value=${r.code} ?selected=${S.decide.rule === r.code}>${pickLang(r.zh, r.en)}</option>`)}</select></label>
        <label>${t("note")}<input data-testid="decide-note" maxlength="500" .value=${S.decide.note} @input=${(e) => { S.decide.note = e.target.value; }}></label>
        <button class="primary" data-testid="decide-submit" ?disabled=${!!S.busy} @click=${decide}>${t("decideBtn")}</button>
      </div>` : ""}
      ${open ? html`<div class="act">
        <h3>${t("retake")}</h3>
        <div class="slots">${d.checklist.map((it, i) => html`<label class="check"><input type="checkbox" data-testid=${`retake-slot-${i}`}
          ?checked=${S.retake.slots.has(i)} @change=${(e) => { e.target.checked ? S.retake.slots.add(i) : S.retake.slots.delete(i); show(); }}>
          ${i + 1}. ${pickLang(it.title_zh, it.title_en)}</label>`)}</div>
        <label>${t("retakeReason")}<input data-testid="retake-reason" maxlength="200" .value=${S.retake.reason} @input=${(e) => { S.retake.reason = e.target.value; show(); }}></label>
        <button data-testid="retake-submit" ?disabled=${!!S.busy || !S.retake.slots.size || S.retake.reason.trim().length < 2} @click=${askRetake}>${t("retakeBtn")}</button>
      </div>` : ""}
      ${d.status === "dispatched" ? html`<div class="act"><p class="ok">${t("dispatched", { id: d.incident_id })}</p></div>` : ["draft", "converted"].includes(d.status) ? "" : html`<div class="act">
        <h3>${t("dispatch")}</h3>
        <label>${t("dispatchReason")}<input data-testid="dispatch-reason" maxlength="200" .value=${S.dispatchReason} @input=${(e) => { S.dispatchReason = e.target.value; }}></label>
        <button class="danger" data-testid="dispatch-submit" ?disabled=${!!S.busy} @click=${dispatchCase}>${t("dispatchBtn")}</button>
      </div>`}
      ${S.error ? html`<p class="error" role="alert" data-testid="action-error">${S.error}</p>` : ""}
    </div>
  </section>`;
}

function deskView() {
  const { waiting, record } = queueLists();
  return html`<header class="top">
      <h1>${t("dTitle")}</h1>
      <span class="live">${S.live === "on" ? t("live_on") : t("live_off")}</span>
      <button type="button" class=${`sound ${S.sound}`} data-testid="sound-toggle" @click=${async () => { S.sound = await unlock(); show(); }}>
        ${S.sound === "on" ? t("soundOn") : t("soundOff")}</button>
      <span class="who">${S.user.display_name}</span>${langButton()}
      <button type="button" class="ghost" @click=${logout}>${t("logout")}</button>
    </header>
    <div class="desk">
      <aside class="queue">
        <h2>${t("waiting", { n: waiting.length })}</h2>
        <ul>${waiting.length ? waiting.map((c) => queueItem(c, "queue-item")) : html`<li class="muted">${t("empty")}</li>`}</ul>
        <h2>${t("record")}</h2>
        <ul>${record.length ? record.map((c) => queueItem(c, "record-item")) : html`<li class="muted">${t("empty")}</li>`}</ul>
      </aside>
      ${caseView()}
    </div>`;
}

// ---------- the photo checklist (admin) ----------

const FIELDS = ["key", "title_zh", "title_en", "hint_zh", "hint_en"];

function editItem(i, k, v) {
  S.checklist = S.checklist.map((it, j) => (j === i ? { ...it, [k]: v } : it));
  S.clSaved = false;
}

function moveItem(i, d) {
  const list = [...S.checklist];
  const [it] = list.splice(i, 1);
  list.splice(Math.max(0, Math.min(list.length, i + d)), 0, it);
  S.checklist = list;
  show();
}

async function saveChecklist() {
  S.error = "";
  try {
    S.checklist = (await put("/api/traffic/checklist", { items: S.checklist })).items;
    S.clSaved = true;
  } catch (err) {
    S.error = errorText(err);
    S.clSaved = false;
  }
  show();
}

function checklistView() {
  const blank = S.checklist[S.checklist.length - 1] || {};
  return html`<header class="top"><h1>${t("clTitle")}</h1><span class="who">${S.user.display_name}</span>${langButton()}
      <button type="button" class="ghost" @click=${logout}>${t("logout")}</button></header>
    <section class="editor" data-testid="checklist-editor">
      <p class="muted">${t("clLead")}</p>
      ${S.checklist.map((it, i) => html`<div class="cl-item" data-testid="cl-item">
        <div class="cl-fields">
          <b>${i + 1}</b>
          ${FIELDS.map((k) => html`<label>${t(`cl_${k}`)}<input data-testid=${`cl-${k}-${i}`} .value=${it[k] || ""}
            @input=${(e) => editItem(i, k, e.target.value)}></label>`)}
          <label class="wide">${t("cl_example")}<textarea rows="3" data-testid=${`cl-example-${i}`} .value=${it.example || ""}
            @change=${(e) => { editItem(i, "example", e.target.value); show(); }}></textarea></label>
        </div>
        <div class="cl-side">
          <img alt="" src=${"data:image/svg+xml;charset=utf-8," + encodeURIComponent(it.example || "")}>
          <div class="cl-btns">
            <button type="button" @click=${() => moveItem(i, -1)} ?disabled=${i === 0}>↑</button>
            <button type="button" @click=${() => moveItem(i, 1)} ?disabled=${i === S.checklist.length - 1}>↓</button>
            <button type="button" data-testid=${`cl-remove-${i}`} @click=${() => { S.checklist = S.checklist.filter((_, j) => j !== i); show(); }}>${t("clRemove")}</button>
          </div>
        </div>
      </div>`)}
      <div class="cl-actions">
        <button type="button" data-testid="cl-add" @click=${() => { S.checklist = [...S.checklist, { key: `shot${S.checklist.length + 1}`, title_zh: "", title_en: "", hint_zh: "", hint_en: "", example: blank.example || "" }]; show(); }}>${t("clAdd")}</button>
        <button type="button" class="primary" data-testid="cl-save" @click=${saveChecklist}>${t("clSave")}</button>
        ${S.clSaved ? html`<span class="ok" data-testid="cl-saved">${t("clSaved")}</span>` : ""}
      </div>
      ${S.error ? html`<p class="error" role="alert" data-testid="cl-error">${S.error}</p>` : ""}
    </section>`;
}

function view() {
  if (!S.user) return loginView();
  return S.user.role === "admin" ? checklistView() : deskView();
}

async function boot() {
  root.textContent = ""; // the loading note goes; lit-html renders into an empty container
  onLang(show);
  setLang(getLang(), { remember: false });
  initSound();
  S.sound = soundState();
  onSoundState((s) => { S.sound = s; if (S.user) show(); });
  Object.defineProperty(window, "baojing", {
    value: Object.freeze({ get desk() {
      return { cases: [...S.cases.values()].map((c) => ({ id: c.id, status: c.status })), selected: S.selected,
        alerts: S.alerts, overdue: [...S.cases.values()].filter(isOverdue).map((c) => c.id), sound: S.sound };
    } }),
  });
  try {
    S.site = await get("/api/config");
    setLabels(S.site.labels);
  } catch { /* the desk still works; the login form lacks the role guide */ }
  show();
  try {
    const me = await get("/api/auth/me");
    await start(me.user);
  } catch { /* not logged in: the form */ }
  show();
  setInterval(tick, 1000);
}

boot();
