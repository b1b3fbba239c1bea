// How a dispatch gets the officer's attention: a loud two-tone siren (Web Audio, no sound files)
// repeating until the offer is answered, a vibration pattern, and a system notification.
// Browsers only start audio after a user gesture: unlockSound() runs in every tap handler, so the
// login button, the duty switch or any tap on the page arms it.

import { audioNow, initSound, onSoundState, soundState, tone, unlock } from "/shared/audio.js";

const TONES = [1050, 740];     // hi-lo, Hz
const SEGMENT = 0.4;           // seconds per tone
const SEGMENTS = 4;            // 1.6 s of siren
const PERIOD_MS = 2300;        // siren + a short pause, repeated until stopped
const VIBRATION = [700, 250, 700, 250, 700];

let timer = null;

export { onSoundState, soundState, initSound };
export const unlockSound = unlock;

function siren() {
  if (soundState() !== "on") {
    unlockSound();  // allowed when the page already had a gesture or the policy permits
    return false;
  }
  const t0 = audioNow() + 0.03;
  for (let i = 0; i < SEGMENTS; i++) tone(t0 + i * SEGMENT, SEGMENT, TONES[i % 2], 0.5);
  return true;
}

function buzz() {
  try {
    return typeof navigator.vibrate === "function" && navigator.vibrate(VIBRATION);
  } catch {
    return false;
  }
}

// Ring (and vibrate) now and every PERIOD_MS until stopAlarm(). Returns {sound, vibrate}.
export function startAlarm() {
  stopAlarm();
  const sound = siren();
  const vibrate = Boolean(buzz());
  timer = setInterval(() => { siren(); buzz(); }, PERIOD_MS);
  return { sound, vibrate };
}

export function stopAlarm() {
  if (timer) clearInterval(timer);
  timer = null;
  try { navigator.vibrate && navigator.vibrate(0); } catch { /* not supported */ }
}

export const alarming = () => timer !== null;

// A short beep to confirm that sound works (after the officer taps "enable sound").
export function testBeep() {
  if (soundState() !== "on") return false;
  tone(audioNow() + 0.02, 0.15, 880, 0.3);
  return true;
}

// ---- system notifications ---------------------------------------------------------------------
let swReg = null;

// Android Chrome only shows notifications through a service worker; sw.js does nothing else.
export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    swReg = await navigator.serviceWorker.register("/officer/sw.js", { scope: "/officer/" });
  } catch {
    swReg = null;
  }
}

export function notifyState() {
  if (typeof Notification === "undefined") return "unsupported";
  return Notification.permission;  // granted | denied | default
}

// Must run inside a user gesture (the duty switch).
export async function askNotify() {
  if (notifyState() !== "default") return notifyState();
  try {
    return await Notification.requestPermission();
  } catch {
    return notifyState();
  }
}

export async function notify(title, body, tag) {
  if (notifyState() !== "granted") return false;
  const opts = { body, tag, renotify: true, requireInteraction: true, vibrate: VIBRATION, lang: "zh-CN" };
  try {
    if (swReg && swReg.showNotification) {
      await swReg.showNotification(title, opts);
      return true;
    }
    const n = new Notification(title, opts);
    n.onclick = () => { window.focus(); n.close(); };
    return true;
  } catch {
    return false;
  }
}

export async function closeNotifications(tag) {
  try {
    if (swReg && swReg.getNotifications) for (const n of await swReg.getNotifications({ tag })) n.close();
  } catch { /* nothing to close */ }
}

// ---- keep the screen on while on duty (the page must stay in front to hear dispatches) --------
let wakeLock = null;
let wantWake = false;

export async function keepAwake(on) {
  wantWake = on;
  if (!("wakeLock" in navigator)) return;
  if (on && !wakeLock && document.visibilityState === "visible") {
    try {
      wakeLock = await navigator.wakeLock.request("screen");
      wakeLock.addEventListener("release", () => { wakeLock = null; });
    } catch { wakeLock = null; }
  } else if (!on && wakeLock) {
    try { await wakeLock.release(); } catch { /* already gone */ }
    wakeLock = null;
  }
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && wantWake) keepAwake(true);
});
