// One Web Audio context for a page's alert sounds (no sound files). Browsers start audio only
// after a user gesture: unlock() must run inside a click or tap handler.

let ctx = null;
const listeners = [];

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

// "on" (the context runs: an alert will be heard), "off" (needs a gesture), "unsupported".
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
  if (c && c.state !== "running") {
    try { await c.resume(); } catch { /* still off */ }
  }
  emit();
  return soundState();
}

// The context's clock, for scheduling (only meaningful while soundState() is "on").
export const audioNow = () => ctx.currentTime;

// One square-wave tone with soft edges (no clicks), optionally through a low-pass filter.
export function tone(start, duration, freq, level, lowpassHz = 0) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = "square";
  osc.frequency.setValueAtTime(freq, start);
  gain.gain.setValueAtTime(0, start);
  gain.gain.linearRampToValueAtTime(level, start + 0.01);
  gain.gain.setValueAtTime(level, start + duration - 0.015);
  gain.gain.linearRampToValueAtTime(0, start + duration);
  if (lowpassHz) {
    const filter = ctx.createBiquadFilter();
    filter.type = "lowpass";
    filter.frequency.value = lowpassHz;
    osc.connect(filter).connect(gain);
  } else {
    osc.connect(gain);
  }
  gain.connect(ctx.destination);
  osc.start(start);
  osc.stop(start + duration + 0.02);
}

// A sine pair (a telephone ring's 440 + 480 Hz): distinct from the square-wave sirens.
export function sines(start, duration, freqs, level) {
  for (const freq of freqs) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.setValueAtTime(freq, start);
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(level, start + 0.02);
    gain.gain.setValueAtTime(level, start + duration - 0.02);
    gain.gain.linearRampToValueAtTime(0, start + duration);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + duration + 0.02);
  }
}
