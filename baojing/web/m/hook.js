// The caller page's test hook, window.baojing (docs/caller-page.md): read-only copies of the
// page's state. app.js loads it only under automation (navigator.webdriver).
const copy = (v) => JSON.parse(JSON.stringify(v));

export function install({ outbox, state, call }) {
  Object.defineProperty(window, "baojing", {
    value: Object.freeze({
      get outbox() { return copy(outbox.items); },
      get state() { return copy(state()); },
      get call() { return call(); },
    }),
  });
}
