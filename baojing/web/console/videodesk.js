// The 110 video desk (视频/文字报警) in the console: the queue of video and text calls, the call
// view (mesh video, chat, snapshots, evidence) and its actions. Contract: docs/api.md, "Video and
// text calls"; the WebRTC mesh is /shared/rtc.js; drawn with lit-html. console.js owns this object and feeds it the live
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
import { words, t, getLang, errorText, durationText } from "/shared/i18n.js";
import { html, render, nothing } from "/vendor/lit-html/lit-html.js";
import { repeat } from "/vendor/lit-html/directives/repeat.js";
import { ref } from "/vendor/lit-html/directives/ref.js";
import { now } from "./clock.js";
import { parseTime, elapsedText, clockText } from "/shared/time.js";
import { Mesh, quality, localMedia } from "/shared/rtc.js";
import { evidenceTpl, mediaTpl } from "./evidence.js";
import { phoneTpl } from "./queue.js";
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
    vd_wait_for: "等待 {d}", vd_talk_for: "通话 {d}",
    vd_place: "排队第 {n} 位",
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
    vd_wait_for: "waiting {d}", vd_talk_for: "on call {d}",
    vd_place: "in line: {n}",
  },
});
const T = (key, vars) => t(`vd_${key}`, vars);
// A MediaStream goes into a <video> through a ref, not a property binding: lit sets an object-valued
// property again on every draw, and each srcObject assignment restarts the video.
const feed = (stream, then) => ref((v) => {
  if (!v) return;
  if (v.srcObject !== stream) v.srcObject = stream;
  if (then) then(v);
});
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
    const list = this.ordered();
    const waiting = list.filter((c) => c.status === "waiting").length;
    this.c.tabN.textContent = String(waiting);
    this.c.tab.classList.toggle("hot", waiting > 0);
    render(list.length ? repeat(list, (call) => call.id, (call) => this.row(call))
      : html`<div class="queue-empty" data-testid="calls-empty"><div class="qe-main">${T("empty")}</div></div>`, this.c.pane);
  }

  row(call) {
    const inc = this.c.incident(call.incident_id);
    const alarm = inc ? (inc.alarms || []).find((a) => a.id === call.alarm_id) || (inc.alarms || [])[0] : null;
    const mine = this.myParty(call);
    const invited = mine && !mine.joined_at;
    const inView = this.cur && this.cur.call.id === call.id;
    const since = parseTime(call.status === "waiting" ? call.queued_at : call.answered_at || call.queued_at);
    const button = (testid, cls, label, fn) => html`<button type="button" class="btn btn-small${cls}" data-testid=${testid}
      @click=${(e) => { e.stopPropagation(); fn(call.id); }}>${label}</button>`;
    const action = call.status === "waiting" ? button("call-answer", " btn-primary", T("answer"), (id) => this.answer(id))
      : invited ? button("call-join", " btn-primary", T("join"), (id) => this.join(id))
        : mine && !inView ? button("call-open", "", T("open"), (id) => this.open(id)) : nothing;
    return html`<div class="qrow vrow p${call.priority} st-${call.status}${inView ? " sel" : ""}${invited ? " flash" : ""}"
      data-testid="call-row" role="listitem" data-call-id=${call.id} data-status=${call.status} data-kind=${call.kind}
      data-silent=${String(call.silent)} @click=${() => this.c.select(call.incident_id)}>
      <div class="q1">
        <span class="ckind k-${call.kind}" data-testid="call-kind">${call.kind === "video" ? `▶ ${T("video")}` : `✉ ${T("text")}`}</span>
        ${call.silent ? html`<span class="cbadge">${T("silent")}</span>` : nothing}
        <b>#${call.incident_id}</b><span class="spacer"></span>
        <span class="cwait" data-testid="call-wait">${T(call.status === "waiting" ? "wait_for" : "talk_for",
          { d: durationText(now() - since, { exact: true }) })}</span>
      </div>
      <div class="q2">
        ${alarm ? phoneTpl(alarm.phone, "call-phone") : html`<span class="muted">…</span>`}
        ${alarm && alarm.name ? html`<span>${alarm.name}</span>` : nothing}
        <span class="spacer"></span>
        ${call.status === "waiting" ? html`<span class="muted" data-testid="call-place">${
          call.queue_position ? T("place", { n: call.queue_position }) : T("waiting")}</span>`
          : html`<span class="muted" data-testid="call-operator">${invited ? T("ringing_to_me")
            : call.operator ? T("by", { name: call.operator.display_name }) : T(call.status)}</span>`}
        ${action}
      </div>
    </div>`;
  }

  // Every second: the waits and the call's clock; the ring while calls wait; the link quality.
  tick() {
    if (this.calls.size) this.render();
    const waiting = [...this.calls.values()].some((c) => c.status === "waiting" ||
      (this.myParty(c) && !this.myParty(c).joined_at));
    if (waiting && Date.now() - this.lastRing >= RING_EVERY_MS) {
      if (sound.playRing && sound.playRing()) {
        this.lastRing = Date.now();
        this.c.hooks.callRings += 1;
      }
    }
    if (this.cur && this.cur.mesh && !this.cur.ended) this.pollStats();
    if (this.cur) this.drawView();
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
    this.cur.error = err;
    this.drawView();
  }

  // ---- the call view ---------------------------------------------------------------------------
  async show(call, stream, t0) {
    this.endView(true);
    const me = call.me ?? (this.myParty(call) || {}).id;
    const cur = this.cur = {
      call, me, stream, t0, ended: false, muted: false, error: null, notice: null,
      held: undefined,         // unknown until the first update: it sets the caller's senders either way
      streams: new Map(),      // party id -> remote MediaStream (one video tile each)
      messages: new Map(),     // message id -> message
      media: new Map(),        // media id -> evidence file, newest first
      panel: null,             // "transfer" | "party" | null
      chatText: "", quality: { q: "none", text: T("q_none"), title: "" }, firstFrameAt: {}, statsBusy: false,
      snapping: false,
    };
    this.c.hooks.call = { id: call.id, me, peers: new Map(), incidentId: call.incident_id, status: call.status,
      state: "connecting", answeredAt: t0, firstFrameAt: cur.firstFrameAt, kind: call.kind };
    if (call.kind === "video") {
      if (!stream) cur.notice = "no_camera";
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
    this.c.view.hidden = false;
    document.body.classList.add("in-call");
    this.renderState();
    window.dispatchEvent(new Event("resize"));
    this.render();
    this.c.select(call.incident_id);
    this.loadChat(cur);
    this.loadEvidence(cur);
  }

  // The whole call view from this.cur: header, videos, chat, evidence, the transfer/add panel,
  // the buttons. Video elements are keyed by party, so a redraw never restarts a stream.
  drawView() {
    const cur = this.cur;
    if (!cur) return;
    const call = cur.call;
    const video = call.kind === "video";
    const view = this.c.view;
    view.dataset.callId = call.id;
    view.dataset.kind = call.kind;
    view.dataset.status = call.status;
    const state = this.c.hooks.call.state;
    const held = call.status === "held";
    const at = parseTime(call.answered_at);
    const end = cur.ended ? parseTime(call.ended_at) || cur.endedAt : now();
    const off = cur.ended;
    const btn = (testid, label, fn, cls = "", hide = false) => html`<button type="button" class="btn${cls}" data-testid=${testid}
      ?disabled=${off} ?hidden=${hide} @click=${fn}>${label}</button>`;
    const tiles = [...cur.streams];
    const messages = [...cur.messages.values()].sort((a, b) => a.id - b.id);
    render(html`<div class="chead">
        <b>${video ? "▶ " : "✉ "}<span>${T(video ? "video" : "text")}</span> #${call.incident_id}</b>
        ${call.silent ? html`<span class="cbadge">${T("silent")}</span>` : nothing}
        <span class="cstate" data-testid="call-state" data-state=${state}>${T(`st_${state}`)}</span>
        ${video ? html`<span class="cquality" data-testid="call-quality" data-quality=${off ? "none" : cur.quality.q}
          title=${cur.quality.title}>${off ? "" : cur.quality.text}</span>` : nothing}
        <span class="mono ctimer">${at ? elapsedText(end - at) : ""}</span>
      </div>
      <div class="cerror" data-testid="call-error" role="alert" data-code=${cur.error ? cur.error.code || "" : nothing}
        ?hidden=${!cur.error}>${cur.error ? errorText(cur.error) : ""}</div>
      <div class="cbody">
        ${video ? html`<div class="cmedia">
          <div class="cgrid" data-n=${String(tiles.length)}>${repeat(tiles, ([id]) => id, ([id, stream]) => this.tile(cur, id, stream))}</div>
          <div class="clocal-box"><video class="clocal" data-testid="call-local" autoplay playsinline .muted=${true}
            ${feed(cur.stream || null)}></video><span class="ctag">${T("me")}</span></div>
          <div class="cnotice" ?hidden=${!cur.notice}>${cur.notice ? T(cur.notice) : ""}</div>
        </div>` : nothing}
        <div class="cside${video ? "" : " wide"}">
          <div class="chat"><div class="ctitle">${T("chat")}</div>
            <div class="chat-list" data-testid="chat-list">${repeat(messages, (m) => m.id, (m) => this.message(cur, m))}</div>
            <div class="chat-bar"><input class="chat-input" data-testid="chat-input" maxlength="2000" placeholder=${T("chat_ph")}
              .value=${cur.chatText} @input=${(e) => { cur.chatText = e.target.value; }}
              @keydown=${(e) => { if (e.key === "Enter") this.sendChat(); }}><button type="button" class="btn btn-primary"
              data-testid="chat-send" @click=${() => this.sendChat()}>${T("send")}</button></div>
          </div>
          <div class="ev"><div class="ctitle"><span>${T("evidence")}</span> <small class="muted">${T("evidence_note")}</small></div>
            <div class="ev-list" data-testid="evidence-list">${cur.media.size
              ? repeat([...cur.media.values()], (m) => m.id, (m) => evidenceTpl(m)) : html`<div class="muted ev-empty">${T("no_evidence")}</div>`}</div>
          </div>
        </div>
      </div>
      <div class="cpanel" ?hidden=${!cur.panel || off}>${cur.panel === "transfer" ? this.transferPanel()
        : cur.panel === "party" ? this.partyPanel(cur) : nothing}</div>
      <div class="cbar">
        ${video ? html`<button type="button" class="btn${cur.muted ? " on" : ""}" data-testid="call-mute" aria-pressed=${String(cur.muted)}
          ?disabled=${off} @click=${() => this.toggleMute()}>${cur.muted ? T("unmute") : T("mute")}</button>` : nothing}
        ${btn("call-hold", T("hold"), () => this.act("hold"), "", held)}
        ${btn("call-resume", T("resume"), () => this.act("resume"), "", !held)}
        ${btn("call-transfer", T("transfer"), () => this.togglePanel("transfer"))}
        ${btn("call-add-party", T("add_party"), () => this.togglePanel("party"))}
        ${video ? html`<button type="button" class="btn" data-testid="call-snapshot" ?disabled=${off || cur.snapping}
          @click=${() => this.snapshot()}>${T("snapshot")}</button>` : nothing}
        <span class="spacer"></span>
        ${btn("call-hangup", T("hangup"), () => this.act("hangup"), " btn-danger", off)}
        <button type="button" class="btn" data-testid="call-close" ?hidden=${!off} @click=${() => this.endView(true)}>${T("close")}</button>
      </div>`, view);
  }

  tile(cur, id, stream) {
    const p = (cur.call.parties || []).find((x) => x.id === id);
    const role = p ? p.role : "";
    return html`<div class="ctile"><video class="cremote" data-testid="call-remote" autoplay playsinline data-party-id=${id}
      data-role=${role} ${feed(stream, (v) => this.watchFrames(cur, id, v))}></video><span class="ctag">${
      T(role) || role}${p && p.user ? ` · ${p.user.display_name}` : ""}</span></div>`;
  }

  // The first frame of each remote video (hooks.call.firstFrameAt: how long an answer takes to show).
  watchFrames(cur, id, video) {
    if (video.bjWatched) return;
    video.bjWatched = true;
    const mark = () => {
      if (!(id in cur.firstFrameAt)) cur.firstFrameAt[id] = Date.now();
    };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(mark);
    else video.addEventListener("loadeddata", mark, { once: true });
  }

  setRemote(cur, id, stream) {
    if (stream) cur.streams.set(id, stream);
    else cur.streams.delete(id);
    this.drawView();
    // Each new track (a renegotiation, a resume) starts playback again, as a user gesture would.
    const v = stream && this.c.view.querySelector(`[data-testid=call-remote][data-party-id="${id}"]`);
    if (v) v.play().catch(() => {});
  }

  updateCall(call) {
    const cur = this.cur;
    if (!cur) return;
    cur.call = { ...cur.call, ...call, ice_servers: cur.call.ice_servers, me: cur.me };
    this.c.hooks.call.status = call.status;
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
    this.renderState();
  }

  // The call ended (or I left it): media stops, the view says "ended" for a few seconds.
  finish() {
    const cur = this.cur;
    if (!cur || cur.ended) return;
    cur.ended = true;
    cur.endedAt = now();
    if (cur.mesh) cur.mesh.close();
    if (cur.stream) cur.stream.getTracks().forEach((t) => t.stop());
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
    this.drawView();
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
      render(nothing, this.c.view);
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
    this.c.hooks.call.state = state;
    this.drawView();
  }

  async pollStats() {
    const cur = this.cur;
    if (cur.statsBusy) return;
    cur.statsBusy = true;
    try {
      const st = await cur.mesh.stats();
      const q = quality(st);
      const vals = Object.values(st);
      const rtt = vals.map((s) => s.rtt).filter((x) => x !== null);
      const fps = vals.map((s) => s.fps);
      cur.quality = { q, title: JSON.stringify(st),
        text: `${T(`q_${q}`)}${rtt.length ? ` · ${Math.max(...rtt)} ms` : ""}${fps.length ? ` · ${Math.min(...fps)} fps` : ""}` };
      if (this.cur === cur) this.drawView();
    } finally {
      cur.statsBusy = false;
    }
  }

  toggleMute() {
    const cur = this.cur;
    if (!cur || !cur.mesh) return;
    cur.muted = !cur.muted;
    cur.mesh.setMuted(cur.muted);
    this.drawView();
  }

  togglePanel(which) {
    const cur = this.cur;
    cur.panel = cur.panel === which ? null : which;
    this.drawView();
  }

  // Transfer targets: there is no list of console users for a non-admin, so the operators the desk
  // has seen on calls are offered, plus a user id.
  transferPanel() {
    const seen = new Map();
    for (const c of this.calls.values()) {
      for (const party of c.parties || []) {
        if (party.role === "desk" && party.user && party.user.id !== this.myId()) seen.set(party.user.id, party.user);
      }
      if (c.operator && c.operator.id !== this.myId()) seen.set(c.operator.id, c.operator);
    }
    let typed = 0;
    return html`<div class="ctitle">${T("transfer_to")}</div>
      <div class="copts">${[...seen.values()].map((u) => html`<button type="button" class="btn btn-small" data-testid="transfer-option"
        data-user-id=${u.id} @click=${() => this.transfer(u.id)}>${u.display_name}</button>`)}</div>
      <div class="vinline"><input type="number" min="1" class="cid-input" data-testid="transfer-user-id" placeholder=${T("user_id")}
        @input=${(e) => { typed = Number(e.target.value); }}><button type="button" class="btn btn-small btn-primary"
        data-testid="transfer-submit" @click=${() => { if (typed > 0) this.transfer(typed); }}>${T("ok")}</button><button
        type="button" class="btn btn-small" data-testid="transfer-queue" @click=${() => this.transfer(null)}>${T("to_queue")}</button></div>`;
  }

  async transfer(userId) {
    const view = await this.act("transfer", { to_user_id: userId });
    if (view && this.cur) {
      this.cur.panel = null;
      this.drawView();
    }
  }

  // Who may be added: the members of units with an active assignment on the incident (the
  // backend's rule), plus a user id (a supervisor: there is no list of them for a non-admin).
  partyPanel(cur) {
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
    let typed = 0;
    return html`<div class="ctitle">${T("add_party")}</div>
      ${opts.length ? html`<div class="copts">${opts.map((o) => html`<button type="button" class="btn btn-small"
        data-testid="call-party-option" data-user-id=${o.id} data-role=${o.role} @click=${() => this.addParty(o.id, o.name)}>${o.name}</button>`)}</div>`
        : html`<div class="muted">${T("no_candidates")}</div>`}
      <div class="vinline"><input type="number" min="1" class="cid-input" placeholder=${T("user_id")}
        @input=${(e) => { typed = Number(e.target.value); }}><button type="button" class="btn btn-small btn-primary"
        data-testid="call-party-option" data-user-id="" data-role="id" @click=${() => { if (typed > 0) this.addParty(typed, `#${typed}`); }}>${
        T("ok")}</button></div>`;
  }

  async addParty(userId, name) {
    const view = await this.act("parties", { user_id: userId });
    if (view && this.cur) {
      this.cur.panel = null;
      this.drawView();
      this.c.toast(T("invite_sent", { name }));
    }
  }

  // A frame of the caller's video → JPEG → evidence.
  async snapshot() {
    const cur = this.cur;
    if (!cur) return;
    const caller = (cur.call.parties || []).find((p) => p.role === "caller" && !p.left_at);
    const v = caller && this.c.view.querySelector(`[data-testid=call-remote][data-party-id="${caller.id}"]`);
    if (!v || !v.videoWidth) return this.showError({ code: "no_video", message_zh: "还没有报警人的画面", message_en: "No video from the caller yet" });
    const canvas = document.createElement("canvas");
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext("2d").drawImage(v, 0, 0);
    const blob = await new Promise((res) => canvas.toBlob(res, "image/jpeg", 0.85));
    const form = new FormData();
    form.append("file", blob, `snapshot-${cur.call.id}-${Date.now()}.jpg`);
    cur.snapping = true;
    this.drawView();
    try {
      const res = await fetch(`/api/calls/${cur.call.id}/snapshots`, { method: "POST", body: form, credentials: "same-origin" });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) return this.showError({ status: res.status, ...body });
      this.addMedia(body);
      this.c.toast(T("snap_done"));
    } finally {
      cur.snapping = false;
      if (this.cur === cur) this.drawView();
    }
  }

  // ---- chat and evidence -----------------------------------------------------------------------
  async loadChat(cur) {
    try {
      const res = await get(`/api/calls/${cur.call.id}/messages`);
      for (const m of res.messages || []) this.addMessage(m);
    } catch { /* shown when it arrives live */ }
  }

  message(cur, m) {
    const who = m.role === "caller" ? T("caller") : m.author || T(m.role);
    return html`<div class="chat-msg r-${m.role}${m.party_id === cur.me ? " mine" : ""}" data-testid="chat-message"
      data-role=${m.role} data-message-id=${m.id}><div class="chat-meta">${who} · ${clockText(m.at)}</div>
      ${m.text ? html`<div class="chat-text">${m.text}</div>` : nothing}${m.attachment ? mediaTpl(m.attachment) : nothing}</div>`;
  }

  addMessage(m) {
    const cur = this.cur;
    if (!cur || cur.messages.has(m.id)) return;
    cur.messages.set(m.id, m);
    if (m.attachment) this.addMedia(m.attachment);
    this.drawView();
    const list = this.c.view.querySelector("[data-testid=chat-list]");
    if (list) list.scrollTop = list.scrollHeight;
  }

  async sendChat() {
    const cur = this.cur;
    if (!cur || cur.ended) return;
    const text = cur.chatText.trim();
    if (!text) return;
    try {
      const m = await post(`/api/calls/${cur.call.id}/messages`, { text });
      cur.chatText = "";
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
    cur.media = new Map([[m.id, m], ...cur.media]);
    this.drawView();
  }
}
