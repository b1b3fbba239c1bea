// A Leaflet map as every page draws one. The app keeps positions in WGS-84; the tiles from
// /api/config `map` ({tiles, url, subdomains, attribution, crs}) may be drawn in GCJ-02 (AMap), so
// positions are shifted to the tiles' datum for drawing and clicked points shifted back. With
// tiles "none" (tests, machines without internet) there are no tiles: the page shows its own plain
// background.
/* global L */

import { esc } from "/shared/dom.js";
import { gcj02ToWgs84, wgs84ToGcj02 } from "/shared/geo.js";
import { lang, pick, t, words } from "/shared/i18n.js";

words({ zh: { district_approx: "示意" }, en: { district_approx: "approximate" } });

// The base tiles onto a map; false when there are none.
export function addBaseTiles(map, cfg) {
  if (!cfg || !cfg.tiles || cfg.tiles === "none" || !cfg.url) return false;
  L.tileLayer(cfg.url, {
    subdomains: cfg.subdomains && cfg.subdomains.length ? cfg.subdomains : "abc",
    attribution: esc(cfg.attribution || ""), maxZoom: 18, minZoom: 3,
  }).addTo(map);
  return true;
}

// new BaseMap(el, config, leafletOptions): .map, .tiles (false without), .toMap(lat, lon) -> L.LatLng
// in the tiles' datum, .toWgs(latlng) -> [lat, lon] in WGS-84.
export class BaseMap {
  constructor(el, config, options = {}) {
    this.cfg = (config && config.map) || {};
    this.gcj = this.cfg.crs === "gcj02";
    const c = this.cfg.center || [41.571, 120.435];
    this.map = L.map(el, { center: this.toMap(c[0], c[1]), zoom: this.cfg.zoom || 13, zoomControl: true,
      attributionControl: true, ...options });
    this.map.attributionControl.setPrefix(false);
    this.tiles = addBaseTiles(this.map, this.cfg);
    if (!this.tiles) el.classList.add("bj-no-tiles");
  }

  toMap(lat, lon) {
    return this.gcj ? L.latLng(...wgs84ToGcj02(lat, lon)) : L.latLng(lat, lon);
  }

  toWgs(latlng) {
    return this.gcj ? gcj02ToWgs84(latlng.lat, latlng.lng) : [latlng.lat, latlng.lng];
  }
}

// The districts' outlines (/api/config `districts`, GeoJSON), dashed, each named just inside its
// northern edge (the middle is where the stations' and alarms' own marks go); an approximate
// outline says so in its name. place() keeps every name whole inside the map.
export class DistrictLayer {
  constructor(base, { pane = "bj-districts", fill = false } = {}) {
    this.base = base;
    this.pane = pane;
    this.fill = fill;
    this.layer = L.layerGroup().addTo(base.map);
    this.polys = [];
  }

  draw(fc) {
    this.layer.clearLayers();
    this.polys = [];
    for (const f of (fc && fc.features) || []) {
      const g = f.geometry || {};
      const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (const poly of polys) {
        const outline = L.polygon(poly.map((ring) => ring.map(([lon, lat]) => this.base.toMap(lat, lon))), {
          pane: this.pane, color: "#93a4c3", weight: 2, opacity: 0.85, dashArray: "8 6", interactive: false,
          fill: this.fill, fillColor: "#93a4c3", fillOpacity: 0.035,
        });
        const b = outline.getBounds();
        outline.bjLabel = L.tooltip({ permanent: true, direction: "bottom", offset: [0, 4], className: "bj-district-label",
          interactive: false }).setLatLng([b.getNorth(), b.getCenter().lng]).setContent("");
        outline.bjProps = f.properties || {};
        this.layer.addLayer(outline).addLayer(outline.bjLabel);
        this.polys.push(outline);
      }
    }
    this.relabel();
  }

  relabel() {
    const approx = t("district_approx");
    for (const p of this.polys) {
      const name = pick(p.bjProps);
      const text = p.bjProps.approximate === false ? name : lang === "zh" ? `${name}（${approx}）` : `${name} (${approx})`;
      p.bjLabel.setContent(esc(text));
    }
    this.place();
  }

  bounds() {
    return this.polys.reduce((b, p) => (b ? b.extend(p.getBounds()) : p.getBounds()), null);
  }

  // Moves each name back inside the map where it would be cut; returns the names' screen boxes.
  place() {
    const size = this.base.map.getSize();
    if (!size.x || !size.y) return [];  // not on screen yet
    const box = this.base.map.getContainer().getBoundingClientRect();
    const out = [];
    for (const p of this.polys) {
      const tip = p.bjLabel, el = tip.getElement();
      if (!el) continue;
      tip.options.offset = L.point(0, 4);
      tip.update();
      const r = el.getBoundingClientRect();
      const dx = Math.max(0, box.left + 4 - r.left) - Math.max(0, r.right - box.right + 4);
      const dy = Math.max(0, box.top + 4 - r.top) - Math.max(0, r.bottom - box.bottom + 4);
      if (dx || dy) {
        tip.options.offset = L.point(dx, 4 + dy);
        tip.update();
      }
      out.push(el.getBoundingClientRect());
    }
    return out;
  }
}
