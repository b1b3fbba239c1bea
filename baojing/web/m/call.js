/* Video and text alarms on the caller's page (视频报警, 文字报警). Loaded only when the caller taps
 * one of them (or comes back to a page that had one open), so the first load stays small.
 * Contract: docs/api.md, "Video and text calls". The text screen is in chat.js, WebRTC in /shared/rtc.js.
 *
 * data-testid (stable; the e2e tests rely on them):
 *   video-button, text-button   (index.html) under the red 电话报警 button
 *   video-unavailable   why there is no video alarm here (outside the service area, or no position),
 *                       with buttons for a phone or a text alarm instead
 *   video-terms-accept  checkbox "我已阅读并同意" on the 视频报警须知 screen; ticking it opens the
 *                       camera and microphone (the preview)
 *   video-silent        checkbox: silent alarm (no sound, no vibration, dimmed screen, no remote audio)
 *   video-confirm       "确认拨打": sends the alarm with kind "video"
 *   video-status        data-state = preview | sending | waiting | active | held | reconnecting | ended
 *   video-queue         place in the queue and time waited, while waiting
 *   video-local         <video> this phone's camera (big while waiting, small during the call)
 *   video-remote        <video> one per other party, data-party-id, data-role
 *   video-switch-camera front/back camera (replaceTrack on every sender, the recorder's too)
 *   video-mute          microphone on/off (aria-pressed)
 *   video-hangup        ends the call (POST /api/calls/{id}/hangup)
 *   video-quality       data-level = good | fair | poor | unknown (RTT and packet loss, from getStats)
 *   call-110-fallback   tel:110 link, on the video and the text screens
 *   text-status         data-state = sending | waiting | active | held | ended
 *   text-silent         checkbox: silent mode on the text screen (no sound or vibration, dim screen)
 *   chat-input, chat-send   the message box and its button
 *   chat-message        one per message, data-role = caller | desk | officer | supervisor,
 *                       data-state = queued | sent | failed
 *   chat-attach         <input type=file>: photos (up to 8) and one clip (up to 15 s)
 *   upload-progress     one per file, data-state = uploading | done | error, with a <progress>
 * Test hook, read-only: window.baojing.call = {id, kind, status, me, phase, quality, peers}
 * (peers: Map party id -> RTCPeerConnection), null before the first call on this page.
 *
 * Starting a call behaves like the alarm's outbox: the body (with its idempotency key) is kept in
 * localStorage (bj.call) and sent again with backoff until the server answers; a reload sends it
 * again and gets the same call back, with its ICE servers, and rejoins it.
 */

import { api, clock, store, uuid } from "./net.js";
import { applyStatic, errorText, getLang, onLang, t } from "../shared/lang.js";
import { h, setText } from "../shared/dom.js";
import { parseTime } from "../shared/time.js";
import { durationText } from "../shared/i18n.js";
import { backoff } from "./outbox.js";
import { fixBody } from "./locate.js";
import { coded } from "./callwords.js";
import { Mesh, quality } from "/shared/rtc.js";

const $ = (id) => document.getElementById(id);
const RETRYABLE = [408, 425, 429];

let ctx = null;
let S = null; // the call on this page
let root = null;
let ticker = 0;
let cssLoaded = false;


function loadCss() {
  if (cssLoaded) return;
  cssLoaded = true;
  document.head.append(h("link", { rel: "stylesheet", href: "call.css" }));
}

// A short beep and a buzz when something arrives, never in silent mode.
export function notify() {
  if (!S || S.silent) return;
  try { if (navigator.vibrate) navigator.vibrate(200); } catch (e) { /* no vibration */ }
  try {
    const A = window.AudioContext || window.webkitAudioContext;
    if (!A) return;
    const a = S.audio || (S.audio = new A());
    const o = a.createOscillator();
    const g = a.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.08;
    o.connect(g).connect(a.destination);
    o.start();
    o.stop(a.currentTime + 0.15);
  } catch (e) { /* no sound */ }
}

function setSilent(on) {
  if (!S) return;
  S.silent = !!on;
  document.body.classList.toggle("silent", S.silent);
  for (const v of document.querySelectorAll("[data-testid=video-remote]")) v.muted = S.silent;
  if (store.get("call", null)) saveRec();
  if (S.body && !S.id) S.body.silent = S.silent;
  syncSilent();
}

// The officers sent must know not to ring this phone: the server hears the caller's choice, and
// hears it again if the call's view from the server still says otherwise.
let silentInFlight = false;
async function syncSilent() {
  if (!S || !S.id || !S.call || S.status === "ended" || S.call.silent === S.silent || silentInFlight) return;
  silentInFlight = true;
  const r = await api("POST", `/api/calls/${S.id}/silent`, { silent: S.silent });
  silentInFlight = false;
  if (r.ok && S && r.data && r.data.id === S.id) S.call.silent = r.data.silent;
  if (S && S.call && S.call.silent !== S.silent) setTimeout(syncSilent, r.ok ? 0 : 3000);
}

function saveRec() {
  if (!S) return;
  store.set("call", { kind: S.kind, key: S.key, body: S.body, id: S.id, silent: S.silent, fix: S.fix });
}

// ---------- entry points (app.js) ----------

export function open(kind, c) {
  ctx = c;
  loadCss();
  if (S && S.status !== "ended" && (!kind || kind === S.kind)) {
    show();
    return;
  }
  if (kind === null) {
    resume();
    return;
  }
  if (S && S.status !== "ended") {
    show(); // one call at a time
    return;
  }
  if (kind === "text") startText();
  else checkVideo();
}

export function hook() {
  if (!S) return null;
  return Object.freeze({
    id: S.id, kind: S.kind, status: S.status, me: S.call ? S.call.me : null, phase: S.phase,
    quality: S.quality, silent: S.silent, peers: S.mesh ? S.mesh.peers : new Map(),
  });
}

export function onEvent(name, data) {
  if (!S || !data) return;
  if (name === "call.updated" && data.id === S.id) apply(data);
  else if (name === "call.message" && data.call_id === S.id && S.chat) S.chat.add(data, true);
}

export function onMessage(m) {
  if (!S || !m || m.call_id !== S.id) return;
  if (S.mesh) S.mesh.onMessage(m);
  if (m.type === "error" && m.code === "call_ended") poll();
}

// ---------- the call's life: start (outbox-like), events, end ----------

function newCall(kind, body, silent) {
  S = { kind, key: body.idempotency_key, body, id: null, call: null, status: "sending", phase: "sending", tries: 0,
    silent: !!silent, quality: "unknown", mesh: null, stream: null, facing: "user", muted: false, chat: null };
  document.body.classList.toggle("silent", S.silent);
}

async function currentFix() {
  const fix = await ctx.firstFix();
  return fix ? { lat: fix.lat, lon: fix.lon, acc: fix.acc, ts: fix.ts } : null;
}

function alarmBody(kind, form, fix) {
  return { idempotency_key: uuid(), phone: form.phone, name: form.name || null, kind, place_text: null, location: fixBody(fix) };
}

let wakeUp = null;
window.addEventListener("online", () => wakeUp && wakeUp());

function pause(ms) {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      wakeUp = null;
      resolve();
    }
    wakeUp = done;
  });
}

// POST /api/calls until the server answers; the same body (same key) every time.
async function send() {
  const me = S;
  let resets = 0;
  while (S === me && !me.id && !me.cancelled) {
    const r = await api("POST", "/api/calls", me.body, 15000);
    if (S !== me) return;
    if (r.ok && r.data) {
      acked(r.data);
      return;
    }
    const code = r.data && r.data.code;
    if (r.status === 401 && code === "bad_device_token" && resets++ < 2) {
      store.del("device");
      continue;
    }
    if (r.status >= 400 && r.status < 500 && !RETRYABLE.includes(r.status)) {
      refused(r.data);
      return;
    }
    me.tries += 1;
    redraw();
    await pause(backoff(me.tries));
  }
}

function acked(data) {
  ctx.setToken(data.device_token);
  S.id = data.id;
  S.ice = data.ice_servers || [];
  saveRec();
  ctx.adopt(S.key, data.alarm_id, S.fix);
  if (S.cancelled) {
    hangup();
    return;
  }
  apply(data);
  if (S.chat) S.chat.acked();
  clearInterval(ticker);
  ticker = setInterval(tick, 1000);
}

function refused(body) {
  const me = S;
  store.del("call");
  S.status = "ended";
  S.phase = "refused";
  S.error = errorText(body);
  if (me.kind === "video" && body && (body.code === "outside_service_area" || body.code === "location_required")) {
    stopMedia();
    close();
    S = null;
    showUnavailable(body);
    return;
  }
  redraw();
}

function apply(call) {
  if (!S || call.id !== S.id) return;
  const before = S.status;
  S.call = Object.assign({}, S.call || {}, call);
  S.status = call.status;
  if (S.status === "ended") {
    end();
    return;
  }
  syncSilent();
  if (before !== "active" && S.status === "active") notify();
  if (S.kind === "video") startMesh();
  if (S.mesh) S.mesh.setParties(call.parties);
  redraw();
}

async function poll() {
  if (!S || !S.id) return;
  const r = await api("GET", "/api/me/calls", undefined, 10000);
  const c = r.ok && r.data && (r.data.calls || []).find((x) => x.id === S.id);
  if (c) {
    if (c.ice_servers && c.ice_servers.length) S.ice = c.ice_servers;
    apply(c);
  }
}

let beat = 0;
async function tick() {
  if (!S || S.status === "ended") return;
  beat += 1;
  if (S.mesh) {
    S.mesh.flush();
    if (beat % 2 === 0) {
      const q = quality(await S.mesh.stats());
      if (S) S.quality = q === "none" ? "unknown" : q;
    }
  }
  if (beat % 15 === 0) poll(); // events can be late; this never is wrong
  redraw();
}

function end() {
  clearInterval(ticker);
  ticker = 0;
  store.del("call");
  S.phase = "ended";
  if (S.mesh) S.mesh.close();
  S.mesh = null;
  stopMedia();
  document.body.classList.remove("silent");
  ctx.refresh();
  redraw();
}

export async function hangup() {
  if (!S) return;
  if (!S.id) {
    // Not acknowledged yet: cancel; if the server got it after all, hang up when it says so.
    S.cancelled = true;
    S.status = "ended";
    end();
    return;
  }
  S.hangingUp = true;
  redraw();
  for (let i = 0; i < 5; i++) {
    const r = await api("POST", `/api/calls/${S.id}/hangup`, undefined, 10000);
    if (r.ok && r.data) {
      apply(r.data);
      return;
    }
    if (r.status === 409 || r.status === 404 || r.status === 422) break;
    await pause(backoff(i + 1));
  }
  poll();
}

async function resume() {
  const rec = store.get("call", null);
  if (!rec || !rec.body) {
    store.del("call");
    return;
  }
  // Same key: the server answers with the same call (ended or not) and fresh ICE servers.
  const r = await api("POST", "/api/calls", rec.body, 15000);
  if (r.ok && r.data && r.data.status === "ended") {
    store.del("call");
    return;
  }
  if (r.status >= 400 && r.status < 500 && !RETRYABLE.includes(r.status)) {
    store.del("call");
    return;
  }
  newCall(rec.kind, rec.body, rec.silent);
  S.fix = rec.fix || null;
  if (rec.kind === "video") {
    S.accepted = true;
    buildVideo();
    show();
    await openCamera();
  } else {
    await startChat();
  }
  if (r.ok && r.data) acked(r.data);
  else send();
}

// ---------- screens ----------

function close() {
  if (root) root.remove();
  root = null;
}

function show() {
  if (!root) return;
  ctx.show(false);
  root.hidden = false;
  window.scrollTo(0, 0);
  redraw();
}

function leave() {
  if (S && S.status === "ended") {
    close();
    S.chat = null;
  } else if (root) root.hidden = true;
  document.body.classList.remove("silent");
  ctx.show(true);
}

function redraw() {
  if (!S || !root) return;
  if (S.kind === "video") drawVideo();
  else if (S.chat) S.chat.draw();
}

// ---------- text alarm ----------

async function startText() {
  const form = ctx.form();
  if (form.problem) {
    $("phone").focus();
    return;
  }
  newCall("text", alarmBody("text", form, null), false);
  await startChat();
  S.fix = await currentFix();
  if (!S || S.kind !== "text" || S.id || S.cancelled) return;
  S.body = alarmBody("text", form, S.fix);
  S.key = S.body.idempotency_key;
  saveRec();
  send();
}

async function startChat() {
  const chat = await import("./chat.js");
  close();
  root = h("section", { id: "callview", class: "cv chat" });
  document.querySelector("main").append(root);
  S.chat = chat.createChat({ S: () => S, root, leave, setSilent, hangup, notify });
  show();
}

// ---------- video alarm ----------

// Is video offered here? Ask with the phone's position, say why not, offer the others.
async function checkVideo() {
  const btn = $("video-btn");
  const na = $("video-na");
  na.hidden = true;
  const label = btn.textContent;
  btn.disabled = true;
  btn.textContent = t("vChecking");
  const fix = await currentFix();
  const body = fix ? { lat: fix.lat, lon: fix.lon, crs: "wgs84", accuracy_m: Math.round(fix.acc) } : undefined;
  const r = await api("POST", "/api/calls/availability", body, 8000);
  btn.disabled = false;
  btn.textContent = label;
  if (r.ok && r.data && !r.data.video) {
    showUnavailable(r.data);
    return;
  }
  // No answer: go ahead; the call itself will be told if video is not offered here.
  newCall("video", alarmBody("video", { phone: "", name: "" }, fix), false);
  S.fix = fix;
  buildVideo();
  show();
}

function showUnavailable(body) {
  const na = $("video-na");
  const msg = body ? (getLang() === "en" ? body.message_en : body.message_zh) || errorText(body) : t("vNaNoPos");
  na.replaceChildren(
    h("p", { class: "na-title", text: t("vNaTitle") }),
    h("p", { text: msg }),
    h("div", { class: "na-btns" },
      h("button", { type: "button", class: "btn ghost", text: t("vNaPhone"), onclick: () => { na.hidden = true; $("call").click(); } }),
      h("button", { type: "button", class: "btn primary", text: t("vNaText"), onclick: () => { na.hidden = true; open("text", ctx); } })));
  na.hidden = false;
  ctx.show(true);
  na.scrollIntoView({ block: "nearest" });
}

const V = {}; // the video screen's elements

function buildVideo() {
  close();
  const form = { phone: store.get("phone", "") || $("phone").value, name: store.get("name", "") || $("name").value };
  V.accept = h("input", { type: "checkbox", id: "v-accept", "data-testid": "video-terms-accept", onchange: onAccept });
  V.silent = h("input", { type: "checkbox", id: "v-silent", "data-testid": "video-silent", onchange: (e) => setSilent(e.target.checked) });
  V.phone = h("input", { id: "v-phone", type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: 32 });
  V.phone.value = form.phone;
  V.name = h("input", { id: "v-name", type: "text", autocomplete: "name", maxlength: 40 });
  V.name.value = form.name;
  V.err = h("p", { class: "error", role: "alert", hidden: true });
  V.confirm = h("button", { type: "button", class: "btn alarm v-confirm", "data-testid": "video-confirm", onclick: onConfirm });
  V.local = h("video", { class: "v-local", "data-testid": "video-local", autoplay: true, playsinline: true, muted: true });
  V.local.muted = true;
  V.status = h("p", { class: "v-status", "data-testid": "video-status", role: "status", "aria-live": "polite" });
  V.queue = h("p", { class: "v-queue", "data-testid": "video-queue", hidden: true });
  V.quality = h("span", { class: "v-quality", "data-testid": "video-quality", "data-level": "unknown" });
  V.rec = h("span", { class: "v-rec", hidden: true });
  V.tiles = h("div", { class: "v-tiles" });
  V.sw = h("button", { type: "button", class: "v-btn", "data-testid": "video-switch-camera", onclick: switchCamera });
  V.mute = h("button", { type: "button", class: "v-btn", "data-testid": "video-mute", "aria-pressed": "false", onclick: toggleMute });
  V.hang = h("button", { type: "button", class: "v-btn v-hang", "data-testid": "video-hangup", onclick: onHangup });
  V.fallback = h("a", { class: "v-110", href: "tel:110", "data-testid": "call-110-fallback" });
  V.back = h("button", { type: "button", class: "btn ghost", onclick: leave });
  V.setup = h("div", { class: "v-setup" },
    h("div", { class: "cv-head" }, h("h2", { "data-i18n": "vTermsTitle" }),
      h("button", { type: "button", class: "lang", "data-i18n": "vBack", onclick: cancelSetup })),
    h("div", { class: "terms-text v-terms", "data-i18n": "vTerms" }),
    h("label", { class: "check", for: "v-accept" }, V.accept, h("span", { "data-i18n": "vAccept" })),
    h("label", { class: "check", for: "v-silent" }, V.silent, h("span", {}, h("span", { "data-i18n": "vSilent" }), h("small", { "data-i18n": "vSilentHint" }))),
    h("label", { for: "v-phone", "data-i18n": "phoneL" }),
    V.phone,
    h("label", { for: "v-name", "data-i18n": "nameL" }),
    V.name);
  V.stage = h("div", { class: "v-stage" }, V.tiles, V.local,
    h("div", { class: "v-top" }, V.status, h("span", { class: "v-badges" }, V.rec, V.quality)), V.queue);
  V.controls = h("div", { class: "v-controls" }, V.sw, V.mute, V.hang);
  V.endBox = h("div", { class: "v-end", hidden: true }, h("p", { class: "v-end-why" }), V.back);
  root = h("section", { id: "callview", class: "cv video" },
    V.setup, V.stage, V.err, V.confirm, V.controls, V.endBox, V.fallback);
  document.querySelector("main").append(root);
  root.hidden = true;
  drawVideo();
}

function cancelSetup() {
  stopMedia();
  close();
  S = null;
  ctx.show(true);
}

async function onAccept() {
  if (!S) return;
  S.accepted = V.accept.checked;
  if (S.accepted && !S.stream) await openCamera();
  drawVideo();
}

async function openCamera() {
  if (S.camera) return S.camera;
  S.camError = null;
  S.camera = navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true },
    video: { facingMode: S.facing, width: { ideal: 640 }, height: { ideal: 480 } },
  }).then((stream) => {
    if (!S || S.status === "ended") {
      stream.getTracks().forEach((t) => t.stop());
      return null;
    }
    S.stream = stream;
    V.local.srcObject = stream;
    V.local.play().catch(() => {});
    if (S.phase === "sending" && !S.id) S.phase = "preview";
    if (S.id) startMesh();
    return stream;
  }).catch((e) => {
    S.camError = (e && e.name) || "error";
    S.camera = null;
    return null;
  }).finally(drawVideo);
  S.phase = "preview";
  drawVideo();
  return S.camera;
}

async function onConfirm() {
  if (!S || S.confirmed) return;
  if (!V.accept.checked) {
    S.hint = t("vNeedAccept");
    drawVideo();
    return;
  }
  S.hint = null;
  $("phone").value = V.phone.value;
  $("name").value = V.name.value;
  const form = ctx.form();
  if (form.problem) {
    S.hint = form.problem;
    drawVideo();
    V.phone.focus();
    return;
  }
  if (!S.stream) await openCamera();
  if (!S.stream) return; // no camera: the error says what to do instead
  S.confirmed = true;
  S.body = Object.assign(alarmBody("video", form, S.fix), { silent: S.silent });
  S.key = S.body.idempotency_key;
  S.phase = "call";
  saveRec();
  notifyStart();
  send();
  drawVideo();
}

function notifyStart() {
  // A little warm-up of audio on the tap (mobile browsers unlock sound only on a gesture).
  if (S.silent) return;
  for (const v of document.querySelectorAll("video")) v.play().catch(() => {});
}

function startMesh() {
  if (!S || S.mesh || !S.id || !S.stream || !S.call || S.status === "ended") return;
  S.mesh = new Mesh({
    callId: S.id, me: S.call.me, iceServers: S.ice, stream: S.stream, recording: !!S.call.recording,
    send: (m) => ctx.send(m), onChange: drawVideo,
  });
}

async function switchCamera() {
  if (!S || !S.stream || S.switching) return;
  S.switching = true;
  const next = S.facing === "user" ? "environment" : "user";
  const old = S.stream.getVideoTracks()[0];
  try {
    // Some phones cannot open the second camera while the first is running.
    if (old) old.stop();
    let s;
    try {
      s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { exact: next }, width: { ideal: 640 }, height: { ideal: 480 } } });
    } catch (e) {
      s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: next, width: { ideal: 640 }, height: { ideal: 480 } } });
    }
    const track = s.getVideoTracks()[0];
    S.facing = next;
    if (old) S.stream.removeTrack(old);
    S.stream.addTrack(track);
    if (S.mesh) await S.mesh.replaceTrack("video", track);
  } catch (e) {
    // Back to the camera we had.
    try {
      const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: S.facing } });
      const track = s.getVideoTracks()[0];
      if (old) S.stream.removeTrack(old);
      S.stream.addTrack(track);
      if (S.mesh) await S.mesh.replaceTrack("video", track);
    } catch (e2) { /* camera gone: audio continues */ }
  }
  V.local.srcObject = S.stream;
  V.local.play().catch(() => {});
  S.switching = false;
  drawVideo();
}

function toggleMute() {
  if (!S || !S.stream) return;
  S.muted = !S.muted;
  for (const t of S.stream.getAudioTracks()) t.enabled = !S.muted;
  drawVideo();
}

function onHangup() {
  // No "are you sure?" dialog: under stress it is one more obstacle, and the caller can call again.
  if (S) hangup();
}

function stopMedia() {
  if (S && S.stream) S.stream.getTracks().forEach((t) => t.stop());
  if (S) S.stream = null;
  if (V.local) V.local.srcObject = null;
}

function videoState() {
  if (!S) return "ended";
  if (S.status === "ended") return "ended";
  if (!S.confirmed) return "preview";
  if (!S.id) return "sending";
  if (S.status === "active" && S.mesh && S.mesh.state() === "reconnecting") return "reconnecting";
  return S.status;
}

function drawVideo() {
  if (!S || !root || S.kind !== "video") return;
  applyStatic(root);
  const st = videoState();
  const inCall = !!S.confirmed || !!S.id;
  root.dataset.state = st;
  root.classList.toggle("incall", inCall && st !== "ended");
  root.classList.toggle("front", S.facing === "user");
  V.setup.hidden = inCall;
  V.confirm.hidden = inCall;
  V.controls.hidden = !inCall || st === "ended";
  V.endBox.hidden = st !== "ended";
  V.stage.hidden = st === "ended" || (!S.stream && !inCall);
  V.status.hidden = !S.stream && !inCall && !S.camError;
  if (V.status.dataset.state !== st) V.status.dataset.state = st;
  setText(V.confirm, t("vConfirm"));
  V.confirm.classList.toggle("off", !S.accepted);
  setText(V.fallback, `☎ ${t("fallback")}`);
  setText(V.back, t("tLeave"));

  let text;
  if (st === "preview") text = S.camError ? t("vCamFail", { why: S.camError }) : S.stream ? t("vPreview") : t("vCamOpening");
  else if (st === "sending") text = S.tries ? t("vRetry", { n: S.tries }) : t("vSending");
  else if (st === "waiting") text = t("vWaiting");
  else if (st === "active") text = t("vActive");
  else if (st === "held") text = t("vHeld");
  else if (st === "reconnecting") text = t("vReconnecting");
  else text = t("vEnded");
  setText(V.status, text);
  const err = S.hint || (S.phase === "refused" ? S.error : "") || (S.camError && !inCall ? t("vCamFail", { why: S.camError }) : "");
  setText(V.err, err);
  V.err.hidden = !err;

  // Queue and time waited.
  const c = S.call;
  const waiting = st === "waiting" && c;
  V.queue.hidden = !waiting;
  if (waiting) {
    // In words ("已等待 1 分 05 秒"), not a clock face a frightened caller has to read.
    const waited = durationText(Date.now() + (clock.known ? clock.offset : 0) - parseTime(c.queued_at), { exact: true });
    const ahead = c.queue ? c.queue.ahead : 0;
    setText(V.queue, ahead > 0 ? t("vQueue", { n: ahead, t: waited }) : t("vQueueNext", { t: waited }));
  }
  V.rec.hidden = !(c && c.recording && inCall && st !== "ended");
  setText(V.rec, t("vRecording"));
  const q = inCall && st !== "ended" && st !== "sending" && st !== "waiting" ? (st === "reconnecting" ? "poor" : S.quality) : "unknown";
  if (V.quality.dataset.level !== q) V.quality.dataset.level = q;
  setText(V.quality, coded("q", q));
  V.quality.hidden = !inCall || st === "ended";

  // Remote tiles, one per other party.
  const remotes = S.mesh ? S.mesh.remotes() : [];
  const roles = new Map(((c && c.parties) || []).map((p) => [p.id, p.role]));
  const keep = new Set();
  for (const r of remotes) {
    keep.add(String(r.id));
    let tile = V.tiles.querySelector(`[data-tile="${r.id}"]`);
    if (!tile) {
      const v = h("video", { "data-testid": "video-remote", "data-party-id": r.id, autoplay: true, playsinline: true });
      v.muted = S.silent;
      tile = h("div", { class: "v-tile", "data-tile": r.id }, v, h("span", { class: "v-who" }), h("span", { class: "v-down" }));
      V.tiles.append(tile);
    }
    const v = tile.querySelector("video");
    v.dataset.role = roles.get(r.id) || "";
    if (r.stream && v.srcObject !== r.stream) {
      v.srcObject = r.stream;
      v.play().catch(() => {});
    }
    v.muted = S.silent;
    setText(tile.querySelector(".v-who"), coded("party", roles.get(r.id)));
    const down = tile.querySelector(".v-down");
    setText(down, t("vReconnecting"));
    down.hidden = !r.down;
  }
  for (const tile of Array.from(V.tiles.children)) if (!keep.has(tile.dataset.tile)) tile.remove();
  V.tiles.dataset.n = String(remotes.length);
  root.classList.toggle("has-remote", remotes.length > 0 && st !== "ended");

  setText(V.sw, `⟲ ${t("vSwitch")}`);
  setText(V.mute, S.muted ? t("vUnmute") : t("vMute"));
  V.mute.setAttribute("aria-pressed", String(!!S.muted));
  V.sw.disabled = !S.stream || !!S.switching;
  setText(V.hang, st === "waiting" || st === "sending" ? t("vCancel") : t("vHangup"));
  V.hang.disabled = !!S.hangingUp;
  const why = c && c.end_reason ? coded("vEndedWhy", c.end_reason) : "";
  setText(V.endBox.querySelector(".v-end-why"), st === "ended" ? `${t("vEnded")}。${why}`.replace("。。", "。") : "");
  if (st === "ended" && getLang() === "en") setText(V.endBox.querySelector(".v-end-why"), `${t("vEnded")}. ${why}`);
}

onLang(() => redraw());
