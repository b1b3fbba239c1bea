// Long work in slices (baojing/web/shared/slices.js), with node's own test runner: every item in
// order, other work let in between slices, and a body decoded piece by piece to the same text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { register } from "node:module";

register("./web-paths.mjs", import.meta.url);

const { eachInSlices, textInSlices, yieldToBrowser } = await import("/shared/slices.js");

const busy = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* the work of one item */ }
};

test("every item is handled once, in order, and a timer set before runs between the slices", async () => {
  const seen = [];
  let timerAt = null;
  setTimeout(() => { timerAt = seen.length; }, 0);
  await eachInSlices([...Array(20).keys()], (i) => {
    busy(2);
    seen.push(i);
  }, 5);
  assert.deepEqual(seen, [...Array(20).keys()]);
  // In one piece the timer would have waited for all 20 (40 ms of work).
  assert.ok(timerAt !== null && timerAt > 0 && timerAt < 20, `timer ran after ${timerAt} items`);
});

test("quick work is not cut up: nothing else runs in between", async () => {
  let timerRan = false;
  setTimeout(() => { timerRan = true; }, 0);
  let n = 0;
  await eachInSlices([...Array(1000).keys()], () => { n += 1; }, 50);
  assert.equal(n, 1000);
  assert.equal(timerRan, false);
});

test("scheduler.yield() is used where the browser has it", async () => {
  let asked = 0;
  globalThis.scheduler = { yield: () => { asked += 1; return Promise.resolve(); } };
  try {
    await yieldToBrowser();
    await eachInSlices([1, 2, 3], () => busy(3), 1);
  } finally {
    delete globalThis.scheduler;
  }
  assert.equal(asked, 3);  // one, then one before each item after the first
});

test("a body read in pieces decodes to the same text, characters cut between pieces included", async () => {
  const text = `{"incidents": [${Array.from({ length: 30000 }, (_, i) => `{"id": ${i}, "name": "压测${i}"}`).join(", ")}]}`;
  const bytes = new TextEncoder().encode(text);
  assert.ok(bytes.length > 1024 * 1024);  // more than one of textInSlices' pieces in one read
  // Reads of odd sizes, so that some cut a three-byte character; the last is one big read.
  const cuts = [0, 1, 7, 1000, 70001, 300000, bytes.length];
  const stream = new ReadableStream({
    start(c) {
      for (let i = 1; i < cuts.length; i++) c.enqueue(bytes.subarray(cuts[i - 1], cuts[i]));
      c.close();
    },
  });
  const got = await textInSlices(new Response(stream));
  assert.equal(got, text);
  assert.deepEqual(JSON.parse(got).incidents.at(-1), { id: 29999, name: "压测29999" });
});
