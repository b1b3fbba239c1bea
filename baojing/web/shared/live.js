// Live event stream over /ws: reconnects by itself and resumes from the last sequence seen,
// so a dropped connection costs latency, never an event. See docs/api.md.

// onMessage(m): every other message type ("signal", "call.state", …) and errors that carry a call_id.
export function connectLive({ since, deviceToken = null, onEvent, onResync, onState, onLive, onMessage }) {
  let lastSeq = since ?? null;
  let socket = null;
  let retry = 0;
  let watchdog = null;
  let stopped = false;

  const state = (s) => onState && onState(s);

  function armWatchdog() {
    clearTimeout(watchdog);
    // The server pings every 15 s; silence past 35 s means a dead link the browser has not noticed.
    watchdog = setTimeout(() => socket && socket.close(), 35000);
  }

  function open() {
    if (stopped) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${proto}//${location.host}/ws`);
    state("connecting");
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "hello", since: lastSeq, device_token: deviceToken }));
      armWatchdog();
    };
    socket.onmessage = (msg) => {
      armWatchdog();
      const m = JSON.parse(msg.data);
      if (m.type === "ready") {
        retry = 0;
        if (lastSeq === null) lastSeq = m.seq;
        state("live");
      } else if (m.type === "event") {
        if (lastSeq !== null && m.seq <= lastSeq) return;
        lastSeq = m.seq;
        onEvent(m.name, m.data, m.seq);
      } else if (m.type === "live") {
        // Current state not worth replaying (units moving): no sequence number.
        onLive && onLive(m.name, m.data);
      } else if (m.type === "resync") {
        lastSeq = m.seq;
        onResync && onResync(m.seq);
      } else if (m.type === "error") {
        if (m.call_id !== undefined && m.call_id !== null) {
          onMessage && onMessage(m);
          return;
        }
        state(m.code === "unauthorized" ? "unauthorized" : "error");
        if (m.code === "unauthorized" || m.code === "forbidden") stopped = true;
      } else if (m.type !== "ping") {
        onMessage && onMessage(m);
      }
    };
    socket.onclose = () => {
      clearTimeout(watchdog);
      if (stopped) return;
      state("offline");
      const delay = Math.min(10000, 500 * 2 ** retry) * (0.7 + Math.random() * 0.6);
      retry += 1;
      setTimeout(open, delay);
    };
  }

  open();
  return {
    get seq() { return lastSeq; },
    // Send a message on the open socket (an officer's AVL fixes); false when not connected.
    send(obj) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(obj));
      return true;
    },
    setSeq(seq) { lastSeq = seq; },
    // Drop the socket now (tests and "reconnect" buttons); it comes back by itself.
    drop() { socket && socket.close(); },
    stop() { stopped = true; clearTimeout(watchdog); socket && socket.close(); },
  };
}
