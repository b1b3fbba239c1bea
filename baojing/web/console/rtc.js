// The WebRTC mesh of one video call, for staff pages (the console's video desk and the officer's
// page import this file). Contract: docs/api.md, "Signalling over /ws".
//
// One RTCPeerConnection per other present, joined party. In each pair the party with the larger
// id offers (and restarts ICE); the other answers. Signals go over the app's /ws:
//   {type: "signal", call_id, to, id, data: {sdp} | {candidate}} — `id` ("s<peer>.<n>") is echoed
//   in an error, so a refused offer (the peer not connected yet, the roster not updated yet) is
//   retried with a fresh connection.
// call.state "reconnecting" / "connected" is sent while a connection is down / back.
//
// new Mesh({callId, me, iceServers, send(obj) -> bool, stream (local MediaStream or null),
//           sendsAudioTo(party) -> bool, onRemote(partyId, MediaStream|null), onChange()})
//   .setParties(CallOut.parties)   connect to the present joined parties, drop those who left
//   .onMessage(m)                  a "signal", "call.state" or "error" frame from /ws for this call
//   .peers                         Map<partyId, RTCPeerConnection> (window.baojing.call.peers)
//   .state()                       "connecting" | "active" | "reconnecting"
//   .setMuted(bool), .pauseTo(partyId, bool) (hold), .stats() -> {partyId: {...}}, .close()

const RETRY_CODES = new Set(["not_a_party", "unknown_party", "peer_offline"]);

export class Mesh {
  constructor({ callId, me, iceServers, send, stream, sendsAudioTo, onRemote, onChange }) {
    Object.assign(this, { callId, me, send, stream, onRemote, onChange });
    this.iceServers = iceServers || [];
    this.sendsAudioTo = sendsAudioTo || (() => true);
    this.peers = new Map();      // partyId -> RTCPeerConnection (the hook)
    this.info = new Map();       // partyId -> {pc, party, remote, queue, tries, timer, down, paused}
    this.remoteState = new Map(); // partyId -> "reconnecting" | "connected" (their call.state)
    this.closed = false;
    this.n = 0;
    this.muted = false;
  }

  setParties(parties) {
    if (this.closed) return;
    const present = new Map();
    for (const p of parties || []) {
      if (p.id !== this.me && p.joined_at && !p.left_at) present.set(p.id, p);
    }
    for (const id of [...this.info.keys()]) if (!present.has(id)) this.drop(id);
    for (const [id, p] of present) {
      const x = this.info.get(id);
      if (x) { x.party = p; continue; }
      if (this.me > id) this.connect(id, p);
      else this.entry(id, p);  // wait for their offer
    }
    this.onChange && this.onChange();
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
      if (x.pc !== pc) return;
      this.signal(id, { candidate: e.candidate ? e.candidate.toJSON() : null });
    };
    pc.ontrack = (e) => {
      if (x.pc !== pc) return;
      for (const t of x.remote.getTracks()) if (t.kind === e.track.kind) x.remote.removeTrack(t);
      x.remote.addTrack(e.track);
      this.onRemote && this.onRemote(id, x.remote);
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
    let pc = x.pc;
    if (!pc || !restart || pc.signalingState === "closed") {
      pc = this.newPc(id);
      this.addMedia(id, pc, true);
    }
    try {
      const offer = await pc.createOffer(restart ? { iceRestart: true } : {});
      if (x.pc !== pc) return;
      await pc.setLocalDescription(offer);
      this.signal(id, { sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
    } catch (err) {
      console.warn("offer failed", id, err);
      this.retry(id);
    }
    this.onChange && this.onChange();
  }

  retry(id, ms) {
    const x = this.info.get(id);
    if (!x || this.closed) return;
    x.tries += 1;
    clearTimeout(x.timer);
    const wait = ms ?? Math.min(5000, 300 * 2 ** Math.min(x.tries, 4));
    if (this.me > id) x.timer = setTimeout(() => this.connect(id, x.party), wait);
  }

  signal(to, data) {
    if (this.closed) return false;
    this.n += 1;
    return this.send({ type: "signal", call_id: this.callId, to, id: `s${to}.${this.n}`, data });
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
      if (this.me > id && !x.down) {
        x.down = setTimeout(() => {
          x.down = null;
          if (x.pc === pc && pc.iceConnectionState !== "connected" && pc.iceConnectionState !== "completed") {
            this.connect(id, x.party, true);
          }
        }, s === "failed" ? 0 : 2000);
      }
    }
    this.onChange && this.onChange();
  }

  sendState(state) {
    this.send({ type: "call.state", call_id: this.callId, state });
  }

  async onMessage(m) {
    if (this.closed || m.call_id !== this.callId) return;
    if (m.type === "call.state") {
      this.remoteState.set(m.from, m.state);
      this.onChange && this.onChange();
      return;
    }
    if (m.type === "error") {
      const to = /^s(\d+)\./.exec(String(m.id || ""));
      if (to && RETRY_CODES.has(m.code)) {
        const id = Number(to[1]);
        const x = this.info.get(id);
        // Only the refused offer matters (candidates follow it); retry once per burst.
        if (x && this.me > id && !x.timer) this.retry(id);
      }
      return;
    }
    if (m.type !== "signal" || typeof m.from !== "number") return;
    const id = m.from;
    const data = m.data || {};
    let x = this.info.get(id);
    if (data.sdp && data.sdp.type === "offer") {
      if (!x) x = this.entry(id, { id });
      await this.answer(id, x, data.sdp);
    } else if (data.sdp && x && x.pc) {
      try {
        await x.pc.setRemoteDescription(data.sdp);
        await this.flush(x);
      } catch (err) {
        console.warn("answer refused", id, err);
        this.retry(id, 0);   // a new session on their side (a reload): start afresh
      }
    } else if ("candidate" in data && x && x.pc) {
      if (!x.pc.remoteDescription) x.queue.push(data.candidate);
      else await this.addCandidate(x.pc, data.candidate);
    }
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
    this.signal(id, { sdp: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
    await this.flush(x);
    this.onChange && this.onChange();
  }

  async flush(x) {
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

  // Per party: round-trip time (ms), loss of received video (%), received kbps and fps.
  async stats() {
    const out = {};
    for (const [id, x] of this.info) {
      if (!x.pc) continue;
      let report;
      try { report = await x.pc.getStats(); } catch { continue; }
      const r = { rtt: null, loss: 0, kbps: 0, fps: 0 };
      let lost = 0, got = 0, bytes = 0;
      report.forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && s.currentRoundTripTime !== undefined) {
          r.rtt = Math.round(s.currentRoundTripTime * 1000);
        } else if (s.type === "inbound-rtp") {
          lost += s.packetsLost || 0;
          got += s.packetsReceived || 0;
          bytes += s.bytesReceived || 0;
          if (s.kind === "video") r.fps = Math.round(s.framesPerSecond || 0);
        }
      });
      const now = performance.now();
      if (x.lastBytes !== undefined) r.kbps = Math.round(((bytes - x.lastBytes) * 8) / Math.max(1, now - x.lastAt));
      x.lastBytes = bytes;
      x.lastAt = now;
      r.loss = got + lost > 0 ? Math.round((1000 * lost) / (got + lost)) / 10 : 0;
      out[id] = r;
    }
    return out;
  }

  close() {
    this.closed = true;
    for (const id of [...this.info.keys()]) this.drop(id);
  }
}

// "good" | "fair" | "poor" | "none" for a stats() answer.
export function quality(stats) {
  const all = Object.values(stats || {});
  if (!all.length) return "none";
  let worst = "good";
  for (const s of all) {
    const q = s.rtt === null ? "fair" : s.rtt > 600 || s.loss > 8 ? "poor" : s.rtt > 250 || s.loss > 2 ? "fair" : "good";
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
