// node --test tests/js/avl.test.mjs (the officer page's position reports, baojing/web/officer/avl.js)
import { test } from "node:test";
import assert from "node:assert/strict";
import { register } from "node:module";

register("./web-paths.mjs", import.meta.url);  // "/shared/x.js" as the server serves it

let clock = Date.parse("2026-12-01T06:00:00Z");
Date.now = () => clock;
let take = null;
Object.defineProperty(globalThis, "navigator", {
  configurable: true,
  value: { geolocation: { watchPosition(ok) { take = ok; return 1; }, clearWatch() {}, getCurrentPosition() {} } },
});
const store = new Map();
globalThis.localStorage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) };
globalThis.window = { addEventListener() {}, removeEventListener() {} };

const { createAvl } = await import("/officer/avl.js");

const settle = () => new Promise((r) => setImmediate(r));

test("under load the phone reports as often as the server's next_report_s asks, then as usual again", async () => {
  const sent = [];
  let hint = 30;
  const avl = createAvl({ storageKey: "t", post: async (_path, body) => {
    sent.push(...body.points);
    return { accepted: body.points.length, flagged: body.points.map(() => null), next_report_s: hint };
  } });
  avl.start();
  let lat = 41.57;
  const move = async (seconds) => {  // 100 m north, `seconds` later
    clock += seconds * 1000;
    lat += 0.0009;
    take({ coords: { latitude: lat, longitude: 120.45, accuracy: 5 }, timestamp: clock });
    await settle();
  };
  try {
    await checks();
  } finally {
    avl.dispose();  // stops its ticker, so a failed check does not hold the runner open
  }
  async function checks() {
    await move(0);
    assert.equal(sent.length, 1);
    await move(6);   // moved and 5 s passed: the usual gap, but the server asked for 30 s
    assert.equal(sent.length, 1);
    hint = null;
    await move(25);  // 31 s since the last report
    assert.equal(sent.length, 2);
    await move(6);   // the server is calm again: every 5 s when moving
    assert.equal(sent.length, 3);
  }
});
