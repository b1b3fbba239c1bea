// The console's state, keyed by id, and the one place that decides when the views draw.
//
// A Store holds records by id and remembers which ids changed since the views last drew. Live
// events only write to stores; once per animation frame the console hands the changed ids to the
// views (about ten times a second during a burst, see frameScheduler), never one draw per event
// (and never a draw of all 10,000 incidents because one of them moved).

export class Store {
  constructor(onChange) {
    this.map = new Map();
    this.dirty = new Set();
    this.onChange = onChange;
  }

  get size() { return this.map.size; }
  get(id) { return this.map.get(id); }
  has(id) { return this.map.has(id); }
  values() { return this.map.values(); }
  keys() { return this.map.keys(); }

  set(id, value) {
    this.map.set(id, value);
    this.touch(id);
  }

  delete(id) {
    if (this.map.delete(id)) this.touch(id);
  }

  clear() {
    for (const id of this.map.keys()) this.dirty.add(id);
    this.map.clear();
    this.onChange && this.onChange();
  }

  // Mark a record changed in place (its object was edited).
  touch(id) {
    this.dirty.add(id);
    this.onChange && this.onChange();
  }

  // The ids changed since the last call; the store forgets them.
  take() {
    const ids = this.dirty;
    this.dirty = new Set();
    return ids;
  }
}

// Runs fn at most once per animation frame however often it is asked. While it is asked again
// and again right after each run (a live burst: 200 alarms a second), at most once per busyGapMs:
// each run costs the browser a style, layout, layerize and paint pass of the page, whatever it
// changed, and on a loaded machine 50 of those a second left no time for anything else; ten a
// second are plenty to read. A calm page (a click, one alarm) still draws in the next frame.
// A hidden tab gets no frames: a timer stands in, so state never waits for the operator to look.
export function frameScheduler(fn, busyGapMs = 100) {
  let pending = false;
  let raf = 0;
  let timer = 0;
  let wait = 0;
  let lastRun = -Infinity;
  let streak = 0;   // asks that came soon after the run before them, in a row
  const run = () => {
    if (!pending) return;
    pending = false;
    cancelAnimationFrame(raf);
    clearTimeout(timer);
    clearTimeout(wait);
    lastRun = performance.now();
    fn();
  };
  return () => {
    if (pending) return;
    pending = true;
    const since = performance.now() - lastRun;
    streak = since < busyGapMs ? streak + 1 : 0;
    const gap = streak > 2 ? busyGapMs - since : 0;
    if (gap > 0) wait = setTimeout(() => { raf = requestAnimationFrame(run); }, gap);
    else raf = requestAnimationFrame(run);
    timer = setTimeout(run, 250 + gap);
  };
}

// The open incidents in queue order, kept sorted as they change: priority 1 first; within a
// priority my station's first (when I have one); then oldest first. A batch of a few changes is
// placed by binary search; a large batch (a snapshot) is sorted once.
export class OpenList {
  constructor(isOpen) {
    this.isOpen = isOpen;
    this.items = [];          // [{id, key: [priority, mine, receivedMs], inc}]
    this.index = new Map();   // id -> item
    this.myStationId = null;
    this.version = 0;         // bumps when the order or a row's height may have changed
  }

  keyOf(inc) {
    const mine = this.myStationId !== null && inc.station_id === this.myStationId ? 0 : 1;
    return [inc.priority, mine, Date.parse(inc.received_at) || 0, inc.id];
  }

  static cmp(a, b) {
    const x = a.key, y = b.key;
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || x[3] - y[3];
  }

  setStation(id) {
    this.version += 1;
    this.myStationId = id ?? null;
    for (const it of this.items) it.key = this.keyOf(it.inc);
    this.items.sort(OpenList.cmp);
  }

  // Apply the changed ids (the store's current value of each, or none): returns true when the
  // list changed.
  update(ids, store) {
    const out = new Set();
    const add = [];
    for (const id of ids) {
      const inc = store.get(id);
      const was = this.index.get(id);
      const open = inc && this.isOpen(inc);
      if (was) {
        const key = open ? this.keyOf(inc) : null;
        if (open && key.every((v, i) => v === was.key[i])) {
          // Same place in the queue; a first (or second) unit sent makes its row taller.
          if (unitLines(was.inc) !== unitLines(inc)) this.version += 1;
          was.inc = inc;
          continue;
        }
        out.add(was);
        this.index.delete(id);
      }
      if (open) add.push({ id, key: this.keyOf(inc), inc });
    }
    if (!out.size && !add.length) return false;
    this.version += 1;
    if (out.size) this.items = this.items.filter((it) => !out.has(it));
    for (const it of add) this.index.set(it.id, it);
    if (add.length > 64) {
      this.items.push(...add);
      this.items.sort(OpenList.cmp);
    } else {
      for (const it of add) {
        let lo = 0, hi = this.items.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (OpenList.cmp(this.items[mid], it) < 0) lo = mid + 1; else hi = mid;
        }
        this.items.splice(lo, 0, it);
      }
    }
    return true;
  }

  clear() {
    this.version += 1;
    this.items = [];
    this.index.clear();
  }

  get length() { return this.items.length; }
  at(i) { return this.items[i].inc; }
  positionOf(id) {
    const it = this.index.get(id);
    return it ? this.items.indexOf(it) : -1;
  }
  incidents() { return this.items.map((it) => it.inc); }
}

// Assignments still going (queue.js, detail.js: isActiveAssignment).
export const ACTIVE_ASSIGNMENT = new Set(["dispatched", "accepted", "en_route", "on_scene"]);

// How many lines of units a queue row shows, which sets its height (queue.js): none; one; two
// once two or more units are going (their chips and the two clocks do not fit one line).
export function unitLines(inc) {
  const a = inc.assignments || [];
  if (!a.length) return 0;
  return a.filter((x) => ACTIVE_ASSIGNMENT.has(x.status)).length >= 2 ? 2 : 1;
}
