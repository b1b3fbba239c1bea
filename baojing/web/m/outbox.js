// The outbox: every request that must reach the police waits here (localStorage) until the server
// answers, alarms in their own lane, the rest in order. No answer (offline, timeout, 5xx): the same
// body again after a backoff with jitter (cap 30 s). A refusal (4xx) ends the item.

import { api, store, uuid } from "./net.js";

const CAP_MS = 30000;
const MAX_POSITIONS = 300;
const RETRYABLE = [408, 425, 429];

export function backoff(attempt) {
  const base = Math.min(CAP_MS, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

// resolve(item) -> {path, body} | "wait" (its alarm has no id yet) | "drop" | {failed: answer}
// onDone(item, answer) is called once per item with the final answer (ok, or refused).
export function createOutbox({ resolve, onDone, onChange }) {
  let items = store.get("outbox", []);
  if (!Array.isArray(items)) items = [];
  for (const it of items) it.inflight = false;
  // Two lanes, each one request at a time: a new alarm never queues behind a slow position update.
  const lanes = {
    alarm: { attempt: 0, nextAt: 0, timer: 0, busy: false, again: false },
    rest: { attempt: 0, nextAt: 0, timer: 0, busy: false, again: false },
  };
  const laneOf = (item) => (item.kind === "alarm" ? "alarm" : "rest");

  function changed() {
    store.set("outbox", items);
    if (onChange) onChange();
  }

  function remove(item) {
    items = items.filter((i) => i !== item);
  }

  function add(kind, fields) {
    const item = Object.assign({ uid: uuid(), kind, tries: 0, created: Date.now(), inflight: false }, fields);
    items.push(item);
    const positions = items.filter((i) => i.kind === "position" && !i.inflight);
    if (positions.length > MAX_POSITIONS) remove(positions[0]);
    changed();
    if (kind === "alarm") {
      // A new alarm goes at once, whatever the backoff says.
      lanes.alarm.nextAt = 0;
      flush("alarm");
    } else flush("rest");
    return item;
  }

  function kick() {
    for (const name in lanes) {
      lanes[name].nextAt = 0;
      flush(name);
    }
  }

  function schedule(name) {
    const lane = lanes[name];
    clearTimeout(lane.timer);
    if (!items.some((i) => laneOf(i) === name)) {
      lane.attempt = 0;
      return;
    }
    lane.timer = setTimeout(() => flush(name), Math.max(50, lane.nextAt - Date.now()));
  }

  async function step(name) {
    for (const item of items.filter((i) => laneOf(i) === name)) {
      if (!items.includes(item)) continue;
      const how = await resolve(item);
      if (how === "wait") continue;
      if (how === "drop") {
        remove(item);
        changed();
        return "progress";
      }
      let answer = how.failed;
      if (!answer) {
        item.inflight = true;
        if (onChange) onChange();
        answer = await api("POST", how.path, how.body);
        item.inflight = false;
      }
      return handle(item, answer, lanes[name]);
    }
    return "idle";
  }

  function handle(item, answer, lane) {
    const code = answer.data && answer.data.code;
    if (answer.ok) {
      remove(item);
      lane.attempt = 0;
      lane.nextAt = 0;
      changed();
      onDone(item, answer);
      // Whatever waited for this alarm's id can go now.
      if (item.kind === "alarm") flush("rest");
      return "progress";
    }
    if (answer.status === 401 && code === "bad_device_token") {
      // The server no longer knows this phone: forget the token. An alarm goes again without
      // one (the server issues a new token); anything else belonged to the old identity.
      store.del("device");
      if (item.kind === "alarm" && !item.tokenReset) {
        item.tokenReset = true;
        changed();
        return "progress";
      }
    }
    if (item.kind === "terms" && code === "terms_outdated" && (item.outdated || 0) < 3) {
      item.outdated = (item.outdated || 0) + 1;
      item.body.version = null;
      changed();
      return "progress";
    }
    if (answer.status >= 400 && answer.status < 500 && !RETRYABLE.includes(answer.status)) {
      remove(item);
      changed();
      onDone(item, answer);
      if (item.kind === "alarm") flush("rest");
      return "progress";
    }
    // No answer, or the server is in trouble: the same request again later.
    item.tries += 1;
    item.lastStatus = answer.status;
    lane.attempt += 1;
    lane.nextAt = Date.now() + backoff(lane.attempt);
    if (item.kind !== "alarm" && answer.status >= 500 && item.tries >= 10) {
      remove(item);
      onDone(item, answer);
    }
    changed();
    return "stop";
  }

  async function flush(name) {
    const lane = lanes[name];
    if (lane.busy) {
      lane.again = true;
      return;
    }
    if (Date.now() < lane.nextAt) {
      schedule(name);
      return;
    }
    lane.busy = true;
    try {
      for (;;) {
        lane.again = false;
        if ((await step(name)) !== "progress") break;
      }
    } catch (e) {
      lane.nextAt = Date.now() + backoff(++lane.attempt);
    } finally {
      lane.busy = false;
    }
    if (lane.again && Date.now() >= lane.nextAt) {
      flush(name);
      return;
    }
    schedule(name);
  }

  return {
    add,
    kick,
    get items() { return items; },
    // When the lane of this kind of request tries next (ms since epoch; 0 = now).
    nextAt(kind) { return lanes[kind === "alarm" ? "alarm" : "rest"].nextAt; },
    state() { return { alarm: Object.assign({}, lanes.alarm, { timer: undefined }), rest: Object.assign({}, lanes.rest, { timer: undefined }) }; },
  };
}
