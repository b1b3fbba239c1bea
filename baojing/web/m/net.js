// Storage that never throws (private mode, full quota), the one fetch wrapper, and an id maker.

const PREFIX = "bj.";
const memory = {};

export const store = {
  get(key, fallback) {
    if (key in memory) return memory[key];
    try {
      const raw = localStorage.getItem(PREFIX + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  },
  set(key, value) {
    memory[key] = value;
    try { localStorage.setItem(PREFIX + key, JSON.stringify(value)); } catch (e) { /* kept in memory */ }
  },
  del(key) {
    delete memory[key];
    try { localStorage.removeItem(PREFIX + key); } catch (e) { /* nothing to do */ }
  },
};

// An RFC 4122 version-4 id; older WeChat webviews have no crypto.randomUUID.
export function uuid() {
  const c = window.crypto;
  if (c && typeof c.randomUUID === "function") {
    try { return c.randomUUID(); } catch (e) { /* insecure context: fall through */ }
  }
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Server time minus phone time, in ms, measured from the Date header of every answer.
export const clock = { offset: 0, known: false };

// api() never throws: {ok, status, data}; status 0 is "no answer" (offline, timeout, DNS...).
// A FormData body (a photo) goes as multipart, with the browser's own Content-Type.
export function api(method, path, body, timeoutMs = 12000) {
  const headers = { Accept: "application/json" };
  const token = store.get("device", null);
  if (token) headers["X-Device-Token"] = token;
  const form = typeof FormData === "function" && body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  const ctrl = typeof AbortController === "function" ? new AbortController() : null;
  const sent = Date.now();
  let timer;
  const request = (async () => {
    const res = await fetch(path, {
      // A member's one-tap needs their login cookie.
      method, headers, cache: "no-store", credentials: path.startsWith("/api/member/") ? "same-origin" : "omit",
      body: body === undefined || form ? body : JSON.stringify(body),
      signal: ctrl ? ctrl.signal : undefined,
    });
    const date = Date.parse(res.headers.get("date") || "");
    if (date) {
      // The header has whole seconds: the true time is on average half a second later.
      clock.offset = date + 500 - (sent + Date.now()) / 2;
      clock.known = true;
    }
    let data = null;
    try { data = await res.json(); } catch (e) { /* empty or not JSON */ }
    return { ok: res.ok, status: res.status, data };
  })();
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => {
      if (ctrl) ctrl.abort();
      resolve({ ok: false, status: 0, data: null, timeout: true });
    }, timeoutMs);
  });
  return Promise.race([request, timeout])
    .catch(() => ({ ok: false, status: 0, data: null }))
    .finally(() => clearTimeout(timer));
}
