// Photos for a quick-handling case: shrunk on the phone, then sent in chunks that resume where
// the server says it stopped (protocol in baojing/traffic/uploads.py: POST to start, PATCH with
// Upload-Offset, GET for the offset held). One photo from a phone camera is 3–5 MB; shrunk to
// 2560 px it is a few hundred KB, which is what decides the wait on a slow uplink (bench/traffic.py).

export const MAX_PX = 2560;
const QUALITY = 0.85;
const RETRY_MAX_MS = 10000;

// The size a photo is drawn at: the long side at most maxPx, never enlarged.
export function fit(w, h, maxPx = MAX_PX) {
  const scale = Math.min(1, maxPx / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)), scale };
}

// Re-encode as JPEG at most MAX_PX on the long side, upright (the EXIF orientation applied, then
// dropped with the rest of the EXIF: no location leaves the phone). A browser that cannot decode
// the file sends it as it is; the server decides whether it is a photo.
export async function shrink(file, maxPx = MAX_PX) {
  let bmp;
  try {
    bmp = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return { blob: file, width: 0, height: 0, shrunk: false };
  }
  const { width, height } = fit(bmp.width, bmp.height, maxPx);
  const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(width, height) : document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(bmp, 0, 0, width, height);
  bmp.close && bmp.close();
  const blob = canvas.convertToBlob
    ? await canvas.convertToBlob({ type: "image/jpeg", quality: QUALITY })
    : await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", QUALITY));
  if (!blob || blob.size >= file.size) return { blob: file, width, height, shrunk: false };
  return { blob, width, height, shrunk: true };
}

// What to do after a failed chunk: "resume" (ask the server its offset, go on), "jump" (the
// server named its offset), or "fail" (a refusal no retry will change).
export function afterError(status, body) {
  if (status === 409 && body && body.errors && body.errors[0] && Number.isInteger(body.errors[0].offset)) return "jump";
  if (status === 0 || status >= 500 || status === 408 || status === 429) return "resume";
  return "fail";
}

export const backoff = (attempt) => Math.min(RETRY_MAX_MS, 500 * 2 ** attempt);

function xhr(method, url, { headers = {}, body = null, onProgress = null, timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const r = new XMLHttpRequest();
    r.open(method, url);
    for (const [k, v] of Object.entries(headers)) r.setRequestHeader(k, v);
    r.timeout = timeoutMs;
    if (onProgress && r.upload) r.upload.onprogress = (e) => onProgress(e.loaded);
    const done = () => {
      let data = null;
      try { data = JSON.parse(r.responseText); } catch { /* not JSON */ }
      resolve({ ok: r.status >= 200 && r.status < 300, status: r.status, data });
    };
    r.onload = done;
    r.onerror = r.ontimeout = r.onabort = () => resolve({ ok: false, status: 0, data: null });
    r.send(body);
  });
}

// Send one photo for one slot. onProgress(sent, total) as bytes reach the server; resolves with
// the last answer ({done, photo, case}) or rejects with {status, data} on a refusal.
export async function sendPhoto({ caseId, slot, blob, token, onProgress, onState, sleep = (ms) => new Promise((r) => setTimeout(r, ms)) }) {
  const headers = { "X-Device-Token": token, Accept: "application/json" };
  let start;
  for (let attempt = 0; ; attempt++) {
    start = await xhr("POST", `/api/traffic/cases/${caseId}/uploads`, {
      headers: { ...headers, "Content-Type": "application/json" }, body: JSON.stringify({ slot, size: blob.size }),
    });
    if (start.ok) break;
    if (afterError(start.status, start.data) === "fail") throw start;
    onState && onState("retrying");
    await sleep(backoff(attempt));
  }
  const { id, chunk_bytes: chunk } = start.data;
  let offset = 0;
  let attempt = 0;
  onProgress && onProgress(0, blob.size);
  while (true) {
    const piece = blob.slice(offset, Math.min(blob.size, offset + chunk));
    const base = offset;
    const r = await xhr("PATCH", `/api/traffic/uploads/${id}`, {
      headers: { ...headers, "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" },
      body: piece, onProgress: (n) => onProgress && onProgress(base + n, blob.size),
    });
    if (r.ok) {
      attempt = 0;
      onState && onState("sending");
      offset = r.data.offset;
      onProgress && onProgress(offset, blob.size);
      if (r.data.done) return r.data;
      continue;
    }
    const next = afterError(r.status, r.data);
    if (next === "fail") throw r;
    if (next === "jump") {
      offset = r.data.errors[0].offset;
      continue;
    }
    // The link dropped: wait, then ask the server how much it has, and go on from there.
    onState && onState("retrying");
    await sleep(backoff(attempt++));
    const s = await xhr("GET", `/api/traffic/uploads/${id}`, { headers, timeoutMs: 15000 });
    if (s.ok) {
      if (s.data.done) return { ...s.data, case: null };
      offset = s.data.offset;
      onProgress && onProgress(offset, blob.size);
    } else if (afterError(s.status, s.data) === "fail") {
      throw s;
    }
  }
}
