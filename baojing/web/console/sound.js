// The new-alarm siren, synthesised with Web Audio (no sound files). Browsers start audio only
// after a user gesture: unlock() must be called inside a click/submit handler (the login button,
// the "enable sound" button, or any click on the page).

import { audioNow, initSound, onSoundState, sines, soundState, tone, unlock } from "/shared/audio.js";

const SEGMENT = 0.25;          // seconds per tone
const SEGMENTS = 6;            // 6 x 0.25 s = 1.5 s
const TONES = [960, 770];      // hi-lo two-tone, Hz
const LOWPASS = 2600;           // takes the harshness off the square wave
export const SIREN_SECONDS = SEGMENT * SEGMENTS;

let busyUntil = 0;             // audio time when the current siren ends
let queued = 0;                // sirens waiting for the current one to end

export { onSoundState, soundState, initSound, unlock };

// A short, quiet beep so the operator knows the speakers work (not counted as an alert).
export function testBeep() {
  if (soundState() !== "on") return false;
  tone(audioNow() + 0.02, 0.18, 880, 0.18, LOWPASS);
  return true;
}

function schedule(start) {
  for (let i = 0; i < SEGMENTS; i++) {
    tone(start + i * SEGMENT, SEGMENT, TONES[i % 2], 0.28, LOWPASS);
  }
  busyUntil = start + SIREN_SECONDS;
}

// Starts the siren now, or right after the one playing (at most one waiting). Returns true when
// a siren was started or queued on a running context, false when sound is off.
export function playSiren(onStart) {
  if (soundState() !== "on") return false;
  const nowT = audioNow();
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
      schedule(audioNow() + 0.02);
      onStart && onStart();
    }
  }, wait);
  return true;
}

// One short, softer beep: a new incident routed to another station (its own console sirens).
export function playSoft(onStart) {
  if (soundState() !== "on") return false;
  const t0 = Math.max(audioNow() + 0.02, busyUntil);
  tone(t0, 0.22, 660, 0.16, LOWPASS);
  onStart && onStart();
  return true;
}

// A dispatch offer went unanswered: three quick high pips, twice — unlike the siren, so the
// dispatcher knows without looking that it is a unit, not a new alarm.
export function playOverdue(onStart) {
  if (soundState() !== "on") return false;
  const t0 = Math.max(audioNow() + 0.02, busyUntil);
  for (let r = 0; r < 2; r++) {
    for (let i = 0; i < 3; i++) tone(t0 + r * 0.6 + i * 0.13, 0.08, 1320, 0.24, LOWPASS);
  }
  busyUntil = t0 + 1.2;
  onStart && onStart();
  return true;
}

// A video or text alarm waits at the video desk: a telephone ring (two short bursts of a soft
// 440 + 480 Hz sine pair), unlike the square-wave siren, so the operator knows it is a call.
export function playRing(onStart) {
  if (soundState() !== "on") return false;
  const t0 = Math.max(audioNow() + 0.02, busyUntil);
  for (let r = 0; r < 2; r++) sines(t0 + r * 0.6, 0.4, [440, 480], 0.12);
  onStart && onStart();
  return true;
}
