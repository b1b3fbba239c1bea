// The live map: district outlines, police stations, one marker + accuracy circle per located
// alarm of an open incident, movement trails, the legend, and "click the map to set a position".
// Positions in the app are WGS-84; when the tiles are GCJ-02 (AMap) every position is shifted
// before drawing and clicked points are sent with crs "gcj02" (the server converts them back).
/* global L */
import { wgs84ToGcj02, gcj02ToWgs84 } from "/shared/geo.js";
import { t, pick, sourceLabel, lang, unitStatusLabel, kindLabel, agoShort, stationShort } from "./i18n.js";
import { kindSvg, UNIT_COLORS, isStale, positionAge } from "./units.js";
import { addBaseTiles } from "/shared/basemap.js";
import { esc } from "/shared/dom.js";

const COLORS = {
  gps: "#22d3ee", network: "#fbbf24", typed: "#c4b5fd", picked: "#f472b6", operator: "#a3e635", unknown: "#9ca3af",
};
const SOURCES = ["gps", "network", "typed", "picked", "operator"];
const AUTOMATIC = new Set(["gps", "network"]);
const FULL_LABEL_ZOOM = 15;
const JURIS_STYLE = { color: "#7dd3fc", weight: 1.2, opacity: 0.5, dashArray: "3 5", fill: false };
const JURIS_HI = { color: "#7dd3fc", weight: 2.5, opacity: 0.95, dashArray: "6 5", fill: true, fillColor: "#7dd3fc",
  fillOpacity: 0.06 };


function starPoints(cx, cy, outer, inner) {
  const pts = [];
  for (let i = 0; i < 10; i++) {
    const r = i % 2 ? inner : outer, a = -Math.PI / 2 + (i * Math.PI) / 5;
    pts.push(`${(cx + r * Math.cos(a)).toFixed(1)},${(cy + r * Math.sin(a)).toFixed(1)}`);
  }
  return pts.join(" ");
}

const LOCK = `<g transform="translate(19 0)"><rect x="0.5" y="5" width="9" height="7" rx="1.2" fill="#111827"
  stroke="#fff" stroke-width="1.2"/><path d="M2.5 5V3.6a2.5 2.5 0 0 1 5 0V5" fill="none" stroke="#fff" stroke-width="1.5"/></g>`;

// One shape per position source (shape and colour both differ, so it reads without colour too).
export function shapeSvg(source, size = 28, locked = false) {
  const c = COLORS[source] || COLORS.unknown;
  let body;
  switch (source) {
    case "gps":
      body = `<circle cx="14" cy="14" r="8.5" fill="${c}" stroke="#fff" stroke-width="2.5"/>`;
      break;
    case "network":
      body = `<circle cx="14" cy="14" r="8.5" fill="#0b1220" fill-opacity=".65" stroke="${c}" stroke-width="3.5"/>
        <circle cx="14" cy="14" r="2.5" fill="${c}"/>`;
      break;
    case "typed":
      body = `<rect x="6" y="6" width="16" height="16" rx="1.5" fill="${c}" stroke="#fff" stroke-width="2.5"/>`;
      break;
    case "picked":
      body = `<polygon points="14,2.5 25.5,14 14,25.5 2.5,14" fill="${c}" stroke="#fff" stroke-width="2.5"/>`;
      break;
    case "operator":
      body = `<polygon points="${starPoints(14, 14.5, 12.5, 5.5)}" fill="${c}" stroke="#111827" stroke-width="1.6"
        stroke-linejoin="round"/>`;
      break;
    default:
      body = `<circle cx="14" cy="14" r="8" fill="${c}" stroke="#fff" stroke-width="2"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 28 28"
    aria-hidden="true">${body}${locked ? LOCK : ""}</svg>`;
}

export class MapView {
  constructor(el, config, handlers, markers = new Map(), unitMarkers = new Map()) {
    this.cfg = config.map || {};
    this.gcj = this.cfg.crs === "gcj02";
    this.handlers = handlers;
    this.markers = markers;     // alarmId -> L.Marker (exposed as window.baojing.markers)
    this.circles = new Map();   // alarmId -> L.Circle
    this.trailLayers = new Map(); // alarmId -> {line, dots, key}
    this.markerKeys = new Map();
    this.picking = null;
    this.unitMarkers = unitMarkers; // unitId -> L.Marker (exposed as window.baojing.unitMarkers)
    this.unitKeys = new Map();
    this.jurisPolys = new Map();  // stationId -> L.Polygon
    this.highlightedStation = null;

    const center = this.cfg.center || [41.571, 120.435];
    this.map = L.map(el, {
      center: this.toMap(center[0], center[1]), zoom: this.cfg.zoom || 13, zoomControl: true,
      attributionControl: true, preferCanvas: false, worldCopyJump: false,
    });
    this.map.attributionControl.setPrefix(false);
    this.tiles = addBaseTiles(this.map, this.cfg);
    if (!this.tiles) el.classList.add("bj-no-tiles");
    this.map.createPane("bj-juris").style.zIndex = 345;
    this.map.createPane("bj-districts").style.zIndex = 350;
    this.map.createPane("bj-circles").style.zIndex = 390;
    this.map.createPane("bj-trails").style.zIndex = 400;

    this.jurisLayer = L.layerGroup().addTo(this.map);
    this.districtLayer = L.layerGroup().addTo(this.map);
    this.stationLayer = L.layerGroup().addTo(this.map);
    this.linkLayer = L.layerGroup().addTo(this.map);
    this.unitLayer = L.layerGroup().addTo(this.map);
    this.circleLayer = L.layerGroup().addTo(this.map);
    this.trailLayer = L.layerGroup().addTo(this.map);
    this.markerLayer = L.layerGroup().addTo(this.map);
    this.drawDistricts(config.districts);
    this.drawStations(config.stations || []);
    this.addLegend();
    this.addFitButton();
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(this.map);

    this.map.on("click", (e) => this.onMapClick(e));
    this.map.on("zoomend", () => {
      const full = this.map.getZoom() >= FULL_LABEL_ZOOM;
      if (full !== this.fullLabels && this.lastRender) {
        this.fullLabels = full;
        this.render(...this.lastRender);
      }
    });
  }

  // ---- coordinates ------------------------------------------------------------------------------
  toMap(lat, lon) {
    return this.gcj ? L.latLng(...wgs84ToGcj02(lat, lon)) : L.latLng(lat, lon);
  }

  // A clicked point back in WGS-84 (for display before the server answers).
  toWgs(latlng) {
    return this.gcj ? gcj02ToWgs84(latlng.lat, latlng.lng) : [latlng.lat, latlng.lng];
  }

  get crs() {
    return this.gcj ? "gcj02" : "wgs84";
  }

  // ---- static layers --------------------------------------------------------------------------
  drawDistricts(fc) {
    this.districtLayer.clearLayers();
    this.districtPolys = [];
    for (const f of (fc && fc.features) || []) {
      const g = f.geometry || {};
      const rings = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      for (const poly of rings) {
        const latlngs = poly.map((ring) => ring.map(([lon, lat]) => this.toMap(lat, lon)));
        const layer = L.polygon(latlngs, {
          pane: "bj-districts", color: "#93a4c3", weight: 2, opacity: 0.85, dashArray: "8 6",
          fillColor: "#93a4c3", fillOpacity: 0.035, interactive: false,
        });
        layer.bindTooltip("", { permanent: true, direction: "center", className: "bj-district-label", interactive: false });
        layer.bjProps = f.properties || {};
        layer.addTo(this.districtLayer);
        this.districtPolys.push(layer);
      }
    }
    this.relabelDistricts();
  }

  relabelDistricts() {
    for (const layer of this.districtPolys || []) {
      const p = layer.bjProps;
      const approx = t("district_approx");
      const text = p.approximate === false ? pick(p) : lang === "zh" ? `${pick(p)}（${approx}）` : `${pick(p)} (${approx})`;
      layer.setTooltipContent(esc(text));
    }
  }

  drawStations(stations) {
    this.stationLayer.clearLayers();
    this.jurisLayer.clearLayers();
    this.jurisPolys.clear();
    this.stations = stations;
    // Each station's jurisdiction: thin and dashed, under the district outlines.
    for (const s of stations) {
      const ring = Array.isArray(s.jurisdiction) ? s.jurisdiction.filter((p) => Array.isArray(p) && p.length >= 2) : [];
      if (ring.length < 3) continue;
      const poly = L.polygon(ring.map(([lat, lon]) => this.toMap(lat, lon)), {
        pane: "bj-juris", interactive: false, ...JURIS_STYLE,
      });
      poly.bjStationId = s.id;
      poly.addTo(this.jurisLayer);
      this.jurisPolys.set(s.id, poly);
    }
    for (const s of stations) {
      if (typeof s.lat !== "number" || typeof s.lon !== "number") continue;
      // The name is part of the icon (not a tooltip) so that unit badges draw over it.
      const m = L.marker(this.toMap(s.lat, s.lon), { keyboard: false, zIndexOffset: -1000, interactive: false });
      m.bjStation = s;
      m.addTo(this.stationLayer);
    }
    this.relabelStations();
  }

  relabelStations() {
    this.stationLayer.eachLayer((m) => {
      const s = m.bjStation;
      const hi = s.id === this.highlightedStation ? " is-juris" : "";
      m.setIcon(L.divIcon({
        className: `bj-station-wrap${hi}`, iconSize: [18, 18], iconAnchor: [9, 9],
        html: `<span class="bj-station" title="${esc(pick(s))}"><span>警</span></span><span class="bj-st-name"
          data-testid="map-station" data-station-id="${s.id}">${esc(stationShort(s))}</span>`,
      }));
    });
  }

  // The selected incident's jurisdiction station: its outline drawn bolder (null: none).
  highlightStation(stationId) {
    if (this.highlightedStation === stationId) return;
    const old = this.jurisPolys.get(this.highlightedStation);
    if (old) old.setStyle(JURIS_STYLE);
    this.highlightedStation = stationId;
    const poly = this.jurisPolys.get(stationId);
    if (poly) poly.setStyle(JURIS_HI);
    this.stationLayer.eachLayer((m) => {
      const el = m.getElement();
      if (el) el.classList.toggle("is-juris", m.bjStation.id === stationId);
    });
  }

  addLegend() {
    const view = this;
    const Legend = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd() {
        const div = L.DomUtil.create("div", "bj-legend");
        try {
          if (localStorage.getItem("baojing.console.legend") === "collapsed") div.classList.add("collapsed");
        } catch { /* not remembered */ }
        div.setAttribute("data-testid", "map-legend");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        view.legendEl = div;
        return div;
      },
    });
    this.legend = new Legend().addTo(this.map);
    this.renderLegend();
  }

  renderLegend() {
    const el = this.legendEl;
    if (!el) return;
    const collapsed = el.classList.contains("collapsed");
    const rows = SOURCES.map((s) => `<div class="lg-row" data-source="${s}">${shapeSvg(s, 18, s === "operator")}
      <span>${esc(sourceLabel(s))}${s === "operator" ? ` · ${esc(t("locked"))}` : ""}</span></div>`).join("");
    el.innerHTML = `<button type="button" class="lg-head" aria-expanded="${!collapsed}">${esc(t("legend_title"))}
      <span class="lg-caret">${collapsed ? "▸" : "▾"}</span></button>
      <div class="lg-body">${rows}
      <div class="lg-row"><span class="lg-pulse"></span><span>${esc(t("legend_new"))}</span></div>
      <div class="lg-row"><svg width="20" height="12"><path d="M1 10 L8 4 L19 6" stroke="#e5e7eb" stroke-width="2"
        fill="none" stroke-dasharray="4 3"/><circle cx="19" cy="6" r="2.5" fill="#e5e7eb"/></svg>
        <span>${esc(t("legend_trail"))}</span></div>
      <div class="lg-row"><svg width="20" height="12"><path d="M1 6 H19" stroke="#93a4c3" stroke-width="2"
        stroke-dasharray="5 3"/></svg><span>${esc(t("legend_district"))}</span></div>
      <div class="lg-row"><svg width="20" height="12"><path d="M1 6 H19" stroke="#7dd3fc" stroke-width="1.3"
        stroke-dasharray="3 4"/></svg><span>${esc(t("legend_juris"))}</span></div>
      <div class="lg-row"><span class="bj-station lg-station"><span>警</span></span><span>${esc(t("legend_station"))}</span></div>
      <div class="lg-sub">${esc(t("legend_units"))}</div>
      <div class="lg-units">${["available", "dispatched", "en_route", "on_scene", "busy"].map((st) =>
    `<span class="lg-unit us-${st}"><span class="lg-sw"></span>${esc(unitStatusLabel(st))}</span>`).join("")}</div>
      <div class="lg-units">${["car", "motorbike", "foot"].map((k) =>
    `<span class="lg-unit">${kindSvg(k, 14)}${esc(kindLabel(k))}</span>`).join("")}</div>
      <div class="lg-row"><span class="lg-stale">${kindSvg("car", 12)}</span><span>${esc(t("legend_stale"))}</span></div>
      ${this.tiles ? "" : `<div class="lg-note" data-testid="no-basemap">${esc(t("no_basemap"))}</div>`}
      </div>`;
    el.querySelector(".lg-head").addEventListener("click", () => {
      el.classList.toggle("collapsed");
      try {
        localStorage.setItem("baojing.console.legend", el.classList.contains("collapsed") ? "collapsed" : "open");
      } catch { /* not remembered */ }
      this.renderLegend();
    });
  }

  relabel() {
    this.relabelDistricts();
    this.relabelStations();
    this.renderLegend();
    this.relabelFit();
    this.markerKeys.clear();  // labels are rebuilt on the next render
    this.unitKeys.clear();
  }

  // ---- units ----------------------------------------------------------------------------------
  // units: Map<id, UnitOut>; opts: {passes(u) -> bool, highlight: Set<unitId> (recommended /
  // picked for the open incident), links: [{unitId, lat, lon, status}] (unit to its incident), now}
  renderUnits(units, opts) {
    const nowMs = opts.now;
    const want = new Map();
    for (const u of units.values()) {
      if (!u.position || !Number.isFinite(u.position.lat) || !Number.isFinite(u.position.lon)) continue;
      if (!opts.passes(u) && !opts.highlight.has(u.id)) continue;
      want.set(u.id, u);
    }
    for (const [id, marker] of this.unitMarkers) {
      if (!want.has(id)) {
        this.unitLayer.removeLayer(marker);
        this.unitMarkers.delete(id);
        this.unitKeys.delete(id);
      }
    }
    for (const u of want.values()) this.upsertUnit(u, opts.highlight.has(u.id), nowMs);
    this.linkLayer.clearLayers();
    for (const link of opts.links || []) {
      const m = this.unitMarkers.get(link.unitId);
      if (!m) continue;
      L.polyline([m.getLatLng(), this.toMap(link.lat, link.lon)], {
        color: UNIT_COLORS[link.status] || "#e5e7eb", weight: 2.5, opacity: 0.9, dashArray: "2 6",
        interactive: false, pane: "bj-trails",
      }).addTo(this.linkLayer);
    }
  }

  upsertUnit(u, highlighted, nowMs) {
    const pos = this.toMap(u.position.lat, u.position.lon);
    const stale = isStale(u, nowMs);
    const age = positionAge(u, nowMs);
    const ageText = stale && age !== null ? agoShort(age) : "";
    const key = [u.status, u.kind, u.call_sign, stale, ageText, highlighted, lang].join("|");
    let marker = this.unitMarkers.get(u.id);
    if (!marker) {
      marker = L.marker(pos, { keyboard: false, zIndexOffset: -500, riseOnHover: true });
      marker.on("click", (e) => {
        L.DomEvent.stopPropagation(e);
        if (this.picking) return this.onMapClick(e);
        this.handlers.onUnit && this.handlers.onUnit(marker.bjUnitId);
      });
      marker.addTo(this.unitLayer);
      this.unitMarkers.set(u.id, marker);
    } else if (!marker.getLatLng().equals(pos)) {
      marker.setLatLng(pos);
    }
    marker.bjUnitId = u.id;
    marker.bjStatus = u.status;
    if (this.unitKeys.get(u.id) === key) return;
    this.unitKeys.set(u.id, key);
    const cls = ["bj-unit", `us-${u.status}`, `k-${u.kind}`, stale ? "stale" : "", highlighted ? "is-hi" : ""]
      .filter(Boolean).join(" ");
    const title = `${u.call_sign} · ${kindLabel(u.kind)} · ${unitStatusLabel(u.status)}`;
    marker.setIcon(L.divIcon({
      className: "bj-unit-wrap",
      html: `<div class="${cls}" data-testid="unit-marker" data-unit-id="${u.id}" data-status="${esc(u.status)}"
        data-stale="${stale}" title="${esc(title)}"><span class="bj-unit-k">${kindSvg(u.kind, 15)}</span><span
        class="bj-unit-cs">${esc(u.call_sign)}</span>${ageText ? `<span class="bj-unit-age">${esc(ageText)}</span>` : ""}</div>`,
      iconSize: [0, 0], iconAnchor: [0, 0],
    }));
  }

  // Pan to a unit (from the units panel) and make its marker pulse once.
  focusUnit(unitId) {
    const m = this.unitMarkers.get(unitId);
    if (!m) return false;
    this.map.setView(m.getLatLng(), Math.max(this.map.getZoom(), 14), { animate: true });
    const el = m.getElement() && m.getElement().querySelector(".bj-unit");
    if (el) {
      el.classList.remove("ping");
      void el.offsetWidth;
      el.classList.add("ping");
    }
    return true;
  }

  // ---- live layers -------------------------------------------------------------------------------
  // incidents: open incidents; trails: Map<alarmId, point[]>; selectedId: the open detail.
  render(incidents, trails, selectedId, myUserId) {
    this.lastRender = [incidents, trails, selectedId, myUserId];
    this.fullLabels = this.map.getZoom() >= FULL_LABEL_ZOOM;
    const want = new Map();
    for (const inc of incidents) {
      for (const a of inc.alarms || []) {
        if (a.location && Number.isFinite(a.location.lat) && Number.isFinite(a.location.lon)) want.set(a.id, { a, inc });
      }
    }
    for (const [id, marker] of this.markers) {
      if (!want.has(id)) {
        this.markerLayer.removeLayer(marker);
        this.circleLayer.removeLayer(this.circles.get(id));
        this.markers.delete(id);
        this.circles.delete(id);
        this.markerKeys.delete(id);
      }
    }
    for (const [id, { a, inc }] of want) this.upsertAlarm(a, inc, inc.id === selectedId, myUserId);

    const trailIds = new Set();
    for (const inc of incidents) {
      for (const a of inc.alarms || []) {
        trailIds.add(a.id);
        this.drawTrail(a.id, trails.get(a.id) || [], inc.id === selectedId);
      }
    }
    for (const [id, tl] of this.trailLayers) {
      if (!trailIds.has(id)) {
        this.trailLayer.removeLayer(tl.group);
        this.trailLayers.delete(id);
      }
    }
  }

  upsertAlarm(a, inc, selected, myUserId) {
    const loc = a.location;
    const source = SOURCES.includes(loc.source) ? loc.source : "unknown";
    const pos = this.toMap(loc.lat, loc.lon);
    const isNew = inc.status === "new";
    const locked = Boolean(loc.locked);
    // Zoomed out, quiet markers carry just "#id" so a cluster stays readable; new and selected ones
    // always show phone and name.
    const full = this.map.getZoom() >= FULL_LABEL_ZOOM || isNew || selected;
    const label = full ? `<b>#${inc.id}</b> ${esc(a.phone)}${a.name ? ` ${esc(a.name)}` : ""}` : `<b>#${inc.id}</b>`;
    const key = [source, isNew, selected, locked, inc.priority, label].join("|");
    let marker = this.markers.get(a.id);
    let circle = this.circles.get(a.id);
    const acc = Number.isFinite(loc.accuracy_m) && loc.accuracy_m > 0 ? loc.accuracy_m : 0;
    const color = COLORS[source] || COLORS.unknown;
    if (!marker) {
      marker = L.marker(pos, { keyboard: true, riseOnHover: true });
      marker.on("click", (e) => {
        L.DomEvent.stopPropagation(e);
        if (this.picking) return this.onMapClick(e);
        this.handlers.onSelect(marker.bjIncidentId);
      });
      marker.addTo(this.markerLayer);
      circle = L.circle(pos, { pane: "bj-circles", radius: acc, interactive: false });
      circle.addTo(this.circleLayer);
      this.markers.set(a.id, marker);
      this.circles.set(a.id, circle);
    } else {
      if (!marker.getLatLng().equals(pos)) marker.setLatLng(pos);
      if (!circle.getLatLng().equals(pos)) circle.setLatLng(pos);
      if (circle.getRadius() !== acc) circle.setRadius(acc);
    }
    marker.bjIncidentId = inc.id;
    marker.bjAlarmId = a.id;
    marker.bjSource = source;
    circle.setStyle({
      color, weight: selected ? 2 : 1, opacity: selected ? 0.95 : 0.7, fillColor: color,
      fillOpacity: selected ? 0.14 : 0.07, dashArray: source === "network" ? "4 4" : null,
    });
    if (this.markerKeys.get(a.id) !== key) {
      this.markerKeys.set(a.id, key);
      const cls = ["bj-mk", `src-${source}`, `p${inc.priority}`, isNew ? "is-new" : "", selected ? "is-sel" : ""]
        .filter(Boolean).join(" ");
      marker.setIcon(L.divIcon({
        className: "bj-mk-wrap",
        html: `<div class="${cls}" data-testid="map-marker" data-alarm-id="${a.id}" data-incident-id="${inc.id}"
          data-source="${source}" data-locked="${locked}">${shapeSvg(source, 28, locked)}</div>`,
        iconSize: [28, 28], iconAnchor: [14, 14],
      }));
      const tipCls = `bj-label p${inc.priority}${isNew ? " is-new" : ""}${selected ? " is-sel" : ""}`;
      marker.unbindTooltip();
      marker.bindTooltip(label, { permanent: true, direction: "right", offset: [14, 0], className: tipCls });
      marker.setZIndexOffset(selected ? 2000 : isNew ? 1000 : 0);
    }
  }

  drawTrail(alarmId, points, selected) {
    // Movement is the phone's own fixes; flagged (implausible / out of order) ones are evidence only.
    const moves = points.filter((p) => !p.flag && AUTOMATIC.has(p.source) && Number.isFinite(p.lat));
    const key = `${moves.length}|${selected}|${moves.length ? moves[moves.length - 1].at : ""}`;
    const old = this.trailLayers.get(alarmId);
    if (old && old.key === key) return;
    if (old) this.trailLayer.removeLayer(old.group);
    if (moves.length < 2) {
      this.trailLayers.delete(alarmId);
      return;
    }
    const latlngs = moves.map((p) => this.toMap(p.lat, p.lon));
    const group = L.layerGroup();
    L.polyline(latlngs, {
      pane: "bj-trails", color: selected ? "#ffffff" : "#cbd5e1", weight: selected ? 3.5 : 2.5,
      opacity: selected ? 0.95 : 0.75, dashArray: "6 5", interactive: false,
    }).addTo(group);
    latlngs.forEach((ll, i) => {
      const last = i === latlngs.length - 1;
      L.circleMarker(ll, {
        pane: "bj-trails", radius: last ? 4 : 2.5, color: "#0b1220", weight: 1, fillColor: "#e5e7eb",
        fillOpacity: 1, interactive: false,
      }).addTo(group);
    });
    group.addTo(this.trailLayer);
    this.trailLayers.set(alarmId, { group, key });
  }

  // Pan/zoom to an incident's located alarms (with their accuracy circles).
  focus(inc) {
    let bounds = null;
    for (const a of inc.alarms || []) {
      if (!a.location) continue;
      const ll = this.toMap(a.location.lat, a.location.lon);
      const size = Math.max(2 * (a.location.accuracy_m || 0), 600);
      const b = ll.toBounds(size);
      bounds = bounds ? bounds.extend(b) : b;
    }
    if (!bounds) return false;
    this.map.fitBounds(bounds, { maxZoom: 15, padding: [50, 50], animate: true });
    return true;
  }

  // Show every located alarm of the open incidents (the "fit all" button).
  fitAll() {
    let bounds = null;
    for (const m of this.markers.values()) {
      const b = m.getLatLng().toBounds(600);
      bounds = bounds ? bounds.extend(b) : b;
    }
    if (bounds) this.map.fitBounds(bounds, { maxZoom: 15, padding: [60, 60], animate: true });
    else {
      const c = this.cfg.center || [41.571, 120.435];
      this.map.setView(this.toMap(c[0], c[1]), this.cfg.zoom || 13);
    }
  }

  addFitButton() {
    const view = this;
    const Fit = L.Control.extend({
      options: { position: "topleft" },
      onAdd() {
        const div = L.DomUtil.create("div", "leaflet-bar bj-fit");
        const a = L.DomUtil.create("a", "", div);
        a.href = "#";
        a.setAttribute("role", "button");
        a.setAttribute("data-testid", "map-fit-all");
        a.innerHTML = `<svg viewBox="0 0 20 20" width="18" height="18" aria-hidden="true"><path d="M2 7V2h5M13 2h5v5M18 13v5h-5M7 18H2v-5"
          fill="none" stroke="currentColor" stroke-width="2"/><circle cx="10" cy="10" r="2.5" fill="currentColor"/></svg>`;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.on(a, "click", (e) => {
          L.DomEvent.preventDefault(e);
          view.fitAll();
        });
        view.fitEl = a;
        return div;
      },
    });
    new Fit().addTo(this.map);
    this.relabelFit();
  }

  relabelFit() {
    if (this.fitEl) {
      this.fitEl.title = t("fit_all");
      this.fitEl.setAttribute("aria-label", t("fit_all"));
    }
  }

  invalidate() {
    this.map.invalidateSize({ pan: false });
  }

  // ---- set a position by clicking ------------------------------------------------------------
  startPick(onPicked) {
    this.picking = onPicked;
    this.map.getContainer().classList.add("bj-picking");
  }

  stopPick() {
    this.picking = null;
    this.map.getContainer().classList.remove("bj-picking");
  }

  onMapClick(e) {
    if (!this.picking) return;
    const cb = this.picking;
    this.stopPick();
    const ll = e.latlng;
    // About 8 screen pixels at this zoom: how precisely a click can place a point.
    const mpp = (40075016.686 * Math.cos((ll.lat * Math.PI) / 180)) / 2 ** (this.map.getZoom() + 8);
    const accuracy = Math.min(100000, Math.max(5, Math.round(mpp * 8)));
    cb({ lat: ll.lat, lon: ll.lng, crs: this.crs, accuracy_m: accuracy, wgs: this.toWgs(ll) });
  }
}
