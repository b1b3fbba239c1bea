// The 110 video desk (视频/文字报警) in the console: the queue of video and text calls, the call
// view (mesh video, chat, snapshots, evidence) and its actions. Contract: docs/api.md, "Video and
// text calls"; the WebRTC mesh is ./rtc.js. console.js owns this object and feeds it the live
// events (call.upserted, call.message, media.added, call.ringing) and the non-event socket
// messages (signal, call.state, errors with a call_id).
//
// Hooks (on window.baojing, see console.js):
//   calls:     Map<callId, CallOut> the desk knows (waiting, active, held; ended ones are dropped)
//   call:      null, or the call in my view: {id, me (my party id), peers: Map<partyId, RTCPeerConnection>,
//              incidentId, status, state, answeredAt (Date.now() of the answer click),
//              firstFrameAt: {partyId: Date.now() of the first remote frame}}
//   callRings: number of ring bursts played while calls waited
// data-testid:
//   calls-tab (with calls-tab-n: waiting count), calls-pane, calls-empty, call-row (data-call-id,
//   data-status, data-kind, data-silent), in a row: call-kind, call-wait ("02:37", ticking),
//   call-phone, call-operator, call-answer (waiting only), call-join (a transfer or invitation to me),
//   call-open (my active call, view closed);
//   call-view (data-call-id, data-kind, data-status), call-state (data-state: connecting|active|
//   held|reconnecting|ended|text), call-quality (data-quality: good|fair|poor|none), call-remote
//   (<video>, data-party-id, data-role), call-local (<video>), call-mute (aria-pressed), call-hold,
//   call-resume, call-transfer (opens transfer-panel: transfer-option (data-user-id), transfer-user-id
//   (input), transfer-submit, transfer-queue (back to the queue)), call-add-party (opens
//   party-panel: call-party-option (data-user-id, data-role)), call-snapshot, call-hangup,
//   call-close (the view of an ended call), call-error (data-code), evidence-list, evidence-item
//   (data-media-id, data-kind), chat-list, chat-message (data-role, data-message-id), chat-input,
//   chat-send
import { get, post } from "/shared/api.js";
import { words, t, getLang, errorText } from "/shared/i18n.js";
import { h, clear, now, phoneEl } from "./util.js";
import { parseTime, elapsedText, clockText } from "/shared/time.js";
import { Mesh, quality, localMedia } from "/shared/rtc.js";
import { evidenceItem, mediaEl } from "./evidence.js";
import * as sound from "./sound.js";

// The desk's words (keys "vd_…"), in the console's one dictionary.
words({
  zh: {
    vd_tab: "视频/文字", vd_empty: "没有等待中的视频或文字报警", vd_video: "视频", vd_text: "文字", vd_silent: "静音",
    vd_answer: "接听", vd_join: "加入", vd_open: "打开", vd_waiting: "等待", vd_active: "通话中", vd_held: "保持中", vd_ended: "已结束",
    vd_by: "{name} 接听中", vd_ringing_to_me: "转接给您", vd_mute: "静音", vd_unmute: "取消静音", vd_hold: "保持", vd_resume: "恢复",
    vd_transfer: "转接", vd_add_party: "加入民警/指挥员", vd_snapshot: "截图取证", vd_hangup: "挂断", vd_close: "关闭",
    vd_st_connecting: "正在连接…", vd_st_active: "已连接", vd_st_held: "保持中", vd_st_reconnecting: "重新连接中…",
    vd_st_ended: "通话已结束", vd_st_text: "文字报警", vd_q_good: "信号良好", vd_q_fair: "信号一般", vd_q_poor: "信号差", vd_q_none: "—",
    vd_me: "我", vd_caller: "报警人", vd_desk: "接警员", vd_officer: "民警", vd_supervisor: "指挥员",
    vd_evidence: "证据", vd_evidence_note: "每次播放都会记入审计日志", vd_no_evidence: "暂无证据",
    vd_chat: "消息", vd_chat_ph: "输入消息…", vd_send: "发送", vd_transfer_to: "转接给：", vd_user_id: "用户编号",
    vd_to_queue: "退回队列", vd_ok: "确定", vd_no_candidates: "没有可加入的民警（需先派警）；或输入用户编号",
    vd_snap_done: "截图已保存为证据", vd_answered_by: "已由 {name} 接听", vd_invite_sent: "已邀请 {name}",
    vd_kind_recording: "录像", vd_kind_snapshot: "截图", vd_kind_photo: "照片", vd_kind_clip: "视频", vd_kind_audio: "录音",
    vd_ringing: "邀请中", vd_no_camera: "未检测到摄像头/麦克风：仅接收", vd_call_no: "通话",
  },
  en: {
    vd_tab: "Video/Text", vd_empty: "No video or text alarm waiting", vd_video: "Video", vd_text: "Text", vd_silent: "Silent",
    vd_answer: "Answer", vd_join: "Join", vd_open: "Open", vd_waiting: "Waiting", vd_active: "Active", vd_held: "On hold", vd_ended: "Ended",
    vd_by: "{name} has it", vd_ringing_to_me: "Transferred to you", vd_mute: "Mute", vd_unmute: "Unmute", vd_hold: "Hold",
    vd_resume: "Resume", vd_transfer: "Transfer", vd_add_party: "Add officer/supervisor", vd_snapshot: "Snapshot",
    vd_hangup: "Hang up", vd_close: "Close", vd_st_connecting: "Connecting…", vd_st_active: "Connected", vd_st_held: "On hold",
    vd_st_reconnecting: "Reconnecting…", vd_st_ended: "Call ended", vd_st_text: "Text alarm", vd_q_good: "Good link",
    vd_q_fair: "Fair link", vd_q_poor: "Poor link", vd_q_none: "—", vd_me: "Me", vd_caller: "Caller", vd_desk: "Desk",
    vd_officer: "Officer", vd_supervisor: "Supervisor", vd_evidence: "Evidence", vd_evidence_note: "Every playback is audited",
    vd_no_evidence: "No evidence yet", vd_chat: "Messages", vd_chat_ph: "Type a message…", vd_send: "Send",
    vd_transfer_to: "Transfer to:", vd_user_id: "User id", vd_to_queue: "Back to queue", vd_ok: "OK",
    vd_no_candidates: "No officer to add (dispatch a unit first), or enter a user id",
    vd_snap_done: "Snapshot saved as evidence", vd_answered_by: "Already answered by {name}", vd_invite_sent: "Invited {name}",
    vd_kind_recording: "Recording", vd_kind_snapshot: "Snapshot", vd_kind_photo: "Photo", vd_kind_clip: "Clip", vd_kind_audio: "Audio",
    vd_ringing: "Invited", vd_no_camera: "No camera/microphone: receiving only", vd_call_no: "Call",
  },
});
const T = (key, vars) => t(`vd_${key}`, vars);
const RING_EVERY_MS = 4000;
const ENDED_VIEW_MS = 5000;   // an ended call's view closes itself after this
const ACTIVE_ASSIGNMENT = new Set(["dispatched", "accepted", "en_route", "on_scene"]);

export class VideoDesk {
  // ctx: {pane, view, tab, tabN, hooks, user(), incident(id), units() (Map), select(id), toast(text, err),
  //       send(obj) -> bool}
  constructor(ctx) {
    this.c = ctx;
    this.calls = new Map();
    ctx.hooks.calls = this.calls;
    ctx.hooks.call = null;
    ctx.hooks.callRings = 0;
    this.cur = null;        // {call, mesh, stream, tiles: Map, messages: Map, media: Map, ...}
    this.lastRing = 0;
    this.loaded = false;
    this.buffer = null;
  }

  // ---- data ------------------------------------------------------------------------------------
  async load() {
    this.buffer = [];
    try {
      const res = await get("/api/calls");
      const fresh = new Map();
      for (const c of res.calls || []) fresh.set(c.id, c);
      // Keep my own call even if it is no longer listed (it ended meanwhile: its event follows).
      this.calls.clear();
      for (const [id, c] of fresh) this.calls.set(id, c);
      const held = this.buffer;
      this.buffer = null;
      for (const ev of held) if (ev.seq > res.seq) this.onEvent(ev.name, ev.data, ev.seq);
      this.loaded = true;
      if (this.cur && fresh.has(this.cur.call.id)) this.updateCall(fresh.get(this.cur.call.id));
    } catch (err) {
      this.buffer = null;
      if (err.status !== 401) this.c.toast(errorText(err), true);
    }
    this.render();
  }

  stop() {
    this.endView(true);
    this.calls.clear();
    this.loaded = false;
    this.render();
  }

  onEvent(name, data, seq) {
    if (this.buffer && name === "call.upserted") {
      this.buffer.push({ name, data, seq });
      return;
    }
    if (name === "call.upserted") {
      if (data.status === "ended") this.calls.delete(data.id);
      else this.calls.set(data.id, data);
      if (this.cur && this.cur.call.id === data.id) this.updateCall(data);
      this.render();
    } else if (name === "call.message") {
      if (this.cur && this.cur.call.id === data.call_id) this.addMessage(data);
    } else if (name === "media.added") {
      if (this.cur && this.cur.call.incident_id === data.incident_id) this.addMedia(data);
    } else if (name === "call.ringing") {
      this.c.toast(`${T("ringing_to_me")}: ${T("call_no")} #${data.call_id} (${data.by})`);
      this.render();
    } else if (name === "incident.upserted") {
      for (const c of this.calls.values()) {
        if (c.incident_id === data.id) {
          this.render();
          break;
        }
      }
    }
  }

  onMessage(m) {
    if (this.cur && this.cur.mesh && m.call_id === this.cur.call.id) {
      this.cur.mesh.onMessage(m);
      if (m.type === "call.state") this.renderState();
    }
  }

  myId() {
    const u = this.c.user();
    return u ? u.id : null;
  }

  // My party in a call (present), if any.
  myParty(call) {
    const uid = this.myId();
    return (call.parties || []).find((p) => p.user && p.user.id === uid && !p.left_at) || null;
  }

  // ---- the queue -------------------------------------------------------------------------------
  ordered() {
    const rank = { waiting: 0, active: 1, held: 1 };
    return [...this.calls.values()].sort((a, b) => (rank[a.status] ?? 2) - (rank[b.status] ?? 2) ||
      (a.status === "waiting" ? a.priority - b.priority : 0) || parseTime(a.queued_at) - parseTime(b.queued_at));
  }

  render() {
    const pane = this.c.pane;
    const list = this.ordered();
    const waiting = list.filter((c) => c.status === "waiting").length;
    this.c.tabN.textContent = String(waiting);
    this.c.tab.classList.toggle("hot", waiting > 0);
    clear(pane);
    if (!list.length) {
      pane.append(h("div", { class: "queue-empty", testid: "calls-empty" }, h("div", { class: "qe-main" }, T("empty"))));
      return;
    }
    for (const call of list) pane.append(this.row(call));
  }

  row(call) {
    const inc = this.c.incident(call.incident_id);
    const alarm = inc ? (inc.alarms || []).find((a) => a.id === call.alarm_id) || (inc.alarms || [])[0] : null;
    const mine = this.myParty(call);
    const invited = mine && !mine.joined_at;
    const inView = this.cur && this.cur.call.id === call.id;
    const since = call.status === "waiting" ? call.queued_at : call.answered_at || call.queued_at;
    let action = null;
    if (call.status === "waiting") {
      action = h("button", { type: "button", class: "btn btn-small btn-primary", testid: "call-answer",
        onclick: (e) => { e.stopPropagation(); this.answer(call.id); } }, T("answer"));
    } else if (invited) {
      action = h("button", { type: "button", class: "btn btn-small btn-primary", testid: "call-join",
        onclick: (e) => { e.stopPropagation(); this.join(call.id); } }, T("join"));
    } else if (mine && !inView) {
      action = h("button", { type: "button", class: "btn btn-small", testid: "call-open",
        onclick: (e) => { e.stopPropagation(); this.open(call.id); } }, T("open"));
    }
    return h("div", { class: `qrow vrow p${call.priority} st-${call.status}${inView ? " sel" : ""}${invited ? " flash" : ""}`,
      testid: "call-row", role: "listitem",
      dataset: { callId: call.id, status: call.status, kind: call.kind, silent: String(call.silent) },
      onclick: () => this.c.select(call.incident_id) },
    h("div", { class: "q1" },
      h("span", { class: `ckind k-${call.kind}`, testid: "call-kind" }, call.kind === "video" ? "▶ " + T("video") : "✉ " + T("text")),
      call.silent ? h("span", { class: "cbadge" }, T("silent")) : null,
      h("b", {}, `#${call.incident_id}`),
      h("span", { class: "spacer" }),
      h("span", { class: "cwait mono", testid: "call-wait", dataset: { since: parseTime(since) } }, elapsedText(now() - parseTime(since)))),
    h("div", { class: "q2" },
      alarm ? phoneEl(alarm.phone, { testid: "call-phone" }) : h("span", { class: "muted" }, "…"),
      alarm && alarm.name ? h("span", {}, alarm.name) : null,
      h("span", { class: "spacer" }),
      call.status === "waiting" ? h("span", { class: "muted" }, `${T("waiting")} ${call.queue_position || ""}`)
        : h("span", { class: "muted", testid: "call-operator" }, invited ? T("ringing_to_me")
          : call.operator ? T("by", { name: call.operator.display_name }) : T(call.status)),
      action));
  }

  tick() {
    for (const el of this.c.pane.querySelectorAll("[data-testid=call-wait]")) {
      el.textContent = elapsedText(now() - Number(el.dataset.since));
    }
    const waiting = [...this.calls.values()].some((c) => c.status === "waiting" ||
      (this.myParty(c) && !this.myParty(c).joined_at));
    if (waiting && Date.now() - this.lastRing >= RING_EVERY_MS) {
      if (sound.playRing && sound.playRing()) {
        this.lastRing = Date.now();
        this.c.hooks.callRings += 1;
      }
    }
    if (this.cur && this.cur.mesh && !this.cur.ended) this.pollStats();
    if (this.cur) {
      const el = this.cur.els.timer;
      const at = parseTime(this.cur.call.answered_at);
      const end = this.cur.ended ? parseTime(this.cur.call.ended_at) || this.cur.endedAt : now();
      if (el && at) el.textContent = elapsedText(end - at);
    }
  }

  // ---- actions ---------------------------------------------------------------------------------
  async answer(id) {
    const t0 = Date.now();
    const call = this.calls.get(id);
    // The camera starts while the answer travels: the first frame comes sooner.
    const media = call && call.kind === "video" ? localMedia() : Promise.resolve(null);
    let view;
    try {
      view = await post(`/api/calls/${id}/answer`);
    } catch (err) {
      media.then((s) => s && s.getTracks().forEach((t) => t.stop()));
      if (err.code === "already_answered") {
        this.c.toast(getLang() === "zh" ? (err.message_zh || T("answered_by", { name: "?" })) : err.message_en, true);
      } else this.c.toast(errorText(err), true);
      this.loadSoon();
      return;
    }
    this.calls.set(view.id, view);
    await this.show(view, await media, t0);
  }

  async join(id) {
    const t0 = Date.now();
    const call = this.calls.get(id);
    const media = !call || call.kind === "video" ? localMedia() : Promise.resolve(null);
    try {
      const view = await post(`/api/calls/${id}/join`);
      const full = await get(`/api/calls/${id}`);
      this.calls.set(id, full);
      await this.show({ ...view, ...full }, await media, t0);
    } catch (err) {
      media.then((s) => s && s.getTracks().forEach((t) => t.stop()));
      this.c.toast(errorText(err), true);
    }
  }

  // Back to a call of mine whose view was closed (a reload: the mesh starts again).
  async open(id) {
    try {
      const full = await get(`/api/calls/${id}`);
      await this.show(full, full.kind === "video" ? await localMedia() : null, Date.now());
    } catch (err) {
      this.c.toast(errorText(err), true);
    }
  }

  loadSoon() {
    clearTimeout(this.loadTimer);
    this.loadTimer = setTimeout(() => this.load(), 300);
  }

  async act(path, body) {
    const cur = this.cur;
    if (!cur) return null;
    try {
      const view = await post(`/api/calls/${cur.call.id}/${path}`, body);
      if (view && view.id) {
        if (view.status === "ended") this.calls.delete(view.id);
        else this.calls.set(view.id, view);
        if (this.cur === cur) this.updateCall(view);
      }
      this.render();
      return view;
    } catch (err) {
      this.showError(err);
      return null;
    }
  }

  showError(err) {
    if (!this.cur) return this.c.toast(errorText(err), true);
    const el = this.cur.els.error;
    el.hidden = false;
    el.dataset.code = err.code || "";
    el.textContent = errorText(err);
  }

  // ---- the call view ---------------------------------------------------------------------------
  async show(call, stream, t0) {
    this.endView(true);
    const view = this.c.view;
    const me = call.me ?? (this.myParty(call) || {}).id;
    const cur = this.cur = {
      call, me, stream, t0, ended: false, muted: false, tiles: new Map(), messages: new Map(), media: new Map(),
      els: {}, firstFrameAt: {}, statsBusy: false,
    };
    this.c.hooks.call = { id: call.id, me, peers: new Map(), incidentId: call.incident_id, status: call.status,
      state: "connecting", answeredAt: t0, firstFrameAt: cur.firstFrameAt, kind: call.kind };
    this.build(cur);
    view.hidden = false;
    document.body.classList.add("in-call");
    window.dispatchEvent(new Event("resize"));
    if (call.kind === "video") {
      if (stream) {
        cur.els.local.srcObject = stream;
      } else {
        cur.els.notice.textContent = T("no_camera");
        cur.els.notice.hidden = false;
      }
      cur.mesh = new Mesh({
        callId: call.id, me, iceServers: call.ice_servers, stream,
        send: (o) => this.c.send(o),
        // A muted video alarm: the desk never sends audio to the caller.
        sendsAudioTo: (party) => !(cur.call.silent && party && party.role === "caller"),
        onRemote: (id, s) => this.cur === cur && this.setRemote(cur, id, s),
        onChange: () => this.cur === cur && this.renderState(),
      });
      this.c.hooks.call.peers = cur.mesh.peers;
      cur.mesh.setParties(call.parties);
    }
    this.renderParties(cur);
    this.renderState();
    this.render();
    this.c.select(call.incident_id);
    this.loadChat(cur);
    this.loadEvidence(cur);
  }

  build(cur) {
    const view = this.c.view;
    clear(view);
    const call = cur.call;
    const e = cur.els;
    e.state = h("span", { class: "cstate", testid: "call-state", dataset: { state: "connecting" } });
    e.quality = h("span", { class: "cquality", testid: "call-quality", dataset: { quality: "none" } }, T("q_none"));
    e.timer = h("span", { class: "mono ctimer" });
    e.grid = h("div", { class: "cgrid" });
    e.local = h("video", { class: "clocal", testid: "call-local", autoplay: true, playsinline: true });
    e.local.muted = true;
    e.notice = h("div", { class: "cnotice", hidden: true });
    e.error = h("div", { class: "cerror", testid: "call-error", role: "alert", hidden: true });
    e.mute = h("button", { type: "button", class: "btn", testid: "call-mute", "aria-pressed": "false",
      onclick: () => this.toggleMute() }, T("mute"));
    e.hold = h("button", { type: "button", class: "btn", testid: "call-hold", onclick: () => this.act("hold") }, T("hold"));
    e.resume = h("button", { type: "button", class: "btn", testid: "call-resume", hidden: true,
      onclick: () => this.act("resume") }, T("resume"));
    e.transfer = h("button", { type: "button", class: "btn", testid: "call-transfer",
      onclick: () => this.togglePanel("transfer") }, T("transfer"));
    e.addParty = h("button", { type: "button", class: "btn", testid: "call-add-party",
      onclick: () => this.togglePanel("party") }, T("add_party"));
    e.snapshot = h("button", { type: "button", class: "btn", testid: "call-snapshot", onclick: () => this.snapshot() },
      T("snapshot"));
    e.hangup = h("button", { type: "button", class: "btn btn-danger", testid: "call-hangup",
      onclick: () => this.act("hangup") }, T("hangup"));
    e.close = h("button", { type: "button", class: "btn", testid: "call-close", hidden: true,
      onclick: () => this.endView(true) }, T("close"));
    e.panel = h("div", { class: "cpanel", hidden: true });
    e.chatList = h("div", { class: "chat-list", testid: "chat-list" });
    e.chatInput = h("input", { class: "chat-input", testid: "chat-input", maxlength: "2000", placeholder: T("chat_ph"),
      onkeydown: (ev) => { if (ev.key === "Enter") this.sendChat(); } });
    e.evList = h("div", { class: "ev-list", testid: "evidence-list" },
      h("div", { class: "muted ev-empty", "data-vk": "no_evidence" }, T("no_evidence")));
    // Labels that say the same thing in the other language after a switch (relabel()).
    for (const k of ["hold", "resume", "transfer", "add_party", "snapshot", "hangup", "close"]) {
      e[k === "add_party" ? "addParty" : k].dataset.vk = k;
    }
    const video = call.kind === "video";
    view.dataset.callId = call.id;
    view.dataset.kind = call.kind;
    view.dataset.status = call.status;
    view.append(
      h("div", { class: "chead" },
        h("b", {}, video ? "▶ " : "✉ ", h("span", { "data-vk": video ? "video" : "text" }, T(video ? "video" : "text")),
          ` #${call.incident_id}`),
        call.silent ? h("span", { class: "cbadge", "data-vk": "silent" }, T("silent")) : null,
        e.state, video ? e.quality : null, e.timer),
      e.error,
      h("div", { class: "cbody" },
        video ? h("div", { class: "cmedia" }, e.grid, h("div", { class: "clocal-box" }, e.local,
          h("span", { class: "ctag", "data-vk": "me" }, T("me"))), e.notice) : null,
        h("div", { class: `cside${video ? "" : " wide"}` },
          h("div", { class: "chat" }, h("div", { class: "ctitle", "data-vk": "chat" }, T("chat")), e.chatList,
            h("div", { class: "chat-bar" }, e.chatInput,
              h("button", { type: "button", class: "btn btn-primary", testid: "chat-send", "data-vk": "send",
                onclick: () => this.sendChat() }, T("send")))),
          h("div", { class: "ev" }, h("div", { class: "ctitle" }, h("span", { "data-vk": "evidence" }, T("evidence")), " ",
            h("small", { class: "muted", "data-vk": "evidence_note" }, T("evidence_note"))), e.evList))),
      e.panel,
      h("div", { class: "cbar" }, video ? e.mute : null, e.hold, e.resume, e.transfer, e.addParty,
        video ? e.snapshot : null, h("span", { class: "spacer" }), e.hangup, e.close));
  }

  setRemote(cur, id, stream) {
    let tile = cur.tiles.get(id);
    if (!stream) {
      if (tile) tile.box.remove();
      cur.tiles.delete(id);
      return;
    }
    if (!tile) {
      const party = (cur.call.parties || []).find((p) => p.id === id) || { role: "" };
      const video = h("video", { class: "cremote", testid: "call-remote", autoplay: true, playsinline: true,
        dataset: { partyId: id, role: party.role || "" } });
      const tag = h("span", { class: "ctag" });
      tile = { box: h("div", { class: "ctile" }, video, tag), video, tag };
      cur.tiles.set(id, tile);
      cur.els.grid.append(tile.box);
      const mark = () => {
        if (!(id in cur.firstFrameAt)) cur.firstFrameAt[id] = Date.now();
      };
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(mark);
      else video.addEventListener("loadeddata", mark, { once: true });
    }
    if (tile.video.srcObject !== stream) tile.video.srcObject = stream;
    tile.video.play().catch(() => {});
    this.renderParties(cur);
  }

  renderParties(cur) {
    for (const [id, tile] of cur.tiles) {
      const p = (cur.call.parties || []).find((x) => x.id === id);
      const role = p ? p.role : "";
      tile.video.dataset.role = role;
      tile.tag.textContent = `${T(role) || role}${p && p.user ? ` · ${p.user.display_name}` : ""}`;
    }
    cur.els.grid.dataset.n = String(cur.tiles.size);
  }

  updateCall(call) {
    const cur = this.cur;
    if (!cur) return;
    cur.call = { ...cur.call, ...call, ice_servers: cur.call.ice_servers, me: cur.me };
    this.c.hooks.call.status = call.status;
    this.c.view.dataset.status = call.status;
    const mine = (call.parties || []).find((p) => p.id === cur.me);
    if (call.status === "ended" || !mine || mine.left_at) {
      this.finish();
      return;
    }
    if (cur.mesh) {
      cur.mesh.setParties(call.parties);
      const caller = (call.parties || []).find((p) => p.role === "caller" && !p.left_at);
      if (caller && cur.held !== (call.status === "held")) {
        cur.held = call.status === "held";
        cur.mesh.pauseTo(caller.id, cur.held);
      }
    }
    this.renderParties(cur);
    this.renderState();
  }

  // The call ended (or I left it): media stops, the view stays with "ended" until closed.
  finish() {
    const cur = this.cur;
    if (!cur || cur.ended) return;
    cur.ended = true;
    cur.endedAt = now();
    if (cur.mesh) cur.mesh.close();
    if (cur.stream) cur.stream.getTracks().forEach((t) => t.stop());
    for (const k of ["mute", "hold", "resume", "transfer", "addParty", "snapshot", "hangup"]) {
      if (cur.els[k]) cur.els[k].disabled = true;
    }
    cur.els.hangup.hidden = true;
    cur.els.close.hidden = false;
    cur.els.panel.hidden = true;
    cur.els.quality.dataset.quality = "none";
    cur.els.quality.textContent = "";
    this.c.hooks.call.status = "ended";
    this.renderState();
    this.render();
    // The ended view gets out of the way by itself (its evidence stays in the incident's panel);
    // a few seconds first, so the operator sees that the call ended rather than a view vanishing.
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => {
      if (this.cur === cur) this.endView(true);
    }, ENDED_VIEW_MS);
  }

  // The language changed: the queue and the open call view say it again.
  relabel() {
    this.render();
    const cur = this.cur;
    if (!cur) return;
    for (const el of this.c.view.querySelectorAll("[data-vk]")) el.textContent = T(el.dataset.vk);
    cur.els.chatInput.placeholder = T("chat_ph");
    if (cur.els.mute) cur.els.mute.textContent = cur.muted ? T("unmute") : T("mute");
    this.renderParties(cur);
    this.renderState();
  }

  endView(hide) {
    const cur = this.cur;
    if (cur) {
      if (cur.mesh) cur.mesh.close();
      if (cur.stream) cur.stream.getTracks().forEach((t) => t.stop());
    }
    this.cur = null;
    this.c.hooks.call = null;
    clearTimeout(this.closeTimer);
    if (hide) {
      this.c.view.hidden = true;
      clear(this.c.view);
      document.body.classList.remove("in-call");
      window.dispatchEvent(new Event("resize"));
    }
    this.render();
  }

  renderState() {
    const cur = this.cur;
    if (!cur) return;
    let state;
    if (cur.ended) state = "ended";
    else if (cur.call.status === "held") state = "held";
    else if (cur.call.kind === "text") state = "text";
    else state = cur.mesh ? cur.mesh.state() : "connecting";
    const el = cur.els.state;
    el.dataset.state = state;
    el.textContent = T(`st_${state}`);
    this.c.hooks.call.state = state;
    const held = cur.call.status === "held";
    cur.els.hold.hidden = held;
    cur.els.resume.hidden = !held;
  }

  async pollStats() {
    const cur = this.cur;
    if (cur.statsBusy) return;
    cur.statsBusy = true;
    try {
      const st = await cur.mesh.stats();
      const q = quality(st);
      const el = cur.els.quality;
      el.dataset.quality = q;
      const vals = Object.values(st);
      const rtt = vals.map((s) => s.rtt).filter((x) => x !== null);
      const fps = vals.map((s) => s.fps);
      el.textContent = `${T(`q_${q}`)}${rtt.length ? ` · ${Math.max(...rtt)} ms` : ""}${fps.length ? ` · ${Math.min(...fps)} fps` : ""}`;
      el.title = JSON.stringify(st);
    } finally {
      cur.statsBusy = false;
    }
  }

  toggleMute() {
    const cur = this.cur;
    if (!cur || !cur.mesh) return;
    cur.muted = !cur.muted;
    cur.mesh.setMuted(cur.muted);
    cur.els.mute.setAttribute("aria-pressed", String(cur.muted));
    cur.els.mute.textContent = cur.muted ? T("unmute") : T("mute");
    cur.els.mute.classList.toggle("on", cur.muted);
  }

  togglePanel(which) {
    const cur = this.cur;
    const p = cur.els.panel;
    if (!p.hidden && p.dataset.which === which) {
      p.hidden = true;
      return;
    }
    p.dataset.which = which;
    clear(p);
    if (which === "transfer") this.buildTransfer(p);
    else this.buildParty(p);
    p.hidden = false;
  }

  // Transfer targets: there is no list of console users for a non-admin, so the operators the desk
  // has seen on calls are offered, plus a user id.
  buildTransfer(p) {
    const seen = new Map();
    for (const c of this.calls.values()) {
      for (const party of c.parties || []) {
        if (party.role === "desk" && party.user && party.user.id !== this.myId()) seen.set(party.user.id, party.user);
      }
      if (c.operator && c.operator.id !== this.myId()) seen.set(c.operator.id, c.operator);
    }
    const input = h("input", { type: "number", min: "1", class: "cid-input", testid: "transfer-user-id", placeholder: T("user_id") });
    p.append(h("div", { class: "ctitle" }, T("transfer_to")),
      h("div", { class: "copts" }, [...seen.values()].map((u) => h("button", { type: "button", class: "btn btn-small",
        testid: "transfer-option", dataset: { userId: u.id }, onclick: () => this.transfer(u.id) }, u.display_name))),
      h("div", { class: "vinline" }, input,
        h("button", { type: "button", class: "btn btn-small btn-primary", testid: "transfer-submit",
          onclick: () => { const v = Number(input.value); if (v > 0) this.transfer(v); } }, T("ok")),
        h("button", { type: "button", class: "btn btn-small", testid: "transfer-queue", onclick: () => this.transfer(null) },
          T("to_queue"))));
  }

  async transfer(userId) {
    const view = await this.act("transfer", { to_user_id: userId });
    if (view) this.cur && (this.cur.els.panel.hidden = true);
  }

  // Who may be added: the members of units with an active assignment on the incident (the
  // backend's rule), plus a user id (a supervisor: there is no list of them for a non-admin).
  buildParty(p) {
    const cur = this.cur;
    const inc = this.c.incident(cur.call.incident_id);
    const units = this.c.units();
    const inCall = new Set((cur.call.parties || []).filter((x) => !x.left_at && x.user).map((x) => x.user.id));
    const opts = [];
    for (const a of (inc && inc.assignments) || []) {
      if (!ACTIVE_ASSIGNMENT.has(a.status)) continue;
      const u = units.get(a.unit_id);
      for (const m of (u && u.members) || []) {
        if (inCall.has(m.id) || opts.some((o) => o.id === m.id)) continue;
        opts.push({ id: m.id, name: `${a.call_sign} · ${m.display_name}`, role: "officer" });
      }
    }
    const input = h("input", { type: "number", min: "1", class: "cid-input", placeholder: T("user_id") });
    p.append(h("div", { class: "ctitle" }, T("add_party")),
      opts.length ? h("div", { class: "copts" }, opts.map((o) => h("button", { type: "button", class: "btn btn-small",
        testid: "call-party-option", dataset: { userId: o.id, role: o.role }, onclick: () => this.addParty(o.id, o.name) }, o.name)))
        : h("div", { class: "muted" }, T("no_candidates")),
      h("div", { class: "vinline" }, input,
        h("button", { type: "button", class: "btn btn-small btn-primary", testid: "call-party-option",
          dataset: { userId: "", role: "id" }, onclick: () => { const v = Number(input.value); if (v > 0) this.addParty(v, `#${v}`); } },
        T("ok"))));
  }

  async addParty(userId, name) {
    const view = await this.act("parties", { user_id: userId });
    if (view && this.cur) {
      this.cur.els.panel.hidden = true;
      this.c.toast(T("invite_sent", { name }));
    }
  }

  // A frame of the caller's video → JPEG → evidence.
  async snapshot() {
    const cur = this.cur;
    if (!cur) return;
    const caller = (cur.call.parties || []).find((p) => p.role === "caller" && !p.left_at);
    const tile = caller && cur.tiles.get(caller.id);
    const v = tile && tile.video;
    if (!v || !v.videoWidth) return this.showError({ code: "no_video", message_zh: "还没有报警人的画面", message_en: "No video from the caller yet" });
    const canvas = document.createElement("canvas");
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext("2d").drawImage(v, 0, 0);
    const blob = await new Promise((res) => canvas.toBlob(res, "image/jpeg", 0.85));
    const form = new FormData();
    form.append("file", blob, `snapshot-${cur.call.id}-${Date.now()}.jpg`);
    cur.els.snapshot.disabled = true;
    try {
      const res = await fetch(`/api/calls/${cur.call.id}/snapshots`, { method: "POST", body: form, credentials: "same-origin" });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) return this.showError({ status: res.status, ...body });
      this.addMedia(body);
      this.c.toast(T("snap_done"));
    } finally {
      if (this.cur === cur && !cur.ended) cur.els.snapshot.disabled = false;
    }
  }

  // ---- chat and evidence -----------------------------------------------------------------------
  async loadChat(cur) {
    try {
      const res = await get(`/api/calls/${cur.call.id}/messages`);
      for (const m of res.messages || []) this.addMessage(m);
    } catch { /* shown when it arrives live */ }
  }

  addMessage(m) {
    const cur = this.cur;
    if (!cur || cur.messages.has(m.id)) return;
    const who = m.role === "caller" ? T("caller") : m.author || T(m.role);
    const mine = m.party_id === cur.me;
    const el = h("div", { class: `chat-msg r-${m.role}${mine ? " mine" : ""}`, testid: "chat-message",
      dataset: { role: m.role, messageId: m.id } },
    h("div", { class: "chat-meta" }, `${who} · ${clockText(m.at)}`),
    m.text ? h("div", { class: "chat-text" }, m.text) : null,
    m.attachment ? mediaEl(m.attachment) : null);
    cur.messages.set(m.id, el);
    // Oldest first: insert by id.
    const after = [...cur.els.chatList.children].find((x) => Number(x.dataset.messageId) > m.id);
    cur.els.chatList.insertBefore(el, after || null);
    cur.els.chatList.scrollTop = cur.els.chatList.scrollHeight;
    if (m.attachment) this.addMedia(m.attachment);
  }

  async sendChat() {
    const cur = this.cur;
    if (!cur || cur.ended) return;
    const text = cur.els.chatInput.value.trim();
    if (!text) return;
    try {
      const m = await post(`/api/calls/${cur.call.id}/messages`, { text });
      cur.els.chatInput.value = "";
      this.addMessage(m);
    } catch (err) {
      this.showError(err);
    }
  }

  async loadEvidence(cur) {
    try {
      const res = await get(`/api/incidents/${cur.call.incident_id}/media`);
      for (const m of res.media || []) this.addMedia(m);
    } catch { /* live events still come */ }
  }

  addMedia(m) {
    const cur = this.cur;
    if (!cur || cur.media.has(m.id)) return;
    const el = evidenceItem(m);
    cur.media.set(m.id, el);
    const empty = cur.els.evList.querySelector(".ev-empty");
    if (empty) empty.remove();
    cur.els.evList.prepend(el);
  }
}
