// The caller page's test hook, window.baojing (docs/caller-page.md): read-only copies of the
// page's state. app.js loads it only under automation (navigator.webdriver).
import { getLang } from "../shared/lang.js";
import { store } from "./net.js";

const copy = (v) => JSON.parse(JSON.stringify(v));

// page() -> the page's own objects, as they are now.
export function install(page) {
  Object.defineProperty(window, "baojing", {
    value: Object.freeze({
      get outbox() { return copy(page().outbox.items); },
      get state() {
        const { outbox, mine, alarms, stage, locator, live, dials } = page();
        return copy({
          lang: getLang(), device: store.get("device", null), terms: store.get("terms", null), mine,
          alarms: Array.from(alarms.values()), stage, geo: { error: locator.error, last: locator.last },
          live, outbox: outbox.state(), dials,
        });
      },
      get call() {
        const { callMod } = page();
        return callMod ? callMod.hook() : null;
      },
    }),
  });
}
