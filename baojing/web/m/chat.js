// The text alarm screen (文字报警): chat with the desk, photos and one short clip with a progress
// bar each, silent mode. Test ids: see call.js. Messages typed before the alarm is acknowledged
// wait here and go, in order, once it is.

import { api, store } from "./net.js";
import { errorText, getLang, t } from "../shared/lang.js";
import { backoff } from "./outbox.js";
import { coded } from "./callwords.js";
import { h, setText } from "../shared/dom.js";
import { clockText } from "../shared/time.js";

export function createChat({ S, root, leave, setSilent, hangup, notify }) {
  const msgs = new Map(); // id -> MessageOut
  const local = []; // {lid, text, state: queued | failed, error}
  const uploads = []; // {uid, file, kind, state: waiting | uploading | done | error, pct, error, url, msgId}
  const thumbs = new Map(); // message id -> object URL of the caller's own file
  let lid = 0;
  let sending = false;
  let uploading = false;
  let drawn = "";
  let sent = false; // the caller just sent something: show it

  const status = h("p", { class: "t-status", "data-testid": "text-status", role: "status", "aria-live": "polite" });
  const silent = h("input", { type: "checkbox", id: "t-silent", "data-testid": "text-silent", onchange: (e) => setSilent(e.target.checked) });
  const list = h("ol", { class: "t-list", role: "log", "aria-live": "polite" });
  const ups = h("div", { class: "t-ups" });
  const input = h("textarea", { class: "t-input", rows: 2, maxlength: 2000, "data-testid": "chat-input", onkeydown: onKey });
  const sendBtn = h("button", { type: "button", class: "btn primary t-send", "data-testid": "chat-send", onclick: submit });
  const file = h("input", { type: "file", id: "t-file", class: "vh", multiple: true, accept: "image/jpeg,image/png,image/webp,video/mp4,video/webm,video/*", "data-testid": "chat-attach", onchange: onFiles });
  const attachLabel = h("label", { class: "t-attach", for: "t-file", role: "button" });
  const intro = h("p", { class: "note t-intro" });
  const title = h("h2", {});
  const back = h("button", { type: "button", class: "lang", onclick: leave });
  const endBtn = h("button", { type: "button", class: "btn ghost t-end", "data-testid": "text-hangup", onclick: () => hangup() });
  const fallback = h("a", { class: "v-110", href: "tel:110", "data-testid": "call-110-fallback" });
  const silentLabel = h("span", {});
  const hint = h("p", { class: "note t-hint" });
  // Shown while the caller reads older messages and new ones came in; a tap goes to the newest.
  const more = h("button", { type: "button", class: "t-more", "data-testid": "chat-new", hidden: true, onclick: follow });
  const compose = h("div", { class: "t-compose" }, more, file, attachLabel, input, sendBtn);

  root.append(
    h("div", { class: "cv-head" }, title, back),
    status,
    h("label", { class: "check small", for: "t-silent" }, silent, silentLabel),
    intro,
    list,
    ups,
    compose,
    hint,
    fallback,
    endBtn);

  // The bottom of what the caller sees: an on-screen keyboard shrinks the visual viewport (iOS leaves
  // innerHeight as it was).
  const vv = window.visualViewport;
  const seen = () => (vv ? Math.min(innerHeight, vv.offsetTop + vv.height) : innerHeight);

  // How far the newest message reaches below the top of the message box, which stays at the bottom
  // of the screen (> 0: hidden under it or below the screen).
  function hiddenBy() {
    const last = list.lastElementChild;
    if (!last) return 0;
    return last.getBoundingClientRect().bottom + 8 - Math.min(compose.getBoundingClientRect().top, seen());
  }

  let pinned = true; // the newest message was in view: keep it there when the screen changes
  let height = seen();
  function follow() {
    const d = hiddenBy();
    if (d > 0) window.scrollBy(0, d);
    more.hidden = true;
    pinned = true;
  }

  // Reaching the newest message by hand is reading it too.
  function onScroll() {
    if (!root.isConnected) return off();
    if (seen() !== height) return; // the screen is changing size: onResize decides
    pinned = hiddenBy() <= 48;
    if (!more.hidden && hiddenBy() <= 0) more.hidden = true;
  }
  // The keyboard opening (or the phone turning) moves the bottom of the screen up over the newest
  // message: follow it there if the caller was following.
  function onResize() {
    if (!root.isConnected) return off();
    height = seen();
    if (pinned) follow();
  }
  function off() {
    window.removeEventListener("scroll", onScroll);
    for (const target of [window, vv]) if (target) target.removeEventListener("resize", onResize);
  }
  window.addEventListener("scroll", onScroll, { passive: true });
  for (const target of [window, vv]) if (target) target.addEventListener("resize", onResize);

  function onKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  function submit() {
    const text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    local.push({ lid: ++lid, text, state: "queued", error: null });
    sent = true;
    input.value = "";
    draw();
    pump();
  }

  // Chat lines, one at a time and in order, retried until the server answers.
  async function pump() {
    const s = S();
    if (sending || !s || !s.id) return;
    sending = true;
    try {
      let tries = 0;
      for (;;) {
        const m = local.find((x) => x.state === "queued");
        if (!m || S() !== s) break;
        const r = await api("POST", `/api/calls/${s.id}/messages`, { text: m.text }, 12000);
        if (r.ok && r.data) {
          local.splice(local.indexOf(m), 1);
          add(r.data, false);
          tries = 0;
        } else if (r.status >= 400 && r.status < 500 && ![408, 425, 429].includes(r.status)) {
          m.state = "failed";
          m.error = errorText(r.data);
        } else {
          tries += 1;
          draw();
          await new Promise((res) => setTimeout(res, backoff(tries)));
        }
        draw();
      }
    } finally {
      sending = false;
    }
  }

  function onFiles() {
    for (const f of Array.from(file.files || [])) {
      const kind = (f.type || "").startsWith("video/") ? "clip" : "photo";
      uploads.push({ uid: uploads.length + 1, file: f, kind, state: "waiting", pct: 0, error: null, url: URL.createObjectURL(f) });
    }
    file.value = "";
    draw();
    upload();
  }

  // One file at a time, with XMLHttpRequest for its upload progress.
  function upload() {
    const s = S();
    if (uploading || !s || !s.id) return;
    const u = uploads.find((x) => x.state === "waiting");
    if (!u) return;
    uploading = true;
    u.state = "uploading";
    const x = new XMLHttpRequest();
    x.open("POST", `/api/calls/${s.id}/attachments`);
    const token = store.get("device", null);
    if (token) x.setRequestHeader("X-Device-Token", token);
    x.setRequestHeader("Accept", "application/json");
    x.timeout = 180000;
    x.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        u.pct = Math.min(99, Math.round((e.loaded * 100) / e.total));
        draw();
      }
    };
    const finish = (ok, data) => {
      uploading = false;
      if (ok) {
        u.state = "done";
        u.pct = 100;
        u.msgId = data.id;
        thumbs.set(data.id, u);
        add(data, false);
      } else {
        u.state = "error";
        u.error = data;
      }
      draw();
      upload();
    };
    x.onload = () => {
      let data = null;
      try { data = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
      if (x.status >= 200 && x.status < 300 && data) finish(true, data);
      else finish(false, x.status === 413 ? errorText(data || { message_zh: "文件太大", message_en: "The file is too large" }) : errorText(data));
    };
    x.onerror = () => finish(false, t("errNet"));
    x.ontimeout = x.onerror;
    const fd = new FormData();
    fd.append("file", u.file, u.file.name || (u.kind === "clip" ? "clip.mp4" : "photo.jpg"));
    x.send(fd);
    draw();
  }

  function retry(u) {
    u.state = "waiting";
    u.pct = 0;
    u.error = null;
    draw();
    upload();
  }

  function add(m, live) {
    if (!m || msgs.has(m.id)) return;
    msgs.set(m.id, m);
    if (live && m.role !== "caller") notify();
    draw();
  }

  async function acked() {
    const s = S();
    const r = await api("GET", `/api/calls/${s.id}/messages`, undefined, 12000);
    if (r.ok && r.data) for (const m of r.data.messages || []) add(m, false);
    pump();
    upload();
    draw();
  }

  function msgView(m) {
    const mine = m.role === "caller";
    const att = m.attachment;
    let media = null;
    if (att) {
      const u = thumbs.get(m.id);
      // A picture grows its message when it loads: keep the newest in view if it was.
      if (u && att.kind === "photo") media = h("img", { class: "t-img", src: u.url, alt: "", onload: () => more.hidden && follow() });
      else if (u && att.kind === "clip") media = h("video", { class: "t-img", src: u.url, controls: true, playsinline: true, muted: true });
      else media = h("p", { class: "t-file", text: att.kind === "clip" ? t("tClip") : t("tPhoto") });
    }
    return h("li", { class: `t-msg ${mine ? "me" : "them"}`, "data-testid": "chat-message", "data-role": m.role, "data-state": "sent", "data-id": m.id },
      h("p", { class: "t-who", text: `${mine ? t("tYou") : coded("party", m.role) || m.role} · ${time(m.at)}` }),
      media,
      m.text ? h("p", { class: "t-text", text: m.text }) : null);
  }

  const time = (v) => clockText(v).slice(0, 5); // 14:03

  function localView(m) {
    return h("li", { class: `t-msg me ${m.state}`, "data-testid": "chat-message", "data-role": "caller", "data-state": m.state },
      h("p", { class: "t-who", text: m.state === "failed" ? t("tFailed", { why: m.error }) : `${t("tYou")} · ${t("tQueued")}` }),
      h("p", { class: "t-text", text: m.text }));
  }

  function upView(u) {
    const state = u.state === "waiting" ? "uploading" : u.state;
    const text = u.state === "done" ? t("tUploaded") : u.state === "error" ? t("tUploadFail", { why: u.error }) : t("tUploading", { p: u.pct });
    return h("div", { class: `t-up ${state}`, "data-testid": "upload-progress", "data-state": state, "data-kind": u.kind },
      h("p", { class: "t-up-name", text: `${u.kind === "clip" ? t("tClip") : t("tPhoto")} ${u.file.name || ""}` }),
      h("progress", { max: 100, value: u.pct }),
      h("p", { class: "t-up-text", role: u.state === "error" ? "alert" : null, text }),
      u.state === "error" ? h("button", { type: "button", class: "btn ghost", text: "↻", "aria-label": "retry", onclick: () => retry(u) }) : null);
  }

  function stateOf(s) {
    if (s.status === "ended") return "ended";
    if (!s.id) return "sending";
    return s.status;
  }

  function draw() {
    const s = S();
    if (!s || !s.chat) return;
    const st = stateOf(s);
    const c = s.call;
    status.dataset.state = st;
    let text;
    if (s.phase === "refused") text = s.error;
    else if (st === "sending") text = s.tries ? t("vRetry", { n: s.tries }) : t("tSending");
    else if (st === "waiting") text = c && c.queue && c.queue.ahead > 0 ? t("tWaiting", { n: c.queue.ahead }) : t("tWaitingNext");
    else if (st === "active") text = t("tActive");
    else if (st === "held") text = t("tHeld");
    // Why, in a text's words where the call's differ ("you ended it", not "you hung up").
    else text = `${t("tEnded")} ${c && c.end_reason ? coded("tEndedWhy", c.end_reason) || coded("vEndedWhy", c.end_reason) : ""}`;
    setText(status, text);
    setText(title, t("tTitle"));
    setText(back, t("vBack"));
    setText(silentLabel, t("tSilent"));
    silent.checked = !!s.silent;
    setText(intro, t("tIntro"));
    setText(attachLabel, `＋ ${t("tAttach")}`);
    attachLabel.setAttribute("aria-label", t("tAttachHint"));
    setText(hint, t("tAttachHint"));
    input.placeholder = t("tInput");
    setText(sendBtn, t("tSend"));
    setText(fallback, `☎ ${t("fallback")}`);
    setText(endBtn, st === "ended" ? t("tLeave") : t("tEnd")); // a text alarm is not a call to hang up
    endBtn.onclick = st === "ended" ? leave : () => hangup();
    const closed = st === "ended";
    input.disabled = closed;
    sendBtn.disabled = closed;
    file.disabled = closed;

    const sorted = Array.from(msgs.values()).sort((a, b) => a.id - b.id);
    const sig = JSON.stringify([sorted.map((m) => m.id), local.map((m) => [m.lid, m.state]), getLang()]);
    if (sig !== drawn) {
      // Follow new messages while the newest is in view (or nearly), and always after the caller's
      // own; a caller who scrolled up to read stays there, and is told that more came in.
      const following = !drawn || sent || hiddenBy() <= 48;
      sent = false;
      const grew = drawn && sorted.length + local.length > list.children.length;
      drawn = sig;
      list.replaceChildren(...sorted.map(msgView), ...local.map(localView));
      if (following) follow();
      else if (grew) more.hidden = false;
    }
    setText(more, t("tNewMessages"));
    ups.replaceChildren(...uploads.map(upView));
  }

  return { draw, add, acked };
}
