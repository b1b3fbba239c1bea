// Keeps the caller's page itself available when the network is bad or gone: files come from the
// network when it answers within 3 s, else from the copy kept here. The API and the live socket
// are never touched: alarms wait in the page's own outbox (localStorage) instead.

const CACHE = "baojing-m-v4";
const CORE = ["./", "app.css", "app.js", "i18n.js", "i18n-en.js", "net.js", "outbox.js", "locate.js", "picker.js",
  "call.js", "callwords.js", "chat.js", "rating.js", "call.css", "../shared/live.js", "../shared/rtc.js", "../shared/lang.js", "../shared/limit.js",
  "../shared/dom.js", "../shared/time.js", "../shared/distance.js", "../shared/phone.js"];
const KEEP = /^\/(m|shared|vendor\/leaflet)\//;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(CORE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || !KEEP.test(url.pathname)) return;
  event.respondWith(fromNetworkOrCache(req));
});

function fromNetworkOrCache(req) {
  const network = fetch(req).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((c) => c.put(req, copy));
    }
    return res;
  });
  const slow = new Promise((resolve) => setTimeout(resolve, 3000));
  const cached = () => caches.match(req, { ignoreSearch: true });
  return Promise.race([network, slow.then(cached)])
    .then((res) => res || network)
    .catch(() => cached().then((res) => res || network));
}
