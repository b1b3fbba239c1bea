// The caller's side of the incident on the officer's card: how they reached 110 (电话 / 文字 / 视频 /
// 静默), what they wrote and showed so far (live), and for a text or silent alarm a plain "do not
// call" with the caller's own chat to write in instead (the server lets in only an officer whose
// unit is out on the incident, and audits the join).
//
// Test hooks: incident-channel (data-channel = phone | text | video | silent), no-call-warning,
//   offer-channel, caller-chat, chat-message (data-role = caller | desk | officer | supervisor),
//   chat-photo (<img>), chat-clip, chat-join, chat-input, chat-send, chat-error
import { h, clear } from "/shared/dom.js";
import { t, words, errorText } from "/shared/i18n.js";
import { get, post } from "/shared/api.js";
import { clockText } from "/shared/time.js";
import { watchLength } from "/shared/limit.js";

words({
  zh: {
    ch_phone: "电话报警", ch_text: "文字报警", ch_video: "视频报警", ch_silent: "静默报警",
    no_call_silent: "静默报警：不要拨打报警人电话，铃声可能暴露对方。请用文字联系，静默接近。",
    no_call_text: "文字报警：报警人可能不便通话，请先用文字联系，不要直接拨打。",
    chat_title: "报警人的文字与照片",
    chat_none: "报警人还没有发送文字或照片",
    chat_join: "加入文字对话",
    chat_joined: "您已加入文字对话",
    chat_ph: "写给报警人…",
    chat_send: "发送",
    chat_video_only: "视频报警的对话由接警员邀请加入",
    chat_role_caller: "报警人", chat_role_desk: "接警员", chat_role_officer: "民警", chat_role_supervisor: "指挥",
    chat_photo: "照片", chat_clip: "视频片段",
    chat_ended: "对话已结束",
    call_aside: "确认安全后才拨打",
  },
  en: {
    ch_phone: "Phone alarm", ch_text: "Text alarm", ch_video: "Video alarm", ch_silent: "Silent alarm",
    no_call_silent: "Silent alarm: do NOT call the caller, a ringing phone may give them away. Write to them and approach quietly.",
    no_call_text: "Text alarm: the caller may not be able to talk. Write to them first; do not call.",
    chat_title: "What the caller wrote and sent",
    chat_none: "The caller has not written or sent anything yet",
    chat_join: "Join the text chat",
    chat_joined: "You are in the text chat",
    chat_ph: "Write to the caller…",
    chat_send: "Send",
    chat_video_only: "The desk invites officers into a video alarm's chat",
    chat_role_caller: "Caller", chat_role_desk: "Desk", chat_role_officer: "Officer", chat_role_supervisor: "Command",
    chat_photo: "Photo", chat_clip: "Video clip",
    chat_ended: "The chat has ended",
    call_aside: "Call only once it is safe",
  },
});

// How the caller reached 110: silent if any of their calls is, else the first call's kind, else phone.
export function channelOf(incident, calls) {
  if (!incident) return "phone";
  if ((calls || []).some((c) => c.silent)) return "silent";
  const kinds = new Set([...(calls || []).map((c) => c.kind), ...incident.alarms.map((a) => a.channel)]);
  return kinds.has("text") ? "text" : kinds.has("video") ? "video" : "phone";
}

// A ringing phone can give a hiding caller away; a texting one may not be able to talk.
export const mustNotCall = (channel) => channel === "silent" || channel === "text";

export const channelChip = (channel, testid) =>
  h("span", { class: `chip chip-ch ch-${channel}`, testid, "data-channel": channel }, t(`ch_${channel}`));

export const noCallText = (channel) => (channel === "silent" ? t("no_call_silent") : t("no_call_text"));

export function createCallerChat({ root, onChange }) {
  let calls = [];
  const messages = new Map();  // call id -> messages, oldest first
  const loading = new Set();
  const drafts = new Map();    // call id -> text being written (kept across re-renders)
  let error = "";

  function set(list) {
    calls = list || [];
    for (const c of calls) if (!messages.has(c.id) && !loading.has(c.id)) load(c.id);
    for (const id of [...messages.keys()]) if (!calls.some((c) => c.id === id)) messages.delete(id);
    render();
  }

  async function load(id) {
    loading.add(id);
    try {
      const r = await get(`/api/calls/${id}/messages`);
      const known = messages.get(id) || [];
      messages.set(id, merge(r.messages, known));
    } catch (err) {
      error = errorText(err);
    } finally {
      loading.delete(id);
    }
    render();
  }

  const merge = (a, b) => {
    const byId = new Map([...a, ...b].map((m) => [m.id, m]));
    return [...byId.values()].sort((x, y) => x.id - y.id);
  };

  // Live: call.message (the caller's lines and photos, and the chat's), call.upserted (silent, ended).
  function onEvent(name, data) {
    if (name === "call.message" && calls.some((c) => c.id === data.call_id)) {
      messages.set(data.call_id, merge(messages.get(data.call_id) || [], [data]));
      render();
      if (data.role === "caller") try { navigator.vibrate && navigator.vibrate(200); } catch { /* unsupported */ }
    } else if (name === "call.upserted") {
      const c = calls.find((x) => x.id === data.id);
      if (!c) return;
      Object.assign(c, { silent: data.silent, status: data.status });
      render();
      onChange(); // the card's channel and warning may change with it
    }
  }

  async function join(c) {
    error = "";
    try {
      await post(`/api/calls/${c.id}/join`);
      c.joined = true;
    } catch (err) {
      error = errorText(err);
    }
    render();
    root.querySelector(`[data-testid=chat-input][data-call='${c.id}']`)?.focus();
  }

  async function send(c, input) {
    const text = input.value.trim();
    if (!text) return;
    error = "";
    try {
      const m = await post(`/api/calls/${c.id}/messages`, { text });
      drafts.delete(c.id);
      input.value = "";
      messages.set(c.id, merge(messages.get(c.id) || [], [m]));
    } catch (err) {
      error = errorText(err);
    }
    render();
  }

  function line(m) {
    const a = m.attachment;
    return h("li", { class: `msg from-${m.role}`, testid: "chat-message", "data-role": m.role },
      h("div", { class: "msg-meta" }, `${t(`chat_role_${m.role}`)} · ${clockText(m.at)}`),
      m.text ? h("div", { class: "msg-text" }, m.text) : null,
      a && a.kind === "photo" ? h("a", { href: a.url, target: "_blank", rel: "noopener" },
        h("img", { class: "msg-photo", src: a.url, alt: t("chat_photo"), loading: "lazy", testid: "chat-photo" })) : null,
      a && a.kind === "clip" ? h("a", { class: "btn msg-clip", href: a.url, target: "_blank", rel: "noopener", testid: "chat-clip" },
        `▶ ${t("chat_clip")}`) : null);
  }

  function render() {
    clear(root);
    root.hidden = !calls.length;
    if (!calls.length) return;
    root.append(h("h2", {}, t("chat_title")));
    for (const c of calls) {
      const list = messages.get(c.id) || [];
      root.append(h("ul", { class: "chat-list", "data-call": c.id },
        list.length ? list.map(line) : h("li", { class: "muted" }, loading.has(c.id) ? t("loading") : t("chat_none"))));
      if (c.status === "ended") root.append(h("p", { class: "muted" }, t("chat_ended")));
      else if (c.kind !== "text") root.append(h("p", { class: "muted small" }, t("chat_video_only")));
      else if (!c.joined) {
        root.append(h("button", { type: "button", class: "btn btn-primary chat-join", testid: "chat-join",
          onclick: () => join(c) }, t("chat_join")));
      } else {
        const input = h("textarea", { class: "chat-input", rows: "2", maxlength: "2000", placeholder: t("chat_ph"),
          testid: "chat-input", "data-call": c.id, oninput: (e) => drafts.set(c.id, e.target.value) });
        input.value = drafts.get(c.id) || "";
        root.append(h("p", { class: "muted small" }, t("chat_joined")),
          h("form", { class: "chat-form", onsubmit: (e) => { e.preventDefault(); send(c, input); } },
            input, h("button", { type: "submit", class: "btn btn-go", testid: "chat-send" }, t("chat_send"))));
        watchLength(input);
      }
    }
    if (error) root.append(h("p", { class: "form-error", testid: "chat-error", role: "alert" }, error));
    // The newest line in view inside the list, without moving the card under the officer's thumb.
    for (const ul of root.querySelectorAll(".chat-list")) ul.scrollTop = ul.scrollHeight;
  }

  return { set, onEvent, render };
}
