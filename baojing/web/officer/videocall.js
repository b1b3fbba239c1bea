// The officer's side of a video alarm: the desk invites the officer (event `call.ringing`), the
// page shows "视频通话邀请" with a join button, and joining opens the same mesh call as the desk
// (/shared/rtc.js): one tile per other party, mute, hang up (= leave the call).
// Contract: docs/api.md, "Video and text calls".
//
// data-testid: call-invite (data-call-id), call-join, call-decline, call-view (data-call-id,
//   data-status), call-state (data-state: connecting|active|reconnecting|held|ended),
//   call-remote (<video>, data-party-id, data-role), call-local (<video>), call-mute
//   (aria-pressed), call-leave, call-error
// window.baojing.call: null, or {id, me, peers: Map<partyId, RTCPeerConnection>, status, state,
//   joinedAt (Date.now() of the join tap), firstFrameAt: {partyId: Date.now() of the first frame}}
import { get, post } from "/shared/api.js";
import { errorText, t, words } from "/shared/i18n.js";
import { h as el } from "/shared/dom.js";
import { Mesh, localMedia } from "/shared/rtc.js";

words({
  zh: {
    vc_invite: "视频通话邀请",
    vc_from: "{by} 邀请您加入报警人的视频通话",
    vc_join: "加入",
    vc_decline: "忽略",
    vc_leave: "挂断",
    vc_mute: "静音",
    vc_unmute: "取消静音",
    vc_st_connecting: "正在连接…",
    vc_st_active: "通话中",
    vc_st_reconnecting: "重新连接中…",
    vc_st_held: "保持中",
    vc_st_ended: "通话已结束",
    vc_caller: "报警人",
    vc_desk: "接警员",
    vc_officer: "民警",
    vc_supervisor: "指挥员",
    vc_me: "我",
    vc_close: "关闭",
  },
  en: {
    vc_invite: "Video call invitation",
    vc_from: "{by} invites you to the caller's video call",
    vc_join: "Join",
    vc_decline: "Ignore",
    vc_leave: "Hang up",
    vc_mute: "Mute",
    vc_unmute: "Unmute",
    vc_st_connecting: "Connecting…",
    vc_st_active: "In call",
    vc_st_reconnecting: "Reconnecting…",
    vc_st_held: "On hold",
    vc_st_ended: "Call ended",
    vc_caller: "Caller",
    vc_desk: "Desk",
    vc_officer: "Officer",
    vc_supervisor: "Supervisor",
    vc_me: "Me",
    vc_close: "Close",
  },
});

export function createVideoCall({ hooks, send, toast }) {
  hooks.call = null;
  let invite = null;   // {call_id, by, box}
  let cur = null;      // {call, me, mesh, stream, tiles, els, ended}

  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "/officer/videocall.css";
  document.head.append(css);

  function showInvite(data) {
    if (cur && !cur.ended && cur.call.id === data.call_id) return;
    dismissInvite();
    const box = el("div", { class: "vc-invite", testid: "call-invite", role: "alertdialog", "data-call-id": data.call_id },
      el("div", { class: "vc-invite-title" }, "▶ ", t("vc_invite")),
      el("div", { class: "vc-invite-by" }, t("vc_from", { by: data.by || "" })),
      el("div", { class: "vc-invite-btns" },
        el("button", { type: "button", class: "btn vc-join", testid: "call-join", onclick: () => join(data.call_id) }, t("vc_join")),
        el("button", { type: "button", class: "btn", testid: "call-decline", onclick: dismissInvite }, t("vc_decline"))));
    document.body.append(box);
    invite = { ...data, box };
    try { navigator.vibrate && navigator.vibrate([300, 150, 300, 150, 300]); } catch { /* not supported */ }
  }

  function dismissInvite() {
    if (invite) invite.box.remove();
    invite = null;
  }

  async function join(id) {
    const t0 = Date.now();
    const btn = invite && invite.box.querySelector("[data-testid=call-join]");
    if (btn) btn.disabled = true;
    const media = localMedia();
    let view;
    try {
      view = await post(`/api/calls/${id}/join`);
    } catch (err) {
      media.then((s) => s && s.getTracks().forEach((t) => t.stop()));
      if (btn) btn.disabled = false;
      toast(() => errorText(err), "bad");
      return;
    }
    dismissInvite();
    if (!view.ice_servers || view.me === undefined || view.me === null) view = { ...view, ...(await get(`/api/calls/${id}`)) };
    open(view, await media, t0);
  }

  function open(call, stream, t0) {
    close();
    const els = {};
    els.state = el("span", { class: "vc-state", testid: "call-state", "data-state": "connecting" }, t("vc_st_connecting"));
    els.grid = el("div", { class: "vc-grid", "data-n": "0" });
    els.local = el("video", { class: "vc-local", testid: "call-local", autoplay: true, playsinline: true });
    els.local.muted = true;
    if (stream) els.local.srcObject = stream;
    els.mute = el("button", { type: "button", class: "btn", testid: "call-mute", "aria-pressed": "false", onclick: toggleMute }, t("vc_mute"));
    els.leave = el("button", { type: "button", class: "btn vc-leave", testid: "call-leave", onclick: leave }, t("vc_leave"));
    els.close = el("button", { type: "button", class: "btn", testid: "call-close", hidden: true, onclick: close }, t("vc_close"));
    els.root = el("section", { class: "vc-view", testid: "call-view", "data-call-id": call.id, "data-status": call.status },
      el("div", { class: "vc-head" }, el("b", {}, `▶ #${call.incident_id}`), els.state),
      el("div", { class: "vc-media" }, els.grid, el("div", { class: "vc-local-box" }, els.local)),
      el("div", { class: "vc-bar" }, els.mute, els.leave, els.close));
    document.body.append(els.root);
    document.body.classList.add("in-call");
    cur = { call, me: call.me, stream, tiles: new Map(), els, ended: false, muted: false, firstFrameAt: {} };
    const c = cur;
    hooks.call = { id: call.id, me: call.me, peers: new Map(), status: call.status, state: "connecting", joinedAt: t0,
      firstFrameAt: c.firstFrameAt };
    c.mesh = new Mesh({
      callId: call.id, me: call.me, iceServers: call.ice_servers, stream, send,
      sendsAudioTo: (party) => !(c.call.silent && party && party.role === "caller"),
      onRemote: (id, s) => cur === c && setRemote(c, id, s),
      onChange: () => cur === c && renderState(),
    });
    hooks.call.peers = c.mesh.peers;
    c.mesh.setParties(call.parties);
    renderState();
  }

  function setRemote(c, id, stream) {
    let tile = c.tiles.get(id);
    if (!stream) {
      if (tile) tile.box.remove();
      c.tiles.delete(id);
    } else {
      if (!tile) {
        const video = el("video", { class: "vc-remote", testid: "call-remote", autoplay: true, playsinline: true,
          "data-party-id": id });
        const tag = el("span", { class: "vc-tag" });
        tile = { box: el("div", { class: "vc-tile" }, video, tag), video, tag };
        c.tiles.set(id, tile);
        c.els.grid.append(tile.box);
        const mark = () => { if (!(id in c.firstFrameAt)) c.firstFrameAt[id] = Date.now(); };
        if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(mark);
        else video.addEventListener("loadeddata", mark, { once: true });
      }
      if (tile.video.srcObject !== stream) tile.video.srcObject = stream;
      tile.video.play().catch(() => {});
    }
    labels(c);
  }

  function labels(c) {
    for (const [id, tile] of c.tiles) {
      const p = (c.call.parties || []).find((x) => x.id === id);
      tile.video.dataset.role = p ? p.role : "";
      tile.tag.textContent = p ? `${t(`vc_${p.role}`)}${p.user ? ` · ${p.user.display_name}` : ""}` : "";
    }
    c.els.grid.dataset.n = String(c.tiles.size);
  }

  function renderState() {
    if (!cur) return;
    const state = cur.ended ? "ended" : cur.call.status === "held" ? "held" : cur.mesh ? cur.mesh.state() : "connecting";
    cur.els.state.dataset.state = state;
    cur.els.state.textContent = t(`vc_st_${state}`);
    cur.els.root.dataset.status = cur.ended ? "ended" : cur.call.status;
    if (hooks.call) {
      hooks.call.state = state;
      hooks.call.status = cur.ended ? "ended" : cur.call.status;
    }
  }

  function toggleMute() {
    if (!cur || !cur.mesh) return;
    cur.muted = !cur.muted;
    cur.mesh.setMuted(cur.muted);
    cur.els.mute.setAttribute("aria-pressed", String(cur.muted));
    cur.els.mute.textContent = cur.muted ? t("vc_unmute") : t("vc_mute");
  }

  async function leave() {
    if (!cur) return;
    const c = cur;
    c.els.leave.disabled = true;
    try {
      await post(`/api/calls/${c.call.id}/hangup`);
    } catch { /* ended or gone already: leave locally anyway */ }
    finish(c);
  }

  function finish(c) {
    if (c.ended) return;
    c.ended = true;
    if (c.mesh) c.mesh.close();
    if (c.stream) c.stream.getTracks().forEach((t) => t.stop());
    c.els.leave.hidden = true;
    c.els.mute.disabled = true;
    c.els.close.hidden = false;
    renderState();
  }

  function close() {
    if (!cur) return;
    finish(cur);
    cur.els.root.remove();
    cur = null;
    hooks.call = null;
    document.body.classList.remove("in-call");
  }

  function onEvent(name, data) {
    if (name === "call.ringing") {
      showInvite(data);
    } else if (name === "call.upserted") {
      if (invite && invite.call_id === data.id) {
        // The invitation lapsed, or the call ended before I joined.
        const mine = hooks.me && (data.parties || []).find((p) => p.user && p.user.id === hooks.me() && !p.left_at);
        if (data.status === "ended" || (hooks.me && !mine)) dismissInvite();
      }
      if (cur && cur.call.id === data.id) {
        cur.call = { ...cur.call, ...data, me: cur.me, ice_servers: cur.call.ice_servers };
        const mine = (data.parties || []).find((p) => p.id === cur.me);
        if (data.status === "ended" || !mine || mine.left_at) finish(cur);
        else cur.mesh.setParties(data.parties);
        labels(cur);
        renderState();
      }
    }
  }

  function onMessage(m) {
    if (cur && cur.mesh && !cur.ended && m.call_id === cur.call.id) {
      cur.mesh.onMessage(m);
      if (m.type === "call.state") renderState();
    }
  }

  return { onEvent, onMessage, close, showInvite };
}
