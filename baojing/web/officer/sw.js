// Officer page service worker: only so Android Chrome can show dispatch notifications
// (it refuses `new Notification()` on a page). No caching: the page must always be current.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("notificationclick", (e) => {
  e.notification.close();
  e.waitUntil((async () => {
    const all = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const page = all.find((c) => new URL(c.url).pathname.startsWith("/officer/"));
    if (page) return page.focus();
    return self.clients.openWindow("/officer/");
  })());
});
