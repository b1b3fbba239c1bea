// The live map: district outlines, police stations, one marker per located alarm of an open
// incident (clustered: 10,000 markers would stop the browser; a cluster shows how many it holds
// and turns red while any of them waits unclaimed), accuracy circles (all of them while there are
// few, else the open incident's), movement trails, the legend, and "click the map to set a position".
// Markers change by incident id (sync), never by redrawing every alarm.
// Positions in the app are WGS-84; when the tiles are GCJ-02 (AMap) every position is shifted
// before drawing and clicked points are sent with crs "gcj02" (the server converts them back).
/* global L */
import { wgs84ToGcj02, gcj02ToWgs84 } from "/shared/geo.js";
import { t, pick, getLang } from "/shared/i18n.js";
import { sourceLabel, unitStatusLabel, kindLabel, agoShort, stationShort } from "./i18n.js";
import { kindSvg, UNIT_COLORS, isStale, positionAge } from "./units.js";
import { addBaseTiles } from "/shared/basemap.js";
import { esc } from "/shared/dom.js";

const COLORS = {
  gps: "#22d3ee", network: "#fbbf24", typed: "#c4b5fd", picked: "#f472b6", operator: "#a3e635", unknown: "#9ca3af",
};
const SOURCES = ["gps", "network", "typed", "picked", "operator"];
const AUTOMATIC = new Set(["gps", "network"]);
const FULL_LABEL_ZOOM = 15;
const CIRCLES_UP_TO = 300;
const FEW_FOR_LABELS = 100;
const SLICE_MS = 25;
const MIN_SLICE_MS = 4;
const FLUSH_MS = 500;
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

// Zoomed out over a whole district, 80 px: 10,000 alarms make ~150 badges one can read (at 45 px
// they made 550, a red carpet over the map, and each badge is work for every frame the page draws).
// Zoomed in on streets, 45 px keeps neighbouring alarms apart.
const clusterRadius = (zoom) => (zoom < 15 ? 80 : 45);
const clusterSize = (n) => (n < 100 ? 34 : n < 1000 ? 42 : 50);

// A cluster whose count changed gets its number written into the badge it has, instead of a new
// badge built and positioned (markercluster's way): alarms arriving all over the city touch every
// cluster in view several times a second.
function patchClusterBadges() {
  const proto = L.MarkerCluster && L.MarkerCluster.prototype;
  if (!proto || proto.bjPatched) return;
  const rebuild = proto._updateIcon;
  proto._updateIcon = function updateIcon() {
    const el = this._icon && this._icon.querySelector(".bj-cluster");
    const n = this.getChildCount();
    if (el && el.dataset.size === String(clusterSize(n))) {
      el.dataset.count = String(n);
      el.firstElementChild.firstChild.data = String(n);  // the text node kept, not replaced
      this._iconNeedsUpdate = true;  // built afresh when it next comes onto the map
      return;
    }
    rebuild.call(this);
  };
  proto.bjPatched = true;
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
    this.owner = new Map();       // alarmId -> incidentId whose marker it is
    this.alarmsOf = new Map();    // incidentId -> Set<alarmId>
    this.selectedId = null;
    this.pending = new Set();     // incident ids still to bring up to date (sync works in slices)
    this.batch = { new: { add: new Set(), remove: new Set() }, claimed: { add: new Set(), remove: new Set() } };
    this.flushedAt = 0;
    this.flushTimer = 0;
    this.picking = null;
    this.unitMarkers = unitMarkers; // unitId -> L.Marker (exposed as window.baojing.unitMarkers)
    this.unitKeys = new Map();
    this.jurisPolys = new Map();  // stationId -> L.Polygon
    this.highlightedStation = null;

    const center = this.cfg.center || [41.571, 120.435];
    this.map = L.map(el, {
      center: this.toMap(center[0], center[1]), zoom: this.cfg.zoom || 13, zoomControl: true,
      attributionControl: true, preferCanvas: false, worldCopyJump: false, maxZoom: 18, minZoom: 3,
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
    // Clustered alarms, in two groups: unclaimed ones cluster red, the others blue, so a cluster's
    // number says at once how many wait (and drawing its badge costs nothing however big it is).
    // The open incident's own markers sit outside the clusters (always visible).
    patchClusterBadges();
    this.groups = {};
    for (const kind of ["new", "claimed"]) {
      this.groups[kind] = L.markerClusterGroup({
        chunkedLoading: true, chunkInterval: 10, chunkDelay: 16, maxClusterRadius: clusterRadius, disableClusteringAtZoom: 17,
        showCoverageOnHover: false, spiderfyOnMaxZoom: true, removeOutsideVisibleBounds: true,
        iconCreateFunction: (cluster) => this.clusterIcon(cluster, kind),
      }).addTo(this.map);
    }
    this.selLayer = L.layerGroup().addTo(this.map);
    this.drawDistricts(config.districts);
    this.drawStations(config.stations || []);
    this.addLegend();
    this.addFitButton();
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(this.map);

    this.map.on("click", (e) => this.onMapClick(e));
    this.fullLabels = this.map.getZoom() >= FULL_LABEL_ZOOM;
    this.map.on("zoomend", () => {
      const full = this.map.getZoom() >= FULL_LABEL_ZOOM;
      if (full !== this.fullLabels) {
        this.fullLabels = full;
        this.refreshAll();
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
      const text = p.approximate === false ? pick(p) : getLang() === "zh" ? `${pick(p)}（${approx}）` : `${pick(p)} (${approx})`;
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
        // Collapsed until the operator opens it: open, it covers alarm markers at 1366×768.
        const div = L.DomUtil.create("div", "bj-legend collapsed");
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

  // Each operator's choice (open or collapsed) is remembered for them, not for the machine.
  setUser(username) {
    this.legendKey = username ? `baojing.console.legend.${username}` : null;
    let open = false;
    try {
      open = Boolean(this.legendKey) && localStorage.getItem(this.legendKey) === "open";
    } catch { /* not remembered */ }
    if (this.legendEl) this.legendEl.classList.toggle("collapsed", !open);
    this.renderLegend();
  }

  renderLegend() {
    const el = this.legendEl;
    if (!el) return;
    const collapsed = el.classList.contains("collapsed");
    const rows = SOURCES.map((s) => `<div class="lg-row" data-source="${s}">${shapeSvg(s, 18, s === "operator")}
      <span>${esc(sourceLabel(s))}${s === "operator" ? ` · ${esc(t("locked"))}` : ""}</span></div>`).join("");
    el.dataset.state = collapsed ? "collapsed" : "open";
    el.innerHTML = `<button type="button" class="lg-head" data-testid="map-legend-toggle" aria-expanded="${!collapsed}">${esc(t("legend_title"))}
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
        if (this.legendKey) localStorage.setItem(this.legendKey, el.classList.contains("collapsed") ? "collapsed" : "open");
      } catch { /* not remembered */ }
      this.renderLegend();
    });
  }

  relabel() {
    this.relabelDistricts();
    this.relabelStations();
    this.renderLegend();
    this.relabelFit();
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
    const key = [u.status, u.kind, u.call_sign, stale, ageText, highlighted, getLang()].join("|");
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
  // Bring the markers of the changed incidents up to date. ids: changed incident ids; incidents:
  // the store; trails: Map<alarmId, point[]>; selectedId: the open detail; open(inc): shown or not.
  // A frame's work is bounded (SLICE_MS from frameStart, when the frame began drawing: the queue
  // and the header before the map count too, but a frame always places a few markers): 10,000
  // new markers are placed over several frames and handlers.onMore() asks for the next one, so
  // the page never freezes while they go on the map.
  sync(ids, incidents, trails, selectedId, open, frameStart = performance.now()) {
    this.lastArgs = [incidents, trails, open];
    for (const id of ids) this.pending.add(id);
    // With many alarms, unclaimed ones carry just "#id" too (full labels would bury the map).
    const few = this.markers.size + this.pending.size <= FEW_FOR_LABELS;
    if (few !== this.few) {
      this.few = few;
      // Hundreds of pulsing, shadowed markers would repaint the map all the time.
      this.map.getContainer().classList.toggle("bj-many", !few);
      this.markerKeys.clear();
      for (const id of this.alarmsOf.keys()) this.pending.add(id);
    }
    if (selectedId !== this.selectedId) {
      if (this.selectedId !== null) this.pending.add(this.selectedId);
      if (selectedId !== null) this.pending.add(selectedId);
      this.selectedId = selectedId;
    }
    const until = Math.max(frameStart + SLICE_MS, performance.now() + MIN_SLICE_MS);
    // The open incident first: it must never wait behind thousands of others.
    const order = selectedId !== null && this.pending.has(selectedId) ? [selectedId, ...this.pending] : this.pending;
    for (const id of order) {
      if (!this.pending.delete(id)) continue;
      if (performance.now() > until) {
        this.pending.add(id);
        break;
      }
      const inc = incidents.get(id);
      const shown = inc && open(inc) ? inc : null;
      const had = this.alarmsOf.get(id) || new Set();
      const now = new Set();
      for (const a of (shown && shown.alarms) || []) {
        if (!a.location || !Number.isFinite(a.location.lat) || !Number.isFinite(a.location.lon)) continue;
        now.add(a.id);
        const prev = this.owner.get(a.id);
        if (prev !== undefined && prev !== id) {
          const set = this.alarmsOf.get(prev);
          if (set) set.delete(a.id);  // merged into this incident
        }
        this.owner.set(a.id, id);
        this.upsertAlarm(a, shown, id === selectedId);
      }
      for (const aid of had) {
        if (!now.has(aid) && this.owner.get(aid) === id) this.dropAlarm(aid);
      }
      if (now.size) this.alarmsOf.set(id, now); else this.alarmsOf.delete(id);
      for (const a of (shown && shown.alarms) || []) this.drawTrail(a.id, trails.get(a.id) || [], id === selectedId);
      if (!shown) for (const aid of had) this.dropTrail(aid);
    }
    this.flush();
    this.syncCircles();
    if (this.pending.size) this.handlers.onMore && this.handlers.onMore();
  }

  // Markers join and leave the clusters in batches, at most every FLUSH_MS: each batch makes
  // markercluster recount every cluster it touches, and with alarms arriving all over the city
  // that is every cluster in view. (The queue and the siren are not delayed; a marker is.)
  queueAdd(kind, m) {
    this.batch[kind].remove.delete(m);
    this.batch[kind].add.add(m);
  }

  queueRemove(kind, m) {
    if (!this.batch[kind].add.delete(m)) this.batch[kind].remove.add(m);
  }

  // With many markers, in a task of its own (a timer), never in the frame that placed them:
  // markercluster's first chunk runs inside addLayers().
  flush() {
    if (this.markers.size <= FEW_FOR_LABELS) {
      this.flushNow();
      return;
    }
    if (this.flushTimer || !Object.values(this.batch).some((b) => b.add.size || b.remove.size)) return;
    const since = performance.now() - this.flushedAt;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = 0;
      this.flushNow();
    }, Math.max(0, FLUSH_MS - since));
  }

  flushNow() {
    this.flushedAt = performance.now();
    for (const kind of ["new", "claimed"]) {
      const b = this.batch[kind];
      if (b.remove.size) this.groups[kind].removeLayers([...b.remove]);
      if (b.add.size) this.groups[kind].addLayers([...b.add]);
      b.add.clear();
      b.remove.clear();
    }
  }

  // Everything again (the zoom crossed the full-label line, the language changed).
  refreshAll() {
    if (!this.lastArgs) return;
    const [incidents, trails, open] = this.lastArgs;
    this.markerKeys.clear();
    this.sync(this.alarmsOf.keys(), incidents, trails, this.selectedId, open);
  }

  dropAlarm(aid) {
    const m = this.markers.get(aid);
    if (m) {
      if (m.bjGroup === "sel") this.selLayer.removeLayer(m);
      else if (m.bjGroup) this.queueRemove(m.bjGroup, m);
    }
    const c = this.circles.get(aid);
    if (c) this.circleLayer.removeLayer(c);
    this.markers.delete(aid);
    this.circles.delete(aid);
    this.markerKeys.delete(aid);
    this.owner.delete(aid);
    this.dropTrail(aid);
  }

  upsertAlarm(a, inc, selected) {
    const loc = a.location;
    const source = SOURCES.includes(loc.source) ? loc.source : "unknown";
    const pos = this.toMap(loc.lat, loc.lon);
    const isNew = inc.status === "new";
    const locked = Boolean(loc.locked);
    // Zoomed out, quiet markers carry just "#id" so a cluster stays readable; the selected one (and
    // new ones, while there are few) always show phone and name.
    const full = this.map.getZoom() >= FULL_LABEL_ZOOM || (isNew && this.few) || selected;
    const label = full ? `<b>#${inc.id}</b> ${esc(a.phone)}${a.name ? ` ${esc(a.name)}` : ""}` : `<b>#${inc.id}</b>`;
    const key = [source, isNew, selected, locked, inc.priority, label, inc.id].join("|");
    let marker = this.markers.get(a.id);
    if (!marker) {
      marker = L.marker(pos, { keyboard: true, riseOnHover: true });
      marker.on("click", (e) => {
        L.DomEvent.stopPropagation(e);
        if (this.picking) return this.onMapClick(e);
        this.handlers.onSelect(marker.bjIncidentId);
      });
      this.markers.set(a.id, marker);
    } else if (!marker.getLatLng().equals(pos)) {
      marker.setLatLng(pos);
    }
    marker.bjIncidentId = inc.id;
    marker.bjAlarmId = a.id;
    marker.bjSource = source;
    marker.bjLoc = loc;
    marker.bjSelected = selected;
    marker.bjNew = isNew;
    // The open incident's markers leave the clusters, so it is never hidden inside a number.
    const group = selected ? "sel" : isNew ? "new" : "claimed";
    if (marker.bjGroup !== group) {
      if (marker.bjGroup === "sel") this.selLayer.removeLayer(marker);
      else if (marker.bjGroup) {
        // Out of its cluster group at once if it is there (a selection, a claim: one marker).
        if (this.batch[marker.bjGroup].add.has(marker)) this.batch[marker.bjGroup].add.delete(marker);
        else this.groups[marker.bjGroup].removeLayer(marker);
      }
      marker.bjGroup = group;
      if (group === "sel") marker.addTo(this.selLayer); else this.queueAdd(group, marker);
    }
    if (this.markerKeys.get(a.id) !== key) {
      this.markerKeys.set(a.id, key);
      const cls = ["bj-mk", `src-${source}`, `p${inc.priority}`, isNew ? "is-new" : "", selected ? "is-sel" : ""]
        .filter(Boolean).join(" ");
      // The label is part of the icon, not a Leaflet tooltip: a tooltip measures itself when it
      // opens (a forced layout of the whole page per marker), and thousands come and go here.
      const tipCls = `bj-label p${inc.priority}${isNew ? " is-new" : ""}${selected ? " is-sel" : ""}`;
      marker.setIcon(L.divIcon({
        className: "bj-mk-wrap",
        html: `<div class="${cls}" data-testid="map-marker" data-alarm-id="${a.id}" data-incident-id="${inc.id}"
          data-source="${source}" data-locked="${locked}">${shapeSvg(source, 28, locked)}</div><span
          class="${tipCls}">${label}</span>`,
        iconSize: [28, 28], iconAnchor: [14, 14],
      }));
      marker.setZIndexOffset(selected ? 2000 : isNew ? 1000 : 0);
    }
  }

  // A cluster's badge: how many alarms; red for unclaimed ones.
  clusterIcon(cluster, kind) {
    const n = cluster.getChildCount();
    const size = clusterSize(n);
    const title = kind === "new" ? t("cluster_new", { n }) : t("cluster_claimed", { n });
    return L.divIcon({
      className: "bj-cluster-wrap",
      html: `<div class="bj-cluster${kind === "new" ? " has-new" : ""}" data-testid="map-cluster" data-count="${n}"
        data-kind="${kind}" data-size="${size}" title="${esc(title)}"><b>${n}</b></div>`,
      iconSize: [size, size], iconAnchor: [size / 2, size / 2],
    });
  }

  // Accuracy circles: for every alarm while they are few; with many, for the open incident only
  // (ten thousand translucent circles would cover the city and cost seconds to draw).
  syncCircles() {
    const all = this.markers.size <= CIRCLES_UP_TO;
    // With many alarms only the open incident's circles: look at those and at the circles drawn.
    const look = all ? this.markers.keys()
      : new Set([...this.circles.keys(), ...(this.alarmsOf.get(this.selectedId) || [])]);
    for (const aid of look) {
      const marker = this.markers.get(aid);
      const want = Boolean(marker) && (all || marker.bjSelected);
      let circle = this.circles.get(aid);
      if (!want) {
        if (circle) {
          this.circleLayer.removeLayer(circle);
          this.circles.delete(aid);
        }
        continue;
      }
      const loc = marker.bjLoc;
      const pos = marker.getLatLng();
      const acc = Number.isFinite(loc.accuracy_m) && loc.accuracy_m > 0 ? loc.accuracy_m : 0;
      const color = COLORS[marker.bjSource] || COLORS.unknown;
      const selected = marker.bjSelected;
      const style = {
        color, weight: selected ? 2 : 1, opacity: selected ? 0.95 : 0.7, fillColor: color,
        fillOpacity: selected ? 0.14 : 0.07, dashArray: marker.bjSource === "network" ? "4 4" : null,
      };
      if (!circle) {
        circle = L.circle(pos, { pane: "bj-circles", radius: acc, interactive: false, ...style });
        circle.addTo(this.circleLayer);
        circle.bjKey = "";
        this.circles.set(aid, circle);
      }
      const key = `${pos.lat},${pos.lng},${acc},${selected},${marker.bjSource}`;
      if (circle.bjKey !== key) {
        circle.bjKey = key;
        circle.setLatLng(pos);
        circle.setRadius(acc);
        circle.setStyle(style);
      }
    }
  }

  dropTrail(alarmId) {
    const old = this.trailLayers.get(alarmId);
    if (old) {
      this.trailLayer.removeLayer(old.group);
      this.trailLayers.delete(alarmId);
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
