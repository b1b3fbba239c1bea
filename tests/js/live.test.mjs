// The live stream's client (baojing/web/shared/live.js) against a fake socket, with node's runner.
import { test } from "node:test";
import assert from "node:assert/strict";

class FakeSocket {
  static OPEN = 1;
  static last = null;
  constructor(url) {
    this.url = url;
    this.sent = [];
    this.readyState = 1;
    FakeSocket.last = this;
    queueMicrotask(() => this.onopen && this.onopen());
  }
  send(text) { this.sent.push(JSON.parse(text)); }
  close() { this.readyState = 3; this.onclose && this.onclose(); }
  frame(obj) { this.onmessage({ data: typeof obj === "string" ? obj : JSON.stringify(obj) }); }
}
globalThis.WebSocket = FakeSocket;
globalThis.location = { protocol: "http:", host: "example.test" };

const { connectLive } = await import("../../baojing/web/shared/live.js");

function open(extra = {}) {
  const got = { events: [], live: [], states: [], messages: [], resyncs: [] };
  const handle = connectLive({
    since: 5,
    onEvent: (name, data, seq) => got.events.push([name, seq]),
    onLive: (name) => got.live.push(name),
    onState: (s) => got.states.push(s),
    onResync: (seq) => got.resyncs.push(seq),
    onMessage: (m) => got.messages.push(m),
    ...extra,
  });
  return { got, handle, ws: FakeSocket.last };
}

test("each frame goes to the handler of its type, events in order and once", async () => {
  const { got, handle, ws } = open();
  await Promise.resolve();
  assert.deepEqual(ws.sent[0], { type: "hello", since: 5, device_token: null });
  ws.frame({ type: "ready", seq: 9 });
  ws.frame({ type: "event", seq: 6, name: "incident.upserted", data: {} });
  ws.frame({ type: "event", seq: 6, name: "incident.upserted", data: {} });  // replayed twice: once
  ws.frame({ type: "event", seq: 7, name: "alarm.position", data: {} });
  ws.frame({ type: "live", name: "units.moved", data: {} });
  ws.frame({ type: "ping", seq: 7 });
  ws.frame({ type: "resync", seq: 40 });
  ws.frame({ type: "signal", call_id: 1, from: 2, data: {} });
  assert.deepEqual(got.events, [["incident.upserted", 6], ["alarm.position", 7]]);
  assert.deepEqual(got.live, ["units.moved"]);
  assert.deepEqual(got.states, ["connecting", "live"]);
  assert.deepEqual(got.resyncs, [40]);
  assert.equal(handle.seq, 40);
  assert.deepEqual(got.messages.map((m) => m.type), ["signal"]);
  handle.stop();
});

test("an error about one message is passed on; only a session error stops the stream", async () => {
  const { got, handle, ws } = open();
  await Promise.resolve();
  ws.frame({ type: "ready", seq: 5 });
  ws.frame({ type: "error", code: "unknown_type", message_en: "Unknown message type" });
  ws.frame({ type: "error", code: "bad_signal", call_id: 3 });
  assert.deepEqual(got.messages.map((m) => m.code), ["unknown_type", "bad_signal"]);
  assert.deepEqual(got.states, ["connecting", "live"]);
  ws.frame({ type: "error", code: "unauthorized" });
  assert.equal(got.states.at(-1), "unauthorized");
  ws.close();  // stopped: no reconnect, no "offline"
  assert.equal(got.states.at(-1), "unauthorized");
  handle.stop();
});

test("a frame of an unknown type, or no JSON, is reported, not dropped in silence", async () => {
  const warned = [];
  const warn = console.warn;
  console.warn = (...a) => warned.push(a.join(" "));
  try {
    const { handle, ws } = open({ onMessage: undefined });
    await Promise.resolve();
    ws.frame({ type: "ready", seq: 5 });
    ws.frame({ type: "something.new", x: 1 });
    ws.frame("not json");
    ws.frame({ no: "type" });
    handle.stop();
  } finally {
    console.warn = warn;
  }
  assert.equal(warned.length, 3, warned.join("\n"));
  assert.match(warned[0], /something\.new/);
});
