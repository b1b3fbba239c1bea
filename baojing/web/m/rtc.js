// WebRTC for the caller's video alarm (docs/api.md, "Signalling over /ws"): one RTCPeerConnection
// per other party (a mesh), and one more, send-only, to the server's "recorder" when the call is
// recorded. In each pair the party with the larger id offers and restarts ICE; the other answers
// and, while its connection is down, tells the others `call.state: reconnecting`.

const RETRY_CODES = ["unknown_call", "not_a_party", "peer_offline", "recorder_busy", "recorder_failed", "internal"];

export function createMesh({ callId, me, ice, send, stream, recording, onChange }) {
  const peers = new Map(); // party id -> RTCPeerConnection (window.baojing.call.peers)
  const info = new Map(); // party id | "recorder" -> {pc, pending, stream, down, remoteDown, timer, stats}
  const outbox = []; // signals waiting for the socket
  let closed = false;
  let recTries = 0;
  let recTimer = 0;
  const changed = () => onChange && onChange();

  function post(msg) {
    if (closed) return;
    if (outbox.length || !send(msg)) outbox.push(msg);
  }
  function flush() {
    while (outbox.length && send(outbox[0])) outbox.shift();
  }
  const sig = (to, data, id) => post(Object.assign({ type: "signal", call_id: callId, to, data }, id ? { id } : {}));
  const offerer = (remote) => remote === "recorder" || me > remote;

  function make(remote) {
    const pc = new RTCPeerConnection({ iceServers: ice || [] });
    const e = { pc, pending: [], stream: null, down: false, remoteDown: false, timer: 0, stats: null, said: null };
    info.set(remote, e);
    if (remote !== "recorder") peers.set(remote, pc);
    for (const track of stream ? stream.getTracks() : []) {
      if (remote === "recorder") pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      else pc.addTrack(track, stream);
    }
    pc.onicecandidate = (ev) => sig(remote, { candidate: ev.candidate && ev.candidate.candidate ? ev.candidate.toJSON() : null });
    pc.ontrack = (ev) => {
      if (!e.stream) e.stream = ev.streams && ev.streams[0] ? ev.streams[0] : new MediaStream();
      if (!e.stream.getTracks().includes(ev.track)) e.stream.addTrack(ev.track);
      changed();
    };
    pc.onconnectionstatechange = () => watch(remote, e);
    pc.oniceconnectionstatechange = () => watch(remote, e);
    return e;
  }

  function say(remote, e, state) {
    // Only the answering side says it; the offering side restarts.
    if (offerer(remote) || e.said === state) return;
    e.said = state;
    post({ type: "call.state", call_id: callId, state });
  }

  function watch(remote, e) {
    if (closed || info.get(remote) !== e) return;
    const s = e.pc.connectionState || e.pc.iceConnectionState;
    const up = s === "connected" || s === "completed";
    const down = s === "disconnected" || s === "failed";
    if (up && e.down) {
      e.down = false;
      clearTimeout(e.timer);
      say(remote, e, "connected");
    } else if (down && !e.down) {
      e.down = true;
      say(remote, e, "reconnecting");
      if (offerer(remote)) restartLater(remote, e, s === "failed" ? 0 : 2000);
    } else if (s === "failed" && offerer(remote)) restartLater(remote, e, 0);
    changed();
  }

  function restartLater(remote, e, ms) {
    clearTimeout(e.timer);
    e.timer = setTimeout(() => {
      if (closed || info.get(remote) !== e || !e.down) return;
      offer(remote, true);
      restartLater(remote, e, 6000); // until it is back
    }, ms);
  }

  async function offer(remote, restart) {
    const e = info.get(remote) || make(remote);
    try {
      if (e.pc.signalingState !== "stable" && restart) await e.pc.setLocalDescription({ type: "rollback" });
      await e.pc.setLocalDescription(await e.pc.createOffer(restart ? { iceRestart: true } : undefined));
      const d = e.pc.localDescription;
      sig(remote, { sdp: { type: d.type, sdp: d.sdp } }, remote === "recorder" ? "rec" : undefined);
    } catch (err) {
      console.warn("offer failed", remote, err);
    }
  }

  async function drain(e) {
    const list = e.pending;
    e.pending = [];
    for (const c of list) await e.pc.addIceCandidate(c).catch(() => {});
  }

  // A signal from another party or the recorder.
  async function signal(from, data) {
    if (closed || !data) return;
    let e = info.get(from);
    try {
      if (data.sdp && data.sdp.type === "offer") {
        if (from === "recorder") return;
        if (!e) e = make(from);
        await e.pc.setRemoteDescription(data.sdp); // rolls back our own offer if we had one out
        await drain(e);
        await e.pc.setLocalDescription(await e.pc.createAnswer());
        const d = e.pc.localDescription;
        sig(from, { sdp: { type: d.type, sdp: d.sdp } });
      } else if (data.sdp && data.sdp.type === "answer") {
        if (e && e.pc.signalingState === "have-local-offer") {
          await e.pc.setRemoteDescription(data.sdp);
          await drain(e);
          if (from === "recorder") recTries = 0;
        }
      } else if (data.candidate && e) {
        if (e.pc.remoteDescription) await e.pc.addIceCandidate(data.candidate).catch(() => {});
        else e.pending.push(data.candidate);
      }
    } catch (err) {
      console.warn("signal failed", from, err);
    }
    changed();
  }

  function recorderStart() {
    if (!recording || closed || !stream) return;
    const old = info.get("recorder");
    if (old) {
      clearTimeout(old.timer);
      old.pc.close();
      info.delete("recorder");
    }
    offer("recorder", false);
  }

  // An error frame on our socket about this call.
  function error(m) {
    if (m.id === "rec" && RETRY_CODES.includes(m.code) && recTries < 20) {
      // The server may not have our call in its roster yet, or our socket was reconnecting.
      recTries += 1;
      clearTimeout(recTimer);
      recTimer = setTimeout(recorderStart, Math.min(10000, 1000 * recTries));
    }
  }

  // The parties present now (CallerCallOut.parties): offer to those who joined before us, drop
  // those who left.
  // Only a party marked as left is dropped: an offer can overtake the event that says its sender
  // joined.
  function sync(parties) {
    for (const p of parties || []) {
      if (p.id === me) continue;
      if (p.left) drop(p.id);
      else if (p.joined && !info.has(p.id) && offerer(p.id)) offer(p.id, false);
    }
    changed();
  }

  function drop(id) {
    const e = info.get(id);
    if (!e) return;
    clearTimeout(e.timer);
    e.pc.close();
    info.delete(id);
    peers.delete(id);
  }

  function remoteState(from, state) {
    const e = info.get(from);
    if (e) e.remoteDown = state === "reconnecting";
    changed();
  }

  // The camera changed (front/back): the same sender everywhere gets the new track.
  async function replace(kind, track) {
    for (const e of info.values()) {
      for (const s of e.pc.getSenders()) {
        if (s.track ? s.track.kind === kind : false) await s.replaceTrack(track).catch(() => {});
      }
    }
  }

  // good | fair | poor | unknown, from round-trip time and packet loss, the worst party counts.
  async function quality() {
    const levels = [];
    for (const [id, e] of info) {
      if (id === "recorder" || e.down) {
        if (e.down && id !== "recorder") levels.push(2);
        continue;
      }
      const s = e.pc.connectionState;
      if (s !== "connected") continue;
      let rtt = null;
      let lost = 0;
      let got = 0;
      let remoteLoss = null;
      const report = await e.pc.getStats().catch(() => null);
      if (!report) continue;
      report.forEach((r) => {
        if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded" && r.currentRoundTripTime != null) rtt = r.currentRoundTripTime;
        if (r.type === "inbound-rtp") {
          lost += r.packetsLost || 0;
          got += r.packetsReceived || 0;
        }
        if (r.type === "remote-inbound-rtp" && r.fractionLost != null) remoteLoss = Math.max(remoteLoss || 0, r.fractionLost);
      });
      const prev = e.stats || { lost: 0, got: 0 };
      e.stats = { lost, got };
      const dl = lost - prev.lost;
      const dg = got - prev.got;
      let loss = dl + dg > 0 ? Math.max(0, dl) / (dl + dg) : 0;
      if (remoteLoss != null) loss = Math.max(loss, remoteLoss);
      const noMedia = dg <= 0 && prev.got > 0; // nothing arrived since last time
      if (noMedia || (rtt != null && rtt > 0.6) || loss > 0.08) levels.push(2);
      else if ((rtt != null && rtt > 0.25) || loss > 0.03) levels.push(1);
      else levels.push(0);
    }
    return levels.length ? ["good", "fair", "poor"][Math.max(...levels)] : "unknown";
  }

  function close() {
    closed = true;
    clearTimeout(recTimer);
    for (const e of info.values()) {
      clearTimeout(e.timer);
      e.pc.close();
    }
    info.clear();
    peers.clear();
  }

  return {
    peers,
    signal, sync, error, remoteState, replace, quality, close, flush,
    recorderStart,
    // Remote parties with what the screen needs: [{id, stream, down}]
    remotes() {
      return Array.from(info.entries()).filter(([id]) => id !== "recorder")
        .map(([id, e]) => ({ id, stream: e.stream, down: e.down || e.remoteDown }));
    },
    get reconnecting() {
      return Array.from(info.entries()).some(([id, e]) => id !== "recorder" && (e.down || e.remoteDown));
    },
    get recorderState() {
      const e = info.get("recorder");
      return e ? e.pc.connectionState : "none";
    },
  };
}
