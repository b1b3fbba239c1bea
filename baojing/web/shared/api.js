// fetch() wrapper for the Baojing API, shared by the staff pages: JSON (or CSV) in, JSON out,
// errors as ApiError carrying the contract's bilingual body {code, message_zh, message_en, errors}.

import { textInSlices, yieldToBrowser } from "./slices.js";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message_en || body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || (status ? `http_${status}` : "network");
    this.message_zh = body?.message_zh || "";
    this.message_en = body?.message_en || "";
    this.errors = body?.errors || [];
  }
}

let onUnauthorized = null;
let onDate = null;

// Called with the error when any request (other than /api/auth/*) answers 401.
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

// Called with each answer's Date header (a page that keeps the server's clock listens).
export function setDateListener(fn) {
  onDate = fn;
}

// large: a body of megabytes (the console's snapshot), read and parsed without holding the page
// for one long task.
export async function api(method, path, body, { contentType = "application/json", timeoutMs = 15000, large = false } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = contentType;
    init.body = contentType === "application/json" ? JSON.stringify(body) : body;
  }
  // A phone on a weak cell can hang a request for minutes: give up and let the caller retry.
  const ctl = typeof AbortController === "function" ? new AbortController() : null;
  const timer = ctl ? setTimeout(() => ctl.abort(), timeoutMs) : null;
  if (ctl) init.signal = ctl.signal;
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, {
      code: "network", message_zh: "网络错误，无法连接服务器", message_en: "Network error: cannot reach the server",
    });
  } finally {
    clearTimeout(timer);
  }
  if (onDate) onDate(res.headers.get("Date"));
  if (res.status === 204) return null;
  let data = null;
  const text = await (large ? textInSlices(res) : res.text()).catch(() => "");
  if (large) await yieldToBrowser();  // parsing it is a task of its own
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data || {
      message_zh: `服务器错误（${res.status}）`, message_en: `Server error (${res.status})`,
    });
    if (res.status === 401 && onUnauthorized && !path.startsWith("/api/auth/")) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path) => api("GET", path);
export const getLarge = (path) => api("GET", path, undefined, { large: true });
export const post = (path, body) => api("POST", path, body ?? {});
export const put = (path, body) => api("PUT", path, body);
export const postCsv = (path, text) => api("POST", path, text, { contentType: "text/csv; charset=utf-8" });
