// Live event stream over /ws: reconnects by itself and resumes from the last sequence seen,
// so a dropped connection costs latency, never an event. Frames are routed by type (docs/api.md).

// Errors that end the session: the server closes the socket after them.
const FATAL = new Set(["unauthorized", "forbidden", "bad_hello"]);

export function connectLive({ since, deviceToken = null, onEvent, onResync, onState, onLive, onMessage }) {
  let lastSeq = since ?? null;
  let socket = null;
  let retry = 0;
  let watchdog = null;
  let stopped = false;

  const state = (s) => onState && onState(s);
  const other = (m) => (onMessage ? onMessage(m) : console.warn("live: unhandled", m.type));

  const FRAMES = {
    ready(m) { retry = 0; lastSeq ??= m.seq; state("live"); },
    event(m) {
      if (lastSeq !== null && m.seq <= lastSeq) return;
      lastSeq = m.seq;
      onEvent(m.name, m.data, m.seq);
    },
    // Current state not worth replaying (units moving): no sequence number.
    live(m) { onLive && onLive(m.name, m.data); },
    resync(m) { lastSeq = m.seq; onResync && onResync(m.seq); },
    ping() {},
    error(m) {
      if (!FATAL.has(m.code)) return other(m);  // about one message (a call's signal, a bad frame)
      state(m.code === "unauthorized" ? "unauthorized" : "error");
      stopped = true;
    },
  };

  function armWatchdog() {
    clearTimeout(watchdog);
    // The server pings every 15 s; silence past 35 s means a dead link the browser has not noticed.
    watchdog = setTimeout(() => socket && socket.close(), 35000);
  }

  function receive(data) {
    let m = null;
    try { m = JSON.parse(data); } catch { /* reported below */ }
    if (!m || typeof m.type !== "string") return console.warn("live: not a typed JSON frame");
    (Object.hasOwn(FRAMES, m.type) ? FRAMES[m.type] : other)(m);
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
      receive(msg.data);
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
    // Drop the socket now; it comes back by itself.
    drop() { socket && socket.close(); },
    stop() { stopped = true; clearTimeout(watchdog); socket && socket.close(); },
  };
}
