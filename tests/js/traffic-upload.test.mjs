// The driver's photo upload (baojing/web/m/traffic/upload.js): the size a photo is shrunk to, and
// an upload cut off mid-chunk resuming from the offset the server holds, never from zero.
import { test } from "node:test";
import assert from "node:assert/strict";
import { afterError, backoff, fit, sendPhoto } from "../../baojing/web/m/traffic/upload.js";

test("a photo is shrunk to 2560 px on its long side, never enlarged", () => {
  assert.deepEqual(fit(4000, 3000), { width: 2560, height: 1920, scale: 0.64 });
  assert.deepEqual(fit(3000, 4000).height, 2560);
  assert.deepEqual(fit(1200, 900), { width: 1200, height: 900, scale: 1 });
});

test("what a failed chunk leads to", () => {
  assert.equal(afterError(0, null), "resume");
  assert.equal(afterError(503, null), "resume");
  assert.equal(afterError(409, { errors: [{ offset: 8 }] }), "jump");
  assert.equal(afterError(422, { code: "not_an_image" }), "fail");
  assert.equal(backoff(0), 500);
  assert.equal(backoff(10), 10000);
});

// A server keeping one upload's bytes, and an XMLHttpRequest that drops the second PATCH.
function fakeNetwork({ dropPatch = 2, chunk = 4 } = {}) {
  const server = { bytes: new Uint8Array(0), size: 0, patches: [], gets: 0 };
  let patchNo = 0;
  globalThis.XMLHttpRequest = class {
    constructor() { this.headers = {}; this.upload = {}; }
    open(method, url) { this.method = method; this.url = url; }
    setRequestHeader(k, v) { this.headers[k] = v; }
    async send(body) {
      const answer = (status, data) => { this.status = status; this.responseText = JSON.stringify(data); this.onload(); };
      if (this.method === "POST") {
        server.size = JSON.parse(body).size;
        return answer(201, { id: "u1", offset: 0, size: server.size, chunk_bytes: chunk });
      }
      if (this.method === "GET") {
        server.gets += 1;
        return answer(200, { offset: server.bytes.length, size: server.size, done: false });
      }
      patchNo += 1;
      const offset = Number(this.headers["Upload-Offset"]);
      server.patches.push(offset);
      if (patchNo === dropPatch) return this.onerror();
      if (offset !== server.bytes.length) return answer(409, { code: "offset_mismatch", errors: [{ offset: server.bytes.length }] });
      const data = new Uint8Array(await body.arrayBuffer());
      const next = new Uint8Array(server.bytes.length + data.length);
      next.set(server.bytes);
      next.set(data, server.bytes.length);
      server.bytes = next;
      const done = next.length === server.size;
      this.upload.onprogress && this.upload.onprogress({ loaded: data.length });
      answer(200, { offset: next.length, size: server.size, done, photo: done ? { id: 1 } : undefined });
    }
  };
  return server;
}

test("an upload cut off mid-way resumes where the server stopped", async () => {
  const server = fakeNetwork({ dropPatch: 2, chunk: 4 });
  const bytes = new Uint8Array([...Array(18).keys()]);
  const states = [];
  const progress = [];
  const res = await sendPhoto({ caseId: 7, slot: 2, blob: new Blob([bytes]), token: "t", sleep: async () => {},
    onState: (s) => states.push(s), onProgress: (sent) => progress.push(sent) });
  assert.equal(res.done, true);
  assert.deepEqual([...server.bytes], [...bytes]);
  assert.deepEqual(server.patches, [0, 4, 4, 8, 12, 16]); // the dropped chunk again, nothing before it
  assert.equal(server.gets, 1);
  assert.ok(states.includes("retrying"));
  assert.equal(progress.at(-1), 18);
});

test("a refusal is not retried", async () => {
  fakeNetwork();
  globalThis.XMLHttpRequest.prototype.send = function () {
    this.status = 422;
    this.responseText = JSON.stringify({ code: "file_too_large", message_zh: "照片过大", message_en: "too large" });
    this.onload();
  };
  await assert.rejects(sendPhoto({ caseId: 7, slot: 0, blob: new Blob([new Uint8Array(3)]), token: "t", sleep: async () => {} }),
    (e) => e.status === 422 && e.data.code === "file_too_large");
});
