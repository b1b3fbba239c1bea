// The console's state and words (baojing/web/console/), with node's own test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { register } from "node:module";

register("./web-paths.mjs", import.meta.url);  // "/console/x.js" as the server serves it

const { Store, OpenList } = await import("/console/store.js");

const OPEN = new Set(["new", "claimed"]);
const at = (s) => new Date(Date.UTC(2026, 11, 1, 2, 0, s)).toISOString();
let nextId = 1;
const inc = (o = {}) => ({ id: nextId++, status: "new", priority: 2, station_id: null, received_at: at(0), ...o });

function queueOrder(store, myStation) {
  const mine = (i) => (myStation !== null && i.station_id === myStation ? 0 : 1);
  return [...store.values()].filter((i) => OPEN.has(i.status))
    .sort((a, b) => a.priority - b.priority || mine(a) - mine(b) || Date.parse(a.received_at) - Date.parse(b.received_at)
      || a.id - b.id).map((i) => i.id);
}

test("a store hands each changed id to the views once, and asks for one frame per burst", () => {
  let asked = 0;
  const s = new Store(() => { asked += 1; });
  s.set(1, { id: 1 });
  s.set(2, { id: 2 });
  s.set(1, { id: 1, x: 1 });
  s.touch(3);
  assert.deepEqual([...s.take()].sort(), [1, 2, 3]);
  assert.deepEqual([...s.take()], []);
  s.delete(2);
  s.delete(99);  // not there: nothing changes
  assert.deepEqual([...s.take()], [2]);
  assert.ok(asked >= 4);
});

test("the open list keeps queue order through small batches and large ones", () => {
  // A pseudo-random night: new alarms, claims, reclassifications, closes, in batches of every size.
  let seed = 7;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  for (const myStation of [null, 3]) {
    const store = new Store(null);
    const list = new OpenList((i) => OPEN.has(i.status));
    list.setStation(myStation);
    for (let round = 0; round < 60; round++) {
      const batch = round % 10 === 0 ? 300 : rnd(12);
      for (let k = 0; k < batch; k++) {
        const ids = [...store.keys()];
        const pickId = ids.length ? ids[rnd(ids.length)] : null;
        const r = rnd(10);
        if (r < 5 || pickId === null) {
          const i = inc({ priority: 1 + rnd(4), station_id: rnd(3) === 0 ? 3 : 1, received_at: at(rnd(50)) });
          store.set(i.id, i);
        } else if (r < 7) store.set(pickId, { ...store.get(pickId), status: "claimed" });
        else if (r < 8) store.set(pickId, { ...store.get(pickId), priority: 1 + rnd(4) });
        else if (r < 9) store.set(pickId, { ...store.get(pickId), status: "closed" });
        else store.delete(pickId);
      }
      list.update(store.take(), store);
      assert.deepEqual(list.incidents().map((i) => i.id), queueOrder(store, myStation), `round ${round}`);
    }
  }
});

test("the open list says where an incident sits, and bumps its version only on real changes", () => {
  const store = new Store(null);
  const list = new OpenList((i) => OPEN.has(i.status));
  const a = inc({ priority: 2, received_at: at(5) }), b = inc({ priority: 1, received_at: at(9) });
  store.set(a.id, a);
  store.set(b.id, b);
  list.update(store.take(), store);
  assert.equal(list.positionOf(b.id), 0);
  assert.equal(list.positionOf(a.id), 1);
  const v = list.version;
  store.set(a.id, { ...a, name: "same place" });
  assert.equal(list.update(store.take(), store), false);
  assert.equal(list.version, v);
  store.set(a.id, { ...a, assignments: [{ id: 1 }] });  // a unit sent: the row grows
  list.update(store.take(), store);
  assert.ok(list.version > v);
  assert.equal(list.at(1).assignments.length, 1);
});

test("every console word exists in Chinese and in English", async () => {
  const i18n = await import("/shared/i18n.js");
  await import("/console/i18n.js");
  await import("/console/videodesk.js");
  const missing = i18n.missingKeys();
  assert.deepEqual(missing, { en: [], zh: [] });
  i18n.setLang("en", { remember: false });
  const { statusLabel, assignStatusLabel, actionLabel } = await import("/console/i18n.js");
  assert.equal(statusLabel("new"), "New");
  assert.equal(assignStatusLabel("cancelled"), "Recalled");
  assert.equal(actionLabel("rated"), "Caller rated");
  i18n.setLang("zh", { remember: false });
  assert.equal(statusLabel("new"), "待接警");
});

// Views converted to lit-html stay templates: no elements built and patched by hand beside them
// (two ways of drawing one panel drift apart, and hand-built rows were what made 1,000 incidents slow).
const TEMPLATED = ["detail.js", "units.js", "videodesk.js", "evidence.js", "keyunits.js", "console.js", "queue.js"];
const BY_HAND = [/\bh\(\s*["'`]/, /createElement\((?!"canvas")/, /\.innerHTML\s*=/, /(?<![.\w])(put|clear)\(/, /(?<!form)\.(append|prepend)\(/];

test("the console's detail, units, call and key-unit views are drawn with lit-html", async () => {
  const { readFileSync } = await import("node:fs");
  for (const name of TEMPLATED) {
    const src = readFileSync(new URL(`../../baojing/web/console/${name}`, import.meta.url), "utf8");
    assert.match(src, /from "\/vendor\/lit-html\/lit-html\.js"/, name);
    for (const re of BY_HAND) assert.doesNotMatch(src, re, `${name} builds elements by hand (${re})`);
  }
});
