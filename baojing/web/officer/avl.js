// AVL: the officer's phone reports where the unit is while on duty.
// A point is queued when the phone moved more than 15 m (at most one every 5 s, or every
// `next_report_s` while the server asks for less under load), or every 30 s anyway; the queue goes to POST /api/officer/positions oldest first, up to 200 points a batch.
// When the network fails the points stay queued, in memory and in localStorage (so a reload or a
// dead battery loses nothing), and go as one batch when it is back.

import { distanceM } from "/shared/distance.js";

const MOVE_M = 15;
const MIN_GAP_MS = 5000;
const HEARTBEAT_MS = 30000;
const TRUST_FIX_MS = 120000;   // a fix older than this is not repeated as "still here"
const POKE_MS = 20000;         // no new fix for this long: ask the phone once more
const BATCH = 200;
const MAX_QUEUE = 2000;        // ~3 h of driving at one point every 5 s; oldest dropped beyond
const WATCH = { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 };

const num = (v, lo, hi) => (typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi ? v : null);

/**
 * post(path, body) -> Promise (rejects with {status, code}); onChange(state) after every change.
 * state: {watching, fix, geoError, queue, lastOkAt, failing, stopped, sent}
 */
export function createAvl({ post, storageKey, onChange }) {
  const geo = navigator.geolocation;
  let watchId = null;
  let fix = null;             // {lat, lon, acc, speed, heading, ts, seen}
  let geoError = null;        // denied | unavailable | timeout | unsupported
  let lastQueued = null;      // the last point queued {lat, lon, ts}
  let lastQueuedAt = 0;       // Date.now() when it was queued
  let lastOkAt = null;
  let gapMs = MIN_GAP_MS;     // the server's next_report_s, while it is under load
  let failing = null;         // ApiError of the last failed send
  let sending = false;
  let retryTimer = null;
  let retryDelay = 3000;
  let ticker = null;
  let sent = 0;
  let flagged = 0;            // points the server kept as evidence only (out of order, implausible jump)
  let blocked = null;         // a 4xx that retrying cannot fix (no_unit, 401, 403)
  let queue = load();

  function load() {
    try {
      const q = JSON.parse(localStorage.getItem(storageKey) || "[]");
      return Array.isArray(q) ? q.filter((p) => p && Number.isFinite(p.lat) && Number.isFinite(p.lon)) : [];
    } catch {
      return [];
    }
  }

  function save() {
    try {
      if (queue.length) localStorage.setItem(storageKey, JSON.stringify(queue));
      else localStorage.removeItem(storageKey);
    } catch { /* storage full or private mode: memory only */ }
  }

  const state = () => ({
    watching: watchId !== null, fix, geoError, queue: queue.length, lastOkAt, failing, blocked, sent, flagged,
  });
  const changed = () => onChange && onChange(state());

  function take(p) {
    const c = p.coords;
    let ts = Number(p.timestamp) || Date.now();
    if (Math.abs(ts - Date.now()) > 86400000) ts = Date.now();  // some webviews give odd clocks
    fix = {
      lat: c.latitude, lon: c.longitude, acc: num(c.accuracy, 0, 100000),
      speed: num(c.speed, 0, 150), heading: num(c.heading, 0, 360), ts, seen: Date.now(),
    };
    geoError = null;
    consider();
    changed();
  }

  function fail(e) {
    const kind = e && e.code === 1 ? "denied" : e && e.code === 3 ? "timeout" : "unavailable";
    // A slow fix after a good one is nothing to alarm the officer about.
    if (kind === "denied" || !fix || Date.now() - fix.seen > 60000) geoError = kind;
    changed();
  }

  function consider() {
    if (!fix || watchId === null) return;
    const now = Date.now();
    const since = now - lastQueuedAt;
    const isNew = !lastQueued || fix !== lastQueued.fix;
    let at;
    if (!lastQueued) {
      at = fix.ts;
    } else if (isNew && distanceM(lastQueued, fix) > MOVE_M && since >= gapMs) {
      at = fix.ts;
    } else if (since >= Math.max(HEARTBEAT_MS, gapMs) && now - fix.seen < TRUST_FIX_MS) {
      // Still here: the latest fix again, stamped with the time it is still believed.
      at = isNew ? fix.ts : now;
    } else {
      return;
    }
    // The server takes a point older than the last one as out of order: keep times rising.
    if (lastQueued) at = Math.max(at, lastQueued.ts + 1);
    enqueue({
      lat: fix.lat, lon: fix.lon, accuracy_m: fix.acc, speed_mps: fix.speed, heading: fix.heading,
      at: new Date(at).toISOString(),
    });
    lastQueued = { lat: fix.lat, lon: fix.lon, ts: at, fix };
    lastQueuedAt = now;
  }

  function enqueue(point) {
    queue.push(point);
    if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
    save();
    send();
  }

  async function send() {
    if (sending || !queue.length || blocked) return;
    sending = true;
    clearTimeout(retryTimer);
    const batch = queue.slice(0, BATCH);
    try {
      const ack = await post("/api/officer/positions", { points: batch });
      flagged += (ack?.flagged || []).filter(Boolean).length;
      gapMs = Math.max(MIN_GAP_MS, (Number(ack?.next_report_s) || 0) * 1000);
      queue.splice(0, batch.length);
      save();
      lastOkAt = Date.now();
      sent += batch.length;
      failing = null;
      retryDelay = 3000;
    } catch (err) {
      const status = err && err.status;
      if (status === 422 || status === 413) {
        // The server will never take this batch: drop it rather than block every later point.
        queue.splice(0, batch.length);
        save();
        failing = err;
      } else if (status === 401 || status === 403 || status === 409) {
        blocked = err;  // not logged in / not an officer / no unit: retrying cannot help
      } else {
        failing = err;
        retryTimer = setTimeout(send, retryDelay);
        retryDelay = Math.min(60000, retryDelay * 2);
      }
    } finally {
      sending = false;
      changed();
    }
    if (queue.length && !failing && !blocked) send();
  }

  function tick() {
    if (watchId === null) return;
    if (fix && Date.now() - fix.seen > POKE_MS && geo) {
      try { geo.getCurrentPosition(take, () => {}, { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 }); } catch { /* ignore */ }
    }
    consider();
    changed();
  }

  function start() {
    if (blocked && blocked.code === "signed_out") return;
    blocked = null;
    if (!geo) {
      geoError = "unsupported";
      changed();
    } else if (watchId === null) {
      try { watchId = geo.watchPosition(take, fail, WATCH); } catch { fail(null); }
    }
    clearInterval(ticker);
    ticker = setInterval(tick, 2500);
    send();
    changed();
  }

  function stop() {
    if (watchId !== null && geo) geo.clearWatch(watchId);
    watchId = null;
    clearInterval(ticker);
    ticker = null;
    lastQueued = null;
    lastQueuedAt = 0;
    changed();
  }

  const onOnline = () => { retryDelay = 3000; send(); };
  window.addEventListener("online", onOnline);

  // Signed out: nothing more may go out under the next account's cookie.
  function dispose() {
    stop();
    clearTimeout(retryTimer);
    window.removeEventListener("online", onOnline);
    blocked = blocked || { status: 401, code: "signed_out" };
  }

  return {
    start, stop, state, dispose,
    // Try the queue now (e.g. after logging in again).
    flush() { blocked = null; retryDelay = 3000; return send(); },
    get fix() { return fix; },
  };
}
