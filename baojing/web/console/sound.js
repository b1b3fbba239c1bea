// The new-alarm siren, synthesised with Web Audio (no sound files). Browsers start audio only
// after a user gesture: unlock() must be called inside a click/submit handler (the login button,
// the "enable sound" button, or any click on the page).

const SEGMENT = 0.25;          // seconds per tone
const SEGMENTS = 6;            // 6 x 0.25 s = 1.5 s
const TONES = [960, 770];      // hi-lo two-tone, Hz
export const SIREN_SECONDS = SEGMENT * SEGMENTS;

let ctx = null;
let listeners = [];
let busyUntil = 0;             // ctx time when the current siren ends
let queued = 0;                // sirens waiting for the current one to end

function emit() {
  const s = soundState();
  for (const fn of listeners) fn(s);
}

export function onSoundState(fn) {
  listeners.push(fn);
}

function ensureContext() {
  if (ctx) return ctx;
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return null;
  try {
    ctx = new AC();
  } catch {
    return null;
  }
  ctx.onstatechange = emit;
  return ctx;
}

// "on" (the context runs: a siren will be heard), "off" (needs a click), "unsupported".
export function soundState() {
  if (!(window.AudioContext || window.webkitAudioContext)) return "unsupported";
  return ctx && ctx.state === "running" ? "on" : "off";
}

// Try without a gesture (allowed when the browser's autoplay policy permits it).
export function initSound() {
  ensureContext();
  emit();
}

// Call from a user gesture. Resolves to the new state.
export async function unlock() {
  const c = ensureContext();
  if (!c) return soundState();
  if (c.state !== "running") {
    try { await c.resume(); } catch { /* still off */ }
  }
  emit();
  return soundState();
}

// A short, quiet beep so the operator knows the speakers work (not counted as an alert).
export function testBeep() {
  if (soundState() !== "on") return false;
  const t0 = ctx.currentTime + 0.02;
  tone(t0, 0.18, 880, 0.18);
  return true;
}

function tone(start, duration, freq, level) {
  const osc = ctx.createOscillator();
  const filter = ctx.createBiquadFilter();
  const gain = ctx.createGain();
  osc.type = "square";
  osc.frequency.setValueAtTime(freq, start);
  filter.type = "lowpass";
  filter.frequency.value = 2600;
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(level, start + 0.01);
  gain.gain.setValueAtTime(level, start + duration - 0.015);
  gain.gain.linearRampToValueAtTime(0, start + duration);
  osc.connect(filter).connect(gain).connect(ctx.destination);
  osc.start(start);
  osc.stop(start + duration + 0.01);
}

function schedule(start) {
  for (let i = 0; i < SEGMENTS; i++) {
    tone(start + i * SEGMENT, SEGMENT, TONES[i % 2], 0.28);
  }
  busyUntil = start + SIREN_SECONDS;
}

// Starts the siren now, or right after the one playing (at most one waiting). Returns true when
// a siren was started or queued on a running context, false when sound is off.
export function playSiren(onStart) {
  if (soundState() !== "on") return false;
  const nowT = ctx.currentTime;
  if (busyUntil <= nowT + 0.05) {
    schedule(nowT + 0.02);
    onStart && onStart();
    return true;
  }
  if (queued >= 1) return true;  // one more siren is already coming: do not pile up
  queued += 1;
  const wait = (busyUntil - nowT) * 1000;
  setTimeout(() => {
    queued -= 1;
    if (soundState() === "on") {
      schedule(ctx.currentTime + 0.02);
      onStart && onStart();
    }
  }, wait);
  return true;
}

// One short, softer beep: a new incident routed to another station (its own console sirens).
export function playSoft(onStart) {
  if (soundState() !== "on") return false;
  const t0 = Math.max(ctx.currentTime + 0.02, busyUntil);
  tone(t0, 0.22, 660, 0.16);
  onStart && onStart();
  return true;
}

// A dispatch offer went unanswered: three quick high pips, twice — unlike the siren, so the
// dispatcher knows without looking that it is a unit, not a new alarm.
export function playOverdue(onStart) {
  if (soundState() !== "on") return false;
  const t0 = Math.max(ctx.currentTime + 0.02, busyUntil);
  for (let r = 0; r < 2; r++) {
    for (let i = 0; i < 3; i++) tone(t0 + r * 0.6 + i * 0.13, 0.08, 1320, 0.24);
  }
  busyUntil = t0 + 1.2;
  onStart && onStart();
  return true;
}

// A video or text alarm waits at the video desk: a telephone ring (two short bursts of a soft
// 440 + 480 Hz sine pair), unlike the square-wave siren, so the operator knows it is a call.
export function playRing(onStart) {
  if (soundState() !== "on") return false;
  const t0 = Math.max(ctx.currentTime + 0.02, busyUntil);
  for (let r = 0; r < 2; r++) {
    const start = t0 + r * 0.6;
    for (const freq of [440, 480]) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.setValueAtTime(freq, start);
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.12, start + 0.02);
      gain.gain.setValueAtTime(0.12, start + 0.38);
      gain.gain.linearRampToValueAtTime(0, start + 0.4);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.42);
    }
  }
  onStart && onStart();
  return true;
}
