// The WebRTC mesh of one video call, for every page that takes part: the caller's video alarm,
// the console's video desk and the officer's join. Contract: docs/api.md, "Signalling over /ws".
//
// One RTCPeerConnection per other present, joined party. In each pair the party with the larger
// id offers (and restarts ICE); the other answers. Signals go over the app's /ws:
//   {type: "signal", call_id, to, id, data: {sdp} | {candidate}} — `id` ("s<peer>.<n>") is echoed
//   in an error, so a refused offer (the peer not connected yet, the roster not updated yet) is
//   retried with a fresh connection.
// call.state "reconnecting" / "connected" is sent while a connection is down / back.
// The caller of a recorded call also offers a send-only connection to the server's "recorder"
// (signal id "rec"); a refused one is offered again, and a new offer starts a new segment.
// Signals that cannot go out (the socket is reconnecting) wait and go in order once it is back.
//
// new Mesh({callId, me, iceServers, send(obj) -> bool, stream (local MediaStream or null),
//           recording (offer to the recorder), sendsAudioTo(party) -> bool,
//           onRemote(partyId, MediaStream|null), onChange()})
//   .setParties(parties)        connect to the present joined parties, drop those who left (the
//                               caller's {id, joined, left} and the staff's {id, joined_at, left_at})
//   .onMessage(m)               a "signal", "call.state" or "error" frame from /ws for this call
//   .peers                      Map<partyId, RTCPeerConnection> (window.baojing.call.peers)
//   .remotes()                  [{id, stream, down}] for drawing one tile per party
//   .state()                    "connecting" | "active" | "reconnecting"
//   .setMuted(bool), .pauseTo(partyId, bool) (hold), .replaceTrack(kind, track) (camera switch),
//   .stats() -> {partyId: {...}}, .flush(), .close()

const RETRY_CODES = new Set(["not_a_party", "unknown_party", "peer_offline"]);
// The recorder may not have the call in its roster yet, or our socket was reconnecting.
const RECORDER_RETRY = new Set(["unknown_call", "not_a_party", "peer_offline", "recorder_busy", "recorder_failed", "internal"]);
const MAX_WAITING = 500;

// An empty candidate string is the end of candidates in some browsers: say it as null.
const candidateOf = (e) => (e.candidate && e.candidate.candidate ? e.candidate.toJSON() : null);
const sdpOf = (pc) => ({ sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });

export class Mesh {
  constructor({ callId, me, iceServers, send, stream, recording, sendsAudioTo, onRemote, onChange }) {
    Object.assign(this, { callId, me, stream, onRemote, onChange });
    this.sendNow = send;
    this.iceServers = iceServers || [];
    this.recording = Boolean(recording);
    this.sendsAudioTo = sendsAudioTo || (() => true);
    this.peers = new Map();      // partyId -> RTCPeerConnection (the hook)
    this.info = new Map();       // partyId -> {pc, party, remote, queue, tries, timer, down, paused}
    this.remoteState = new Map(); // partyId -> "reconnecting" | "connected" (their call.state)
    this.rec = null;             // {pc, tries, timer}: the connection to the recorder
    this.waiting = [];           // signals the socket did not take yet
    this.flushTimer = null;
    this.closed = false;
    this.n = 0;
    this.muted = false;
    if (this.recording) this.startRecorder();
  }

  changed() {
    this.onChange && this.onChange();
  }

  send(msg) {
    if (this.closed) return;
    if (this.waiting.length >= MAX_WAITING) this.waiting.shift();
    this.waiting.push(msg);
    this.flush();
  }

  flush() {
    while (this.waiting.length && this.sendNow(this.waiting[0])) this.waiting.shift();
    clearTimeout(this.flushTimer);
    if (this.waiting.length && !this.closed) this.flushTimer = setTimeout(() => this.flush(), 1000);
  }

  setParties(parties) {
    if (this.closed) return;
    for (const p of parties || []) {
      if (p.id === this.me) continue;
      // An offer can overtake the event that says its sender joined: only "left" drops a party.
      if (p.left_at || p.left) {
        this.drop(p.id);
        continue;
      }
      if (!(p.joined_at || p.joined)) continue;
      const x = this.info.get(p.id);
      if (x) x.party = p;
      else if (this.me > p.id) this.connect(p.id, p);
      else this.entry(p.id, p);  // wait for their offer
    }
    this.changed();
  }

  entry(id, party) {
    let x = this.info.get(id);
    if (!x) {
      x = { pc: null, party, remote: new MediaStream(), queue: [], tries: 0, timer: null, down: null, paused: false,
            wasUp: false };
      this.info.set(id, x);
    }
    return x;
  }

  newPc(id) {
    const x = this.info.get(id);
    if (x.pc) { try { x.pc.close(); } catch { /* closed */ } }
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    x.pc = pc;
    x.queue = [];
    x.remote = new MediaStream();
    this.peers.set(id, pc);
    pc.onicecandidate = (e) => {
      if (x.pc === pc) this.signal(id, { candidate: candidateOf(e) });
    };
    pc.ontrack = (e) => {
      if (x.pc !== pc) return;
      for (const t of x.remote.getTracks()) if (t.kind === e.track.kind) x.remote.removeTrack(t);
      x.remote.addTrack(e.track);
      this.onRemote && this.onRemote(id, x.remote);
      this.changed();
    };
    pc.onconnectionstatechange = () => this.watch(id, pc);
    pc.oniceconnectionstatechange = () => this.watch(id, pc);
    return pc;
  }

  // What I send to this party: my tracks, and receive-only transceivers for what I do not send,
  // so that the other side can always send me both.
  addMedia(id, pc, offering) {
    const x = this.info.get(id);
    const tracks = this.stream ? this.stream.getTracks() : [];
    for (const kind of ["audio", "video"]) {
      const track = tracks.find((t) => t.kind === kind);
      const send = track && (kind === "video" || this.sendsAudioTo(x.party)) && !x.paused;
      if (send) pc.addTrack(track, this.stream);
      else if (offering) pc.addTransceiver(kind, { direction: "recvonly" });
    }
  }

  async connect(id, party, restart = false) {
    if (this.closed) return;
    const x = this.entry(id, party);
    clearTimeout(x.timer);
    x.timer = null;
    let pc = x.pc;
    if (!pc || !restart || pc.signalingState === "closed") {
      pc = this.newPc(id);
      this.addMedia(id, pc, true);
    }
    try {
      if (restart && pc.signalingState !== "stable") await pc.setLocalDescription({ type: "rollback" });
      const offer = await pc.createOffer(restart ? { iceRestart: true } : {});
      if (x.pc !== pc) return;
      await pc.setLocalDescription(offer);
      this.signal(id, sdpOf(pc));
    } catch (err) {
      console.warn("offer failed", id, err);
      this.retry(id);
    }
    this.changed();
  }

  retry(id, ms) {
    const x = this.info.get(id);
    if (!x || this.closed) return;
    x.tries += 1;
    clearTimeout(x.timer);
    const wait = ms ?? Math.min(5000, 300 * 2 ** Math.min(x.tries, 4));
    if (this.me > id) x.timer = setTimeout(() => { x.timer = null; this.connect(id, x.party); }, wait);
  }

  signal(to, data) {
    this.n += 1;
    this.send({ type: "signal", call_id: this.callId, to, id: `s${to}.${this.n}`, data });
  }

  drop(id) {
    const x = this.info.get(id);
    if (!x) return;
    clearTimeout(x.timer);
    clearTimeout(x.down);
    if (x.pc) { try { x.pc.close(); } catch { /* closed */ } }
    this.info.delete(id);
    this.peers.delete(id);
    this.remoteState.delete(id);
    this.onRemote && this.onRemote(id, null);
  }

  watch(id, pc) {
    const x = this.info.get(id);
    if (!x || x.pc !== pc || this.closed) return;
    const s = pc.iceConnectionState;
    if (s === "connected" || s === "completed") {
      clearTimeout(x.down);
      x.down = null;
      x.tries = 0;
      if (x.reconnecting) this.sendState("connected");
      x.reconnecting = false;
      x.wasUp = true;
    } else if (s === "failed" || (s === "disconnected" && x.wasUp)) {
      if (!x.reconnecting) this.sendState("reconnecting");
      x.reconnecting = true;
      // The offerer restarts ICE: at once on "failed", after 2 s of "disconnected".
      if (this.me > id && !x.down) this.restartLater(id, x, pc, s === "failed" ? 0 : 2000);
    }
    this.changed();
  }

  restartLater(id, x, pc, ms) {
    x.down = setTimeout(() => {
      x.down = null;
      if (x.pc !== pc || this.closed) return;
      if (pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed") return;
      this.connect(id, x.party, true);
      this.restartLater(id, x, pc, 6000); // again until it is back
    }, ms);
  }

  sendState(state) {
    this.send({ type: "call.state", call_id: this.callId, state });
  }

  async onMessage(m) {
    if (this.closed || !m || m.call_id !== this.callId) return;
    if (m.type === "call.state") {
      this.remoteState.set(m.from, m.state);
      this.changed();
      return;
    }
    if (m.type === "error") {
      if (m.id === "rec") return this.recorderRefused(m);
      const to = /^s(\d+)\./.exec(String(m.id || ""));
      if (to && RETRY_CODES.has(m.code)) {
        const id = Number(to[1]);
        const x = this.info.get(id);
        // Only the refused offer matters (candidates follow it); retry once per burst.
        if (x && this.me > id && !x.timer) this.retry(id);
      }
      return;
    }
    if (m.type !== "signal") return;
    if (m.from === "recorder") return this.fromRecorder(m.data || {});
    if (typeof m.from !== "number") return;
    const id = m.from;
    const data = m.data || {};
    let x = this.info.get(id);
    if (data.sdp && data.sdp.type === "offer") {
      if (!x) x = this.entry(id, { id });
      await this.answer(id, x, data.sdp);
    } else if (data.sdp && x && x.pc) {
      try {
        await x.pc.setRemoteDescription(data.sdp);
        await this.flushCandidates(x);
      } catch (err) {
        console.warn("answer refused", id, err);
        this.retry(id, 0);   // a new session on their side (a reload): start afresh
      }
    } else if ("candidate" in data && x && x.pc) {
      if (!x.pc.remoteDescription) x.queue.push(data.candidate);
      else await this.addCandidate(x.pc, data.candidate);
    }
    this.changed();
  }

  async answer(id, x, sdp) {
    let pc = x.pc;
    const fp = (text) => (/a=fingerprint:\S+ (\S+)/.exec(text || "") || [])[1];
    // No connection yet, or an offer from a new session of theirs (their page reloaded): a new one.
    if (!pc || pc.signalingState === "closed" || (pc.remoteDescription && fp(pc.remoteDescription.sdp) !== fp(sdp.sdp))) {
      pc = this.newPc(id);
    }
    try {
      await pc.setRemoteDescription(sdp);
    } catch (err) {
      pc = this.newPc(id);
      await pc.setRemoteDescription(sdp);
    }
    if (pc.getSenders().every((s) => !s.track)) this.addMedia(id, pc, false);
    await pc.setLocalDescription(await pc.createAnswer());
    this.signal(id, sdpOf(pc));
    await this.flushCandidates(x);
    this.changed();
  }

  async flushCandidates(x) {
    const q = x.queue;
    x.queue = [];
    for (const c of q) await this.addCandidate(x.pc, c);
  }

  async addCandidate(pc, c) {
    try {
      await pc.addIceCandidate(c || null);
    } catch (err) {
      console.warn("candidate refused", err);
    }
  }

  // ---- the recorder: a send-only connection the server answers as "recorder" ----

  startRecorder() {
    if (!this.recording || this.closed || !this.stream) return;
    const tries = this.rec ? this.rec.tries : 0;
    if (this.rec) {
      clearTimeout(this.rec.timer);
      try { this.rec.pc.close(); } catch { /* closed */ }
    }
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const rec = (this.rec = { pc, tries, timer: null });
    for (const track of this.stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] });
    pc.onicecandidate = (e) => {
      if (this.rec === rec) this.send({ type: "signal", call_id: this.callId, to: "recorder", data: { candidate: candidateOf(e) } });
    };
    pc.createOffer()
      .then((offer) => pc.setLocalDescription(offer))
      .then(() => {
        if (this.rec === rec && !this.closed) this.send({ type: "signal", call_id: this.callId, to: "recorder", id: "rec", data: sdpOf(pc) });
      })
      .catch((err) => console.warn("recorder offer failed", err));
  }

  async fromRecorder(data) {
    const rec = this.rec;
    if (!rec) return;
    try {
      if (data.sdp && data.sdp.type === "answer" && rec.pc.signalingState === "have-local-offer") {
        await rec.pc.setRemoteDescription(data.sdp);
        rec.tries = 0;
      } else if (data.candidate !== undefined && rec.pc.remoteDescription) {
        await this.addCandidate(rec.pc, data.candidate);
      }
    } catch (err) {
      console.warn("recorder answer refused", err);
    }
  }

  recorderRefused(m) {
    const rec = this.rec;
    if (!rec || !RECORDER_RETRY.has(m.code) || rec.tries >= 20) return;
    rec.tries += 1;
    clearTimeout(rec.timer);
    rec.timer = setTimeout(() => this.startRecorder(), Math.min(10000, 1000 * rec.tries));
  }

  get recorderState() {
    return this.rec ? this.rec.pc.connectionState : "none";
  }

  // ---- what the screens show and do ----

  remotes() {
    return [...this.info].map(([id, x]) => ({
      id, stream: x.pc ? x.remote : null, down: Boolean(x.reconnecting) || this.remoteState.get(id) === "reconnecting",
    }));
  }

  state() {
    let any = false;
    let up = true;
    for (const [id, x] of this.info) {
      any = true;
      if (x.reconnecting || this.remoteState.get(id) === "reconnecting") return "reconnecting";
      const s = x.pc ? x.pc.iceConnectionState : "new";
      if (s !== "connected" && s !== "completed") up = false;
    }
    return any && up ? "active" : "connecting";
  }

  setMuted(muted) {
    this.muted = muted;
    if (this.stream) for (const t of this.stream.getAudioTracks()) t.enabled = !muted;
  }

  // Hold: stop sending my media to one party (and start again), without renegotiating.
  async pauseTo(id, paused) {
    const x = this.info.get(id);
    if (!x) return;
    x.paused = paused;
    if (!x.pc || !this.stream) return;
    for (const sender of x.pc.getSenders()) {
      const kind = sender.track ? sender.track.kind : sender._bjKind;
      if (!kind) continue;
      sender._bjKind = kind;
      const track = this.stream.getTracks().find((t) => t.kind === kind);
      try { await sender.replaceTrack(paused ? null : track); } catch { /* closed */ }
    }
  }

  // The camera changed (front/back): every sender of that kind, the recorder's too, takes the new
  // track without renegotiating; a party on hold stays paused.
  async replaceTrack(kind, track) {
    const jobs = [];
    for (const x of this.info.values()) {
      if (!x.pc) continue;
      for (const s of x.pc.getSenders()) {
        if ((s.track ? s.track.kind : s._bjKind) !== kind) continue;
        s._bjKind = kind;
        if (!x.paused) jobs.push(s.replaceTrack(track).catch(() => {}));
      }
    }
    if (this.rec) {
      for (const s of this.rec.pc.getSenders()) if (s.track && s.track.kind === kind) jobs.push(s.replaceTrack(track).catch(() => {}));
    }
    await Promise.all(jobs);
  }

  // Per connected party, since the last call: round-trip time (ms), loss of what it sends me and
  // of what I send it (%), received kbps and fps, and whether anything arrived at all.
  async stats() {
    const out = {};
    for (const [id, x] of this.info) {
      if (!x.pc) continue;
      if (x.reconnecting) {
        out[id] = { rtt: null, loss: 100, kbps: 0, fps: 0, stalled: true };
        continue;
      }
      const ice = x.pc.iceConnectionState;
      if (ice !== "connected" && ice !== "completed") continue;
      let report;
      try { report = await x.pc.getStats(); } catch { continue; }
      const r = { rtt: null, loss: 0, kbps: 0, fps: 0, stalled: false };
      let lost = 0, got = 0, bytes = 0, remoteLoss = 0;
      report.forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && s.currentRoundTripTime !== undefined) {
          r.rtt = Math.round(s.currentRoundTripTime * 1000);
        } else if (s.type === "inbound-rtp") {
          lost += s.packetsLost || 0;
          got += s.packetsReceived || 0;
          bytes += s.bytesReceived || 0;
          if (s.kind === "video") r.fps = Math.round(s.framesPerSecond || 0);
        } else if (s.type === "remote-inbound-rtp" && s.fractionLost != null) {
          remoteLoss = Math.max(remoteLoss, s.fractionLost * 100);
        }
      });
      const now = performance.now();
      const prev = x.last || { lost: 0, got: 0, bytes, at: now };
      const dLost = Math.max(0, lost - prev.lost), dGot = got - prev.got;
      if (x.last) r.kbps = Math.round(((bytes - prev.bytes) * 8) / Math.max(1, now - prev.at));
      r.loss = Math.max(dLost + dGot > 0 ? Math.round((1000 * dLost) / (dLost + dGot)) / 10 : 0, remoteLoss);
      r.stalled = dGot <= 0 && prev.got > 0; // media stopped arriving since last time
      x.last = { lost, got, bytes, at: now };
      out[id] = r;
    }
    return out;
  }

  close() {
    this.closed = true;
    clearTimeout(this.flushTimer);
    this.waiting = [];
    for (const id of [...this.info.keys()]) this.drop(id);
    if (this.rec) {
      clearTimeout(this.rec.timer);
      try { this.rec.pc.close(); } catch { /* closed */ }
      this.rec = null;
    }
  }
}

// "good" | "fair" | "poor" | "none" for a stats() answer: the worst party counts.
export function quality(stats) {
  const all = Object.values(stats || {});
  if (!all.length) return "none";
  let worst = "good";
  for (const s of all) {
    const q = s.stalled || s.rtt > 600 || s.loss > 8 ? "poor" : s.rtt > 250 || s.loss > 3 ? "fair" : "good";
    if (q === "poor") return "poor";
    if (q === "fair") worst = "fair";
  }
  return worst;
}

// Camera and microphone; falls back to microphone only, then to nothing (receive only).
export async function localMedia() {
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return null;
  for (const c of [{ audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } }, { audio: true }]) {
    try { return await md.getUserMedia(c); } catch { /* try less */ }
  }
  return null;
}
