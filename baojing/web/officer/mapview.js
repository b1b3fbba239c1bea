// The incident card's small map: the caller (red), the officer (blue), the straight line between
// them. Positions in the app are WGS-84; on GCJ-02 tiles (AMap) they are shifted before drawing.
/* global L */
import { wgs84ToGcj02 } from "/shared/geo.js";
import { addBaseTiles } from "/shared/basemap.js";

const CALLER_ICON = (label) => L.divIcon({
  className: "pin pin-caller", iconSize: [40, 48], iconAnchor: [20, 46],
  html: `<svg viewBox="0 0 40 48" width="40" height="48" aria-hidden="true"><path d="M20 47C20 47 4 28 4 17a16 16 0 0 1 32 0c0 11-16 30-16 30z"
    fill="#ff3b30" stroke="#fff" stroke-width="3"/><text x="20" y="23" text-anchor="middle" font-size="15" font-weight="800"
    fill="#fff" font-family="sans-serif">${label}</text></svg>`,
});

const ME_ICON = (label) => L.divIcon({
  className: "pin pin-me", iconSize: [34, 34], iconAnchor: [17, 17],
  html: `<svg viewBox="0 0 34 34" width="34" height="34" aria-hidden="true"><circle cx="17" cy="17" r="13" fill="#1e88ff"
    stroke="#fff" stroke-width="4"/><text x="17" y="22" text-anchor="middle" font-size="13" font-weight="800" fill="#fff"
    font-family="sans-serif">${label}</text></svg>`,
});

export class OfficerMap {
  // markers: the object exposed as window.baojing.markers ({caller, me} L.Marker or null)
  constructor(el, config, markers, labels) {
    this.cfg = (config && config.map) || {};
    this.gcj = this.cfg.crs === "gcj02";
    this.markers = markers;
    this.labels = labels;
    this.fitted = false;
    this.userMoved = false;
    const center = this.cfg.center || [41.571, 120.435];
    this.map = L.map(el, {
      center: this.toMap(center[0], center[1]), zoom: this.cfg.zoom || 14, zoomControl: true,
      attributionControl: true, tap: true,
    });
    this.map.attributionControl.setPrefix(false);
    if (!addBaseTiles(this.map, this.cfg)) el.classList.add("no-tiles");
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(this.map);
    this.map.on("dragstart", () => { this.userMoved = true; });
    this.line = null;
    this.callerCircle = null;
    this.meCircle = null;
  }

  toMap(lat, lon) {
    return this.gcj ? wgs84ToGcj02(lat, lon) : [lat, lon];
  }

  // caller / me: {lat, lon, acc} WGS-84 or null
  update(caller, me) {
    this.callerCircle = this.place("caller", caller, this.callerCircle, "#ff3b30", () => CALLER_ICON(this.labels.caller));
    this.meCircle = this.place("me", me, this.meCircle, "#1e88ff", () => ME_ICON(this.labels.me));
    const pts = [caller, me].filter(Boolean).map((p) => this.toMap(p.lat, p.lon));
    if (pts.length === 2) {
      if (this.line) this.line.setLatLngs(pts);
      else this.line = L.polyline(pts, { color: "#ffd54a", weight: 3, dashArray: "8 8", interactive: false }).addTo(this.map);
    } else if (this.line) {
      this.line.remove();
      this.line = null;
    }
    this.fit(pts);
  }

  place(key, p, circle, color, icon) {
    const m = this.markers[key];
    if (!p) {
      if (m) { m.remove(); this.markers[key] = null; }
      if (circle) circle.remove();
      return null;
    }
    const ll = this.toMap(p.lat, p.lon);
    if (m) m.setLatLng(ll);
    else this.markers[key] = L.marker(ll, { icon: icon(), keyboard: false, zIndexOffset: key === "caller" ? 500 : 0 }).addTo(this.map);
    if (p.acc && p.acc > 25) {
      if (circle) { circle.setLatLng(ll); circle.setRadius(p.acc); return circle; }
      return L.circle(ll, { radius: p.acc, color, weight: 2, opacity: 0.8, fillOpacity: 0.12, interactive: false }).addTo(this.map);
    }
    if (circle) circle.remove();
    return null;
  }

  fit(pts) {
    if (!pts.length) return;
    const inView = pts.every((p) => this.map.getBounds().contains(p));
    if (this.fitted && (this.userMoved || inView)) return;
    if (pts.length === 1) this.map.setView(pts[0], 15, { animate: false });
    else this.map.fitBounds(L.latLngBounds(pts), { padding: [36, 36], maxZoom: 17, animate: false });
    this.fitted = true;
  }

  // Show both again (after the officer panned away).
  recenter(caller, me) {
    this.userMoved = false;
    this.fitted = false;
    this.fit([caller, me].filter(Boolean).map((p) => this.toMap(p.lat, p.lon)));
  }

  resize() {
    this.map.invalidateSize({ animate: false });
  }

  destroy() {
    this.map.remove();
    this.markers.caller = null;
    this.markers.me = null;
  }
}
