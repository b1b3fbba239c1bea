/* 交通事故快处: the drivers' page (/m/traffic/), loaded only when a driver opens it from /m/ (or
 * scans party A's QR), so the caller's alarm page stays small. Contract: docs/api.md, "Traffic".
 *
 * data-testid (the e2e tests rely on them):
 *   q-<key>-yes / q-<key>-no   eligibility answers (injured, drivable, two_vehicles,
 *                              licensed_insured, drink_drugs, dispute); start-case; ruled-out with
 *                              to-alarm; alarmed (data-alarm-id) after it
 *   join-code, join-submit     party B joins by code; ?join=CODE in the address does it at once
 *   case-code, case-qr         the code and QR shown on party A's phone
 *   loc-status (data-state = none | device | picked), pick-map
 *   party-A / party-B: phone-R, plate-R, vtype-R, insurer-R, save-R, get-code-R, code-R, verify-R,
 *                      verified-R, party-error-R
 *   photo-i: photo-input-i (file input), take-i, photo-progress-i (data-state = idle | shrinking |
 *            sending | retrying | done | error, data-sent bytes), photo-error-i
 *   description, mode-ruling, mode-self, liab-A, submit, submit-error
 *   case-status (data-status), move-now, resubmit, decision (data-a, data-b), respond-<answer>-R,
 *   respond-code-R, settle-<agree|disagree>-R, download-determination, download-agreement
 * window.baojing.traffic (read-only): {view, case, uploads, live}
 */
import { html, render } from "/vendor/lit-html/lit-html.js";
import { errorText, getLang, onLang, setLang, t } from "/shared/i18n.js";
import { api, store, uuid } from "../net.js";
import { sendPhoto, shrink } from "./upload.js";
import "./words.js";

const QUESTIONS = ["injured", "drivable", "two_vehicles", "licensed_insured", "drink_drugs", "dispute"];
const OK = { injured: false, drivable: true, two_vehicles: true, licensed_insured: true, drink_drugs: false, dispute: false };
const VTYPES = ["small_car", "small_bus", "medium_bus", "large_bus", "light_truck", "heavy_truck", "other"];
const LEVELS = ["full", "main", "equal", "secondary", "none"];
const PAIR = { full: "none", main: "secondary", equal: "equal", secondary: "main", none: "full" };
const INSURERS = ["人保财险", "平安产险", "太平洋产险", "国寿财险", "中华联合", "大地保险", "阳光保险", "太平保险", "天安保险"];
const params = new URLSearchParams(location.search);
// A measuring aid (bench/traffic.py): send the camera's file as it is.
const NO_SHRINK = params.get("noshrink") === "1";

const S = {
  view: "check", answers: {}, case: null, error: "", busy: "", alarm: null, fix: null, live: "off",
  drafts: { A: {}, B: {} }, partyError: { A: "", B: "" }, codeSentAt: { A: 0, B: 0 }, codes: { A: "", B: "" },
  uploads: {}, thumbs: {}, mode: "ruling", liability: { A: "full", B: "none" }, answerCodes: { A: "", B: "" },
  joinCode: params.get("join") || "",
};
let live = null;
let mapConfig = null;

const root = document.getElementById("app");
const token = () => store.get("device", null);
const setToken = (tk) => tk && tk !== token() && store.set("device", tk);
const roleName = (r) => t(r === "A" ? "roleA" : "roleB") + (own(r) && (r === "A" || mine().length === 1) ? t("thisPhone") : "");
const mine = () => (S.case ? S.case.my_roles : []);
const own = (r) => mine().includes(r);
const serverError = (res) => errorText(res.data || { message_zh: t("err_network"), message_en: t("err_network") });

function show() {
  render(view(), root);
}

// ---------- eligibility ----------

const ruledOut = () => QUESTIONS.filter((q) => q in S.answers && S.answers[q] !== OK[q]);
const allAnswered = () => QUESTIONS.every((q) => q in S.answers);

function answer(q, v) {
  S.answers = { ...S.answers, [q]: v };
  S.error = "";
  show();
}

function locate(timeout = 8000) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.min(100000, p.coords.accuracy || 0), crs: "wgs84", source: "device" }),
      () => resolve(null), { enableHighAccuracy: true, timeout, maximumAge: 30000 });
  });
}

async function startCase() {
  if (!allAnswered()) { S.error = t("answerAll"); return show(); }
  S.busy = "start";
  show();
  S.fix = S.fix || (await locate(5000));
  const r = await api("POST", "/api/traffic/cases", { answers: S.answers, location: S.fix || undefined });
  S.busy = "";
  if (!r.ok) { S.error = serverError(r); return show(); }
  setToken(r.data.device_token);
  openCase(r.data);
}

async function toAlarm() {
  S.busy = "alarm";
  show();
  const fix = S.fix || (await locate(5000));
  const phone = (S.alarmPhone ?? store.get("phone", "") ?? "").trim();
  const key = uuid();
  const body = { idempotency_key: key, answers: { ...OK, ...S.answers }, phone, location: fix || undefined,
    plates: [S.drafts.A.plate, S.drafts.B.plate].filter(Boolean), case_id: S.case ? S.case.id : undefined };
  const r = await api("POST", "/api/traffic/to-alarm", body);
  S.busy = "";
  if (!r.ok) { S.error = serverError(r); return show(); }
  setToken(r.data.device_token);
  // The alarm page (/m/) follows it like any alarm made there.
  const list = store.get("mine", []);
  store.set("mine", [{ key, at: Date.now(), queued: true, id: r.data.id, ackAt: Date.now() }, ...(Array.isArray(list) ? list : [])].slice(0, 20));
  store.set("phone", body.phone);
  S.alarm = r.data;
  S.view = "alarmed";
  store.del("traffic.case");
  show();
}

async function join() {
  S.busy = "join";
  show();
  const r = await api("POST", "/api/traffic/join", { code: S.joinCode.trim() });
  S.busy = "";
  if (!r.ok) { S.error = serverError(r); return show(); }
  setToken(r.data.device_token);
  history.replaceState(null, "", location.pathname);
  openCase(r.data);
}

// ---------- the case ----------

// The form shows what the server holds, except in the party form being typed into right now.
function syncDrafts(c, first = false) {
  for (const r of ["A", "B"]) {
    const p = c.parties[r];
    const typing = document.activeElement && document.activeElement.closest && document.activeElement.closest(`[data-testid=party-${r}]`);
    if (!own(r) || !p || (typing && !first)) continue;
    S.drafts[r] = { phone: p.phone || S.drafts[r].phone || (first && r === "A" ? store.get("phone", "") : "") || "",
      plate: p.plate || "", vehicle_type: p.vehicle_type || "", insurer: p.insurer || "", name: p.name || "" };
  }
}

function openCase(c) {
  S.case = c;
  S.view = "case";
  S.error = "";
  store.set("traffic.case", c.id);
  syncDrafts(c, true);
  connect();
  loadThumbs();
  show();
  if (c.status === "draft" && !c.location && own("A")) locate().then((fix) => fix && patchCase({ location: fix }));
}

// Six uploads answer in any order, and the live socket too: a view from before another photo
// landed must not take that photo back (the submit button waited for it forever). The newer view
// wins, and each slot keeps its newest photo from either.
function newest(a, b) {
  const base = Date.parse(b.updated_at || 0) >= Date.parse(a.updated_at || 0) ? b : a;
  const other = base === b ? a : b;
  const photos = { ...(base.photos || {}) };
  for (const [slot, p] of Object.entries(other.photos || {})) {
    if (!photos[slot] || Date.parse(p.created_at) > Date.parse(photos[slot].created_at)) photos[slot] = p;
  }
  return { ...base, photos };
}

function update(c) {
  if (!S.case || c.id !== S.case.id) return;
  S.case = newest(S.case, c);
  syncDrafts(S.case);
  loadThumbs();
  show();
}

async function patchCase(body) {
  const r = await api("PATCH", `/api/traffic/cases/${S.case.id}`, body);
  if (r.ok) update(r.data);
  else { S.error = serverError(r); show(); }
}

async function pickOnMap() {
  if (!mapConfig) {
    const r = await api("GET", "/api/config");
    mapConfig = r.ok ? r.data.map : { tiles: "none", center: [41.57, 120.43], zoom: 13, crs: "wgs84" };
  }
  const loc = S.case.location;
  const picker = await import("../picker.js");
  picker.openPicker({ map: mapConfig, start: loc ? [loc.lat, loc.lon] : mapConfig.center, zoom: 16,
    t: (k) => t(k === "mapNoTiles" ? "loading" : k),
    onPick: (p) => patchCase({ location: { ...p, source: "picked" } }) });
}

async function saveParty(r) {
  const d = S.drafts[r];
  const body = { phone: d.phone || null, plate: d.plate || null, vehicle_type: d.vehicle_type || null,
    insurer: d.insurer || null, name: d.name || null };
  const res = await api("PUT", `/api/traffic/cases/${S.case.id}/parties/${r}`, body);
  S.partyError = { ...S.partyError, [r]: res.ok ? "" : serverError(res) };
  if (res.ok) {
    if (r === "A" && d.phone) store.set("phone", d.phone);
    update(res.data);
  } else show();
  return res.ok;
}

async function getCode(r) {
  if (!(await saveParty(r))) return;
  const res = await api("POST", `/api/traffic/cases/${S.case.id}/parties/${r}/code`);
  S.partyError = { ...S.partyError, [r]: res.ok ? "" : serverError(res) };
  if (res.ok) S.codeSentAt = { ...S.codeSentAt, [r]: Date.now() };
  show();
}

async function verify(r) {
  const res = await api("POST", `/api/traffic/cases/${S.case.id}/parties/${r}/verify`, { code: S.codes[r].trim() });
  S.partyError = { ...S.partyError, [r]: res.ok ? "" : serverError(res) };
  if (res.ok) { S.codes[r] = ""; update(res.data); } else show();
}

async function takePhoto(slot, file) {
  if (!file) return;
  const u = (S.uploads[slot] = { state: "shrinking", sent: 0, total: file.size, error: "", original: file.size });
  show();
  const { blob } = NO_SHRINK ? { blob: file } : await shrink(file);
  u.total = blob.size;
  u.state = "sending";
  show();
  try {
    const res = await sendPhoto({
      caseId: S.case.id, slot, blob, token: token(),
      onProgress: (sent, total) => { u.sent = sent; u.total = total; show(); },
      onState: (s) => { u.state = s; show(); },
    });
    u.state = "done";
    u.sent = u.total;
    if (res.case) update(res.case);
    else refresh();
  } catch (e) {
    u.state = "error";
    u.error = serverError(e);
    show();
  }
}

async function loadThumbs() {
  for (const p of Object.values((S.case && S.case.photos) || {})) {
    if (S.thumbs[p.id]) continue;
    S.thumbs[p.id] = "loading";
    fetch(p.thumb, { headers: { "X-Device-Token": token() } })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => { S.thumbs[p.id] = b ? URL.createObjectURL(b) : null; show(); })
      .catch(() => { delete S.thumbs[p.id]; });
  }
}

async function submit() {
  S.busy = "submit";
  S.error = "";
  show();
  const body = S.mode === "self" ? { mode: "self", liability: S.liability } : { mode: "ruling" };
  const r = await api("POST", `/api/traffic/cases/${S.case.id}/submit`, body);
  S.busy = "";
  if (r.ok) { update(r.data); window.scrollTo(0, 0); } else { S.error = serverError(r); show(); }
}

async function post(path, body) {
  S.error = "";
  const r = await api("POST", `/api/traffic/cases/${S.case.id}/${path}`, body);
  if (r.ok) update(r.data);
  else { S.error = serverError(r); show(); }
}

function respond(r, answer) {
  post(`parties/${r}/response`, { answer, code: S.answerCodes[r] || undefined });
}

function settle(r, agree) {
  post(`parties/${r}/settlement`, { agree, code: S.answerCodes[r] || undefined });
}

async function download(kind) {
  const url = S.case.documents[kind];
  const res = await fetch(url, { headers: { "X-Device-Token": token() } });
  if (!res.ok) { S.error = t("err_network"); return show(); }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await res.blob());
  a.download = `${kind}-${S.case.id}.pdf`;
  document.body.append(a);
  a.click();
  a.remove();
}

async function refresh() {
  if (!S.case) return;
  const r = await api("GET", `/api/traffic/cases/${S.case.id}`);
  if (r.ok) update(r.data);
}

function connect() {
  if (live || !token()) return;
  api("GET", "/api/traffic/cases/mine").then((r) => {
    if (!r.ok || live) return;
    const mineNow = (r.data.cases || []).find((c) => S.case && c.id === S.case.id);
    if (mineNow) update(mineNow);
    import("/shared/live.js").then((m) => {
      if (live) return;
      live = m.connectLive({
        since: r.data.seq, deviceToken: token(),
        onEvent: (name, data) => name === "traffic.case" && update(data),
        onResync: refresh,
        onState: (s) => { S.live = s === "live" ? "on" : "off"; show(); },
      });
    });
  });
}

// ---------- views ----------

const levelOptions = (sel) => LEVELS.map((l) => html`<option value=${l} ?selected=${l === sel}>${t(`lv_${l}`)}</option>`);

function checkView() {
  const out = ruledOut();
  return html`
    <section class="panel">
      <h2>${t("checkTitle")}</h2>
      <p class="lead">${t("checkLead")}</p>
      ${QUESTIONS.map((q) => html`
        <div class="q">
          <p>${t(`q_${q}`)}</p>
          <div class="yn">
            <button type="button" class=${S.answers[q] === true ? "on" : ""} data-testid=${`q-${q}-yes`} @click=${() => answer(q, true)}>${t("yes")}</button>
            <button type="button" class=${S.answers[q] === false ? "on" : ""} data-testid=${`q-${q}-no`} @click=${() => answer(q, false)}>${t("no")}</button>
          </div>
        </div>`)}
      ${out.length ? html`
        <div class="ruled-out" data-testid="ruled-out" role="alert">
          <h3>${t("ruledOut")}</h3>
          <p>${out.map((q) => t(`q_${q}`)).join(" ")}</p>
          <p>${t("ruledOutLead")}</p>
          <label>${t("phone")}<input data-testid="alarm-phone" type="tel" inputmode="tel" maxlength="32"
            .value=${S.alarmPhone ?? store.get("phone", "") ?? ""} @input=${(e) => { S.alarmPhone = e.target.value; }}></label>
          <button class="btn alarmbtn" type="button" data-testid="to-alarm" ?disabled=${S.busy === "alarm"} @click=${toAlarm}>
            ${S.busy === "alarm" ? t("toAlarmBusy") : t("toAlarm")}</button>
        </div>` : html`
        <button class="btn primary" type="button" data-testid="start-case" ?disabled=${S.busy === "start"} @click=${startCase}>
          ${S.busy === "start" ? t("starting") : t("start")}</button>`}
      ${S.error ? html`<p class="error" role="alert" data-testid="check-error">${S.error}</p>` : ""}
    </section>
    <section class="panel">
      <h2>${t("joinTitle")}</h2>
      <p class="lead">${t("joinLead")}</p>
      <div class="row">
        <input data-testid="join-code" aria-label=${t("joinCode")} placeholder=${t("joinCode")} maxlength="8" autocapitalize="characters"
          .value=${S.joinCode} @input=${(e) => { S.joinCode = e.target.value; }}>
        <button class="btn ghost small" type="button" data-testid="join-submit" @click=${join}>${t("join")}</button>
      </div>
    </section>`;
}

function alarmedView() {
  return html`<section class="panel" data-testid="alarmed" data-alarm-id=${S.alarm.id}>
    <h2>${t("alarmed")}</h2><p class="lead">${t("alarmedLead")}</p>
    <a class="btn call110" href="tel:110">${t("call110")}</a>
    <a class="btn ghost" href="/m/">${t("seeAlarm")}</a></section>`;
}

function partyView(r) {
  const c = S.case;
  const p = c.parties[r];
  // Party B on their own phone fills in B; A's phone then shows it read-only.
  const editable = own(r) && c.status === "draft" && !(r === "B" && mine().length === 2 && p.joined);
  if (!editable) {
    return html`<div class="party ro" data-testid=${`party-${r}`}>
      <h3>${roleName(r)}</h3>
      <p><b>${p.plate || "—"}</b> · ${p.vehicle_type ? t(`vt_${p.vehicle_type}`) : "—"} · ${p.insurer || "—"}</p>
      <p>${p.phone || "—"} ${p.verified ? html`<span class="ok" data-testid=${`verified-${r}`}>✓ ${t("verified")}</span>` : ""}</p>
    </div>`;
  }
  const d = S.drafts[r];
  const set = (k) => (e) => { S.drafts[r] = { ...S.drafts[r], [k]: e.target.value }; };
  const wait = Math.max(0, 60 - Math.floor((Date.now() - S.codeSentAt[r]) / 1000));
  return html`<div class="party" data-testid=${`party-${r}`}>
    <h3>${roleName(r)}</h3>
    <label>${t("plate")}<input data-testid=${`plate-${r}`} .value=${d.plate || ""} placeholder=${t("platePh")} maxlength="12" @input=${set("plate")} @change=${() => saveParty(r)}></label>
    <label>${t("vtype")}<select data-testid=${`vtype-${r}`} @change=${(e) => { set("vehicle_type")(e); saveParty(r); }}>
      <option value="" ?selected=${!d.vehicle_type}>—</option>
      ${VTYPES.map((v) => html`<option value=${v} ?selected=${d.vehicle_type === v}>${t(`vt_${v}`)}</option>`)}</select></label>
    <label>${t("insurer")}<input data-testid=${`insurer-${r}`} list="insurers" .value=${d.insurer || ""} maxlength="40" @input=${set("insurer")} @change=${() => saveParty(r)}></label>
    <label>${t("phone")}<input data-testid=${`phone-${r}`} type="tel" inputmode="tel" .value=${d.phone || ""} maxlength="32" @input=${set("phone")} @change=${() => saveParty(r)}></label>
    ${p.verified ? html`<p class="ok" data-testid=${`verified-${r}`}>✓ ${t("verified")} ${p.phone}</p>` : html`
      <div class="row">
        <button class="btn ghost small" type="button" data-testid=${`get-code-${r}`} ?disabled=${wait > 0 && S.codeSentAt[r]} @click=${() => getCode(r)}>
          ${S.codeSentAt[r] && wait > 0 ? t("resend", { s: wait }) : t("getCode")}</button>
      </div>
      ${S.codeSentAt[r] ? html`<p class="note">${t("codeSent", { p: p.phone || d.phone })}</p>` : ""}
      <div class="row">
        <input data-testid=${`code-${r}`} inputmode="numeric" autocomplete="one-time-code" maxlength="8" placeholder=${t("codeInput")}
          .value=${S.codes[r]} @input=${(e) => { S.codes[r] = e.target.value; }}>
        <button class="btn primary small" type="button" data-testid=${`verify-${r}`} @click=${() => verify(r)}>${t("verify")}</button>
      </div>`}
    <button class="btn ghost small save" type="button" data-testid=${`save-${r}`} @click=${() => saveParty(r)}>${t("save")}</button>
    ${S.partyError[r] ? html`<p class="error" role="alert" data-testid=${`party-error-${r}`}>${S.partyError[r]}</p>` : ""}
  </div>`;
}

const svgSrc = (svg) => "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);

function photoView(item, i, canTake) {
  const asked = S.case.retake && S.case.retake.slots.includes(i);
  const taken = S.case.photos[String(i)];
  // A photo the officer asked to retake counts as missing until a newer one is stored.
  const stale = asked && taken && Date.parse(taken.created_at) < Date.parse(S.case.retake.at);
  const photo = stale ? null : taken;
  const u = S.uploads[i] && !(stale && S.uploads[i].state === "done") ? S.uploads[i] : { state: photo ? "done" : "idle", sent: 0, total: 0 };
  const pct = u.total ? Math.floor((100 * u.sent) / u.total) : 0;
  const busy = u.state === "sending" || u.state === "retrying" || u.state === "shrinking";
  const thumb = taken && S.thumbs[taken.id];
  return html`<div class=${`shot ${asked ? "asked" : ""}`} data-testid=${`photo-${i}`} data-has-photo=${photo ? "yes" : "no"}>
    <div class="shot-pics">
      ${thumb && thumb !== "loading" ? html`<img class="taken" src=${thumb} alt="">` : html`<img class="example" src=${svgSrc(item.example)} alt=${t("example")}>`}
    </div>
    <div class="shot-text">
      <h4>${i + 1}. ${getLang() === "zh" ? item.title_zh : item.title_en}</h4>
      <p class="note">${getLang() === "zh" ? item.hint_zh : item.hint_en}</p>
      <div class="progress" data-testid=${`photo-progress-${i}`} data-state=${u.state} data-sent=${u.sent} ?hidden=${u.state === "idle"}>
        <div style=${`width:${u.state === "done" ? 100 : pct}%`}></div></div>
      <p class=${stale ? "error" : "note"}>${u.state === "retrying" ? t("resuming") : busy ? t("uploading", { p: pct }) : stale ? t("retakeNeeded") : photo ? `✓ ${t("uploaded")}` : ""}</p>
      ${u.error ? html`<p class="error" role="alert" data-testid=${`photo-error-${i}`}>${u.error}</p>` : ""}
      ${canTake ? html`
        <input type="file" accept="image/*" capture="environment" hidden data-testid=${`photo-input-${i}`}
          @change=${(e) => { takePhoto(i, e.target.files[0]); e.target.value = ""; }}>
        <button class=${`btn small ${photo ? "ghost" : "primary"}`} type="button" data-testid=${`take-${i}`} ?disabled=${busy}
          @click=${(e) => e.target.previousElementSibling.click()}>${photo || stale ? t("retake") : t("take")}</button>` : ""}
    </div>
  </div>`;
}

function missingList() {
  const c = S.case;
  const out = [];
  c.checklist.forEach((it, i) => { if (!c.photos[String(i)]) out.push(getLang() === "zh" ? it.title_zh : it.title_en); });
  for (const r of ["A", "B"]) {
    const p = c.parties[r];
    if (!p.verified) out.push(`${roleName(r)} ${t("phone")}`);
    if (!p.plate) out.push(`${roleName(r)} ${t("plate")}`);
  }
  if (!c.location) out.push(t("where"));
  return out;
}

function draftView() {
  const c = S.case;
  const loc = c.location;
  const missing = missingList();
  const n = Object.keys(c.photos).length;
  return html`
    ${c.code ? html`<section class="panel code">
      <h2>${t("codeTitle")}</h2>
      <div class="codebox"><img data-testid="case-qr" src=${`/api/traffic/qr/${c.code}.svg`} alt="QR" width="150" height="150">
        <p class="bigcode" data-testid="case-code">${c.code}</p></div>
      <p class="lead">${t("codeLead")}</p></section>` : ""}
    <section class="panel">
      <h2>${t("where")}</h2>
      <p data-testid="loc-status" data-state=${loc ? loc.source : "none"}>${!loc ? t("whereNone") : loc.source === "picked" ? t("wherePicked") : t("whereOk", { m: Math.round(loc.accuracy_m || 0) })}
        ${loc ? html`<small>${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}</small>` : ""}</p>
      <button class="btn ghost small" type="button" data-testid="pick-map" @click=${pickOnMap}>${t("pickMap")}</button>
    </section>
    <section class="panel">${["A", "B"].filter((r) => own(r) || c.parties[r].phone).map(partyView)}</section>
    <section class="panel">
      <h2>${t("photos", { n, total: c.checklist.length })}</h2>
      ${c.checklist.map((it, i) => photoView(it, i, true))}
    </section>
    ${own("A") ? html`<section class="panel">
      <label>${t("description")}<textarea data-testid="description" rows="3" maxlength="500" placeholder=${t("descriptionPh")}
        .value=${c.description || ""} @change=${(e) => patchCase({ description: e.target.value })}></textarea></label>
    </section>` : ""}
    <section class="panel">
      <h2>${t("submitTitle")}</h2>
      <label class="radio"><input type="radio" name="mode" data-testid="mode-ruling" ?checked=${S.mode === "ruling"} @change=${() => { S.mode = "ruling"; show(); }}> ${t("modeRuling")}</label>
      <label class="radio"><input type="radio" name="mode" data-testid="mode-self" ?checked=${S.mode === "self"} @change=${() => { S.mode = "self"; show(); }}> ${t("modeSelf")}</label>
      ${S.mode === "self" ? html`<div class="liab">
        <label>${t("liabilityA")}<select data-testid="liab-A" @change=${(e) => { S.liability = { A: e.target.value, B: PAIR[e.target.value] }; show(); }}>${levelOptions(S.liability.A)}</select></label>
        <p>${t("liabilityB")}${t("sep")}<b data-testid="liab-B">${t(`lv_${S.liability.B}`)}</b></p></div>` : ""}
      ${missing.length ? html`<p class="note" data-testid="submit-missing">${t("stillMissing")}${missing.join(getLang() === "zh" ? "、" : "; ")}</p>` : ""}
      <button class="btn primary" type="button" data-testid="submit" ?disabled=${S.busy === "submit" || missing.length > 0} @click=${submit}>
        ${S.busy === "submit" ? t("submitting") : t("submit")}</button>
      ${S.error ? html`<p class="error" role="alert" data-testid="submit-error">${S.error}</p>` : ""}
    </section>`;
}

function answerBox(r, kind) {
  const c = S.case;
  const p = c.parties[r];
  const done = kind === "response" ? p.response : p.settle_answer;
  const needCode = !(r === "A" ? mine().length === 2 : mine().length === 1 && mine()[0] === "B");
  if (done) return html`<p class="ok">${roleName(r)}${t("sep")}${t(kind === "response" ? done : done === "agree" ? "agreed" : "disagree")}</p>`;
  if (!own(r)) return html`<p class="note">${roleName(r)}${t("sep")}${t("waitingOther")}</p>`;
  const [yes, no, yesKey, noKey] = kind === "response" ? ["confirmed", "disputed", "confirm", "dispute"] : ["agree", "disagree", "agree", "disagree"];
  const act = (v) => (kind === "response" ? respond(r, v) : settle(r, v === "agree"));
  const tid = kind === "response" ? "respond" : "settle";
  return html`<div class="answer">
    <p><b>${roleName(r)}</b></p>
    ${needCode ? html`<p class="note">${t("needCode", { p: roleName(r) })}</p>
      <div class="row"><input data-testid=${`${tid}-code-${r}`} inputmode="numeric" maxlength="8" placeholder=${t("codeInput")}
        .value=${S.answerCodes[r]} @input=${(e) => { S.answerCodes[r] = e.target.value; }}>
        <button class="btn ghost small" type="button" @click=${() => getCode(r)}>${t("getCode")}</button></div>` : ""}
    <div class="row">
      <button class="btn primary small" type="button" data-testid=${`${tid}-${yes}-${r}`} @click=${() => act(yes)}>${t(yesKey)}</button>
      <button class="btn ghost small" type="button" data-testid=${`${tid}-${no}-${r}`} @click=${() => act(no)}>${t(noKey)}</button>
    </div></div>`;
}

function statusView() {
  const c = S.case;
  const st = c.status;
  const step = { submitted: 1, reviewing: 2, more_photos: 2, decided: 3, settling: 1, settled: 3, dispatched: 3 }[st] || 1;
  const lia = c.decision && c.decision.liability;
  return html`
    ${["submitted", "reviewing", "more_photos", "settling"].includes(st) ? html`
      <section class="move" data-testid="move-now" role="alert"><h2>${t("moveNow")}</h2><p>${t("moveNowLead")}</p></section>` : ""}
    <section class="panel">
      <h2>${t("steps")} <small class="live">${S.live === "on" ? t("live_on") : t("live_off")}</small></h2>
      <ol class="steps">
        <li class=${step >= 1 ? "done" : ""}>${t("stepSubmitted")}</li>
        <li class=${step >= 2 ? "done" : ""}>${t("stepReview")}</li>
        <li class=${step >= 3 ? "done" : ""}>${t("stepDecided")}</li></ol>
      <p class="status" data-testid="case-status" data-status=${st}>${t(`st_${st}`)}</p>
      ${c.mode === "ruling" && c.settlement && st !== "settled" ? html`<p class="note">${t("refusedToDesk")}</p>` : ""}
    </section>
    ${st === "more_photos" ? html`<section class="panel asked">
      <h2>${t("retakeAsk", { r: c.retake.reason })}</h2>
      ${c.checklist.map((it, i) => (c.retake.slots.includes(i) ? photoView(it, i, true) : ""))}
      <button class="btn primary" type="button" data-testid="resubmit" @click=${() => post("resubmit")}
        ?disabled=${c.retake.slots.some((i) => !c.photos[String(i)] || Date.parse(c.photos[String(i)].created_at) < Date.parse(c.retake.at))}>${t("resubmit")}</button>
    </section>` : ""}
    ${lia ? html`<section class="panel decision" data-testid="decision" data-a=${lia.A} data-b=${lia.B}>
      <h2>${t("decision")}</h2>
      <p class="big">${roleName("A")} ${c.parties.A.plate}${t("sep")}<b>${t(`lv_${lia.A}`)}</b></p>
      <p class="big">${roleName("B")} ${c.parties.B.plate}${t("sep")}<b>${t(`lv_${lia.B}`)}</b></p>
      <p class="note">${t("rule")}${t("sep")}${getLang() === "zh" ? c.decision.rule_zh : c.decision.rule_en}</p>
      <p class="note">${t("officer")}${t("sep")}${c.decision.officer.name}</p>
      ${st === "decided" ? ["A", "B"].map((r) => answerBox(r, "response")) : ""}
      <button class="btn ghost" type="button" data-testid="download-determination" @click=${() => download("determination")}>${t("downloadDecision")}</button>
    </section>` : ""}
    ${c.settlement && (st === "settling" || st === "settled") ? html`<section class="panel" data-testid="settlement">
      <h2>${t("proposal")}</h2>
      <p class="big">${roleName("A")}${t("sep")}<b>${t(`lv_${c.settlement.liability.A}`)}</b> · ${roleName("B")}${t("sep")}<b>${t(`lv_${c.settlement.liability.B}`)}</b></p>
      ${["A", "B"].map((r) => answerBox(r, "settle"))}
      ${c.documents.agreement ? html`<button class="btn primary" type="button" data-testid="download-agreement" @click=${() => download("agreement")}>${t("downloadAgreement")}</button>` : ""}
    </section>` : ""}
    ${st === "dispatched" ? html`<section class="panel"><p class="lead">${t("dispatchedLead")}</p>
      <a class="btn call110" href="tel:110">${t("call110")}</a><a class="btn ghost" href="/m/">${t("seeAlarm")}</a></section>` : ""}
    ${S.error ? html`<p class="error" role="alert" data-testid="submit-error">${S.error}</p>` : ""}`;
}

function view() {
  const body = S.view === "alarmed" ? alarmedView() : S.view === "case" && S.case ? (S.case.status === "draft" ? draftView() : statusView()) : checkView();
  return html`
    <header class="top">
      <h1>${t("tTitle")}</h1>
      <button class="lang" type="button" data-testid="lang-switch" @click=${() => setLang(getLang() === "zh" ? "en" : "zh")}>${t("lang")}</button>
    </header>
    <main>${body}
      <datalist id="insurers">${INSURERS.map((i) => html`<option value=${i}></option>`)}</datalist>
      <p class="back"><a href="/m/">${t("tBack")}</a></p>
    </main>`;
}

// ---------- start ----------

async function boot() {
  root.textContent = ""; // the loading note goes; lit-html renders into an empty container
  setInterval(() => { if (S.view === "case" && (S.codeSentAt.A || S.codeSentAt.B)) show(); }, 1000);
  onLang(show);
  setLang(getLang(), { remember: false });
  Object.defineProperty(window, "baojing", {
    value: Object.freeze({ get traffic() { return JSON.parse(JSON.stringify({ view: S.view, case: S.case, uploads: S.uploads, live: S.live })); } }),
  });
  show();
  if (S.joinCode) return join();
  const id = store.get("traffic.case", null);
  if (id && token()) {
    const r = await api("GET", `/api/traffic/cases/${id}`);
    if (r.ok && !["converted"].includes(r.data.status)) return openCase(r.data);
    store.del("traffic.case");
  }
}

boot();
