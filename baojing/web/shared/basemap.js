// The map's background tiles from /api/config `map` ({tiles, url, subdomains, attribution}).
// With tiles "none" (tests, machines without internet) there are none: returns false, and the
// page shows its own plain background.

import { esc } from "/shared/dom.js";

export function addBaseTiles(map, cfg) {
  if (!cfg || !cfg.tiles || cfg.tiles === "none" || !cfg.url) return false;
  L.tileLayer(cfg.url, {
    subdomains: cfg.subdomains && cfg.subdomains.length ? cfg.subdomains : "abc",
    attribution: esc(cfg.attribution || ""), maxZoom: 18, minZoom: 3,
  }).addTo(map);
  return true;
}
