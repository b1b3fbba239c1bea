// Long work in slices, so that the page keeps answering while it runs: between two slices the
// browser draws a frame, takes a click, runs the timers. (The console with 10,000 open incidents
// takes in a 7 MB snapshot: in one piece that held the main thread for 100-170 ms at a time.)

// End the current task and continue soon after: scheduler.yield() (Chromium 129+) continues ahead
// of the page's other waiting tasks; elsewhere a timer.
export function yieldToBrowser() {
  const s = globalThis.scheduler;
  if (s && typeof s.yield === "function") return s.yield();
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// fn(item) for every item, in order, yielding to the browser each time sliceMs have gone by.
export async function eachInSlices(items, fn, sliceMs = 8) {
  let t0 = performance.now();
  for (const item of items) {
    if (performance.now() - t0 > sliceMs) {
      await yieldToBrowser();
      t0 = performance.now();
    }
    fn(item);
  }
}

// A response's body as text, decoded piece by piece as it arrives, yielding to the browser between
// pieces (Response.text() decodes the whole body in one task: ~30 ms for 7 MB on a quiet machine).
const PIECE = 512 * 1024;
export async function textInSlices(res) {
  if (!res.body || typeof TextDecoder !== "function") return res.text();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // A read can bring megabytes at once (all that arrived meanwhile).
    for (let i = 0; i < value.length; i += PIECE) {
      parts.push(decoder.decode(value.subarray(i, i + PIECE), { stream: true }));
      await yieldToBrowser();
    }
  }
  parts.push(decoder.decode());
  return parts.join("");
}
