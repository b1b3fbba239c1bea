// The stations map: district outlines (dashed, approximate), every station's jurisdiction and
// position, and the drawing of one station's jurisdiction by clicking points.
// Everything the page keeps is WGS-84 [lat, lon]; when the tiles are GCJ-02 (AMap) positions are
// shifted for drawing and clicked points shifted back.
/* global L */
import { t, pick } from "/shared/i18n.js";
import { esc } from "./util.js";
import { BaseMap, DistrictLayer } from "/shared/basemap.js";

const PALETTE = ["#38bdf8", "#f472b6", "#a3e635", "#fb923c", "#c084fc", "#2dd4bf", "#f87171", "#facc15"];
const DRAFT = "#fde047";
const round6 = (x) => Math.round(x * 1e6) / 1e6;

export const stationColor = (s) => PALETTE[(Number(s.id) || 0) % PALETTE.length];

// Where a station's name may sit around its marker, in order of preference.
const LABEL_PLACES = [["right", [10, 0]], ["left", [-10, 0]], ["top", [0, -10]], ["bottom", [0, 10]]];

export class StationMap extends BaseMap {
  // handlers: {onSelect(stationId), onDraftChange({points, position})}
  constructor(el, config, handlers) {
    super(el, config, { zoom: (config.map && config.map.zoom) || 11, doubleClickZoom: false });
    this.handlers = handlers;
    this.stations = [];
    this.selectedId = null;
    this.mode = null;          // null | "draw" | "position"
    this.draft = null;         // {points: [[lat, lon]], position: [lat, lon] | null, editingId}

    this.map.createPane("bj-districts").style.zIndex = 350;
    this.map.createPane("bj-juris").style.zIndex = 380;
    this.map.createPane("bj-draft").style.zIndex = 420;
    this.districts = new DistrictLayer(this);
    this.jurisLayer = L.layerGroup().addTo(this.map);
    this.stationLayer = L.layerGroup().addTo(this.map);
    this.draftLayer = L.layerGroup().addTo(this.map);
    this.districts.draw(config.districts);
    this.addLegend();
    this.addFitButton();
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(this.map);
    this.map.on("click", (e) => this.onClick(e));
    this.map.on("zoomend moveend resize", () => this.declutter());
  }

  toWgs(ll) {
    const [lat, lon] = super.toWgs(ll);
    return [round6(lat), round6(lon)];
  }

  invalidate() {
    this.map.invalidateSize({ pan: false });
  }

  // ---- stations --------------------------------------------------------------------------------
  setStations(stations, selectedId = this.selectedId) {
    this.stations = stations;
    this.selectedId = selectedId;
    this.jurisLayer.clearLayers();
    this.stationLayer.clearLayers();
    this.polys = new Map();
    const drawing = Boolean(this.draft);
    this.labels = [];
    for (const s of stations) {
      const color = stationColor(s);
      const editing = drawing && this.draft.editingId === s.id;
      if (editing) continue;  // the draft stands in for it
      const sel = s.id === selectedId;
      if (Array.isArray(s.jurisdiction) && s.jurisdiction.length >= 3) {
        const poly = L.polygon(s.jurisdiction.map(([lat, lon]) => this.toMap(lat, lon)), {
          pane: "bj-juris", color, weight: sel ? 4 : 2, opacity: drawing ? 0.45 : 0.95,
          fillColor: color, fillOpacity: drawing ? 0.04 : sel ? 0.28 : 0.12, interactive: !drawing,
        });
        if (!drawing) {
          poly.bindTooltip(esc(`${pick(s)} · ${s.code}`), { sticky: true, className: "bj-station-tip" });
          poly.on("click", () => this.handlers.onSelect(s.id));
        }
        poly.bjStationId = s.id;
        poly.addTo(this.jurisLayer);
        this.polys.set(s.id, poly);
      }
      if (Number.isFinite(s.lat) && Number.isFinite(s.lon)) {
        const m = L.marker(this.toMap(s.lat, s.lon), {
          icon: L.divIcon({ className: "bj-station-wrap", html: `<span class="bj-station${sel ? " sel" : ""}"
            style="border-color:${color}" data-testid="map-station" data-id="${s.id}">警</span>`,
          iconSize: [20, 20], iconAnchor: [10, 10] }),
          keyboard: false, interactive: !drawing, opacity: drawing ? 0.6 : 1,
        });
        m.bindTooltip(`<i class="sw" style="background:${color}"></i>${esc(pick(s))}`, { permanent: true, direction: "right", offset: [10, 0],
          opacity: drawing ? 0.5 : 0.9, className: `bj-station-label${sel ? " sel" : ""}` });
        if (!drawing) m.on("click", () => this.handlers.onSelect(s.id));
        m.addTo(this.stationLayer);
        this.labels.push({ marker: m, sel });
      }
    }
    this.declutter();
  }

  // Names must be read whole and apart, in English too (long names): a district's name is kept inside
  // the map; a station's name tries the right of its marker, then the left, above and below, clear of
  // the other names and markers, and is left out (it is in the table, and in the tip over its
  // jurisdiction) when it fits nowhere. The selected station is placed first.
  declutter() {
    const size = this.map.getSize();
    if (!size.x || !size.y) return;  // not on screen (the other tab): done when it is
    const box = this.map.getContainer().getBoundingClientRect();
    const rect = (el) => el.getBoundingClientRect();
    const taken = this.districts.place();
    const labels = (this.labels || []).filter((l) => l.marker.getElement() && l.marker.getTooltip()?.getElement());
    for (const l of labels) taken.push(rect(l.marker.getElement()));
    const fits = (r) => r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom &&
      !taken.some((o) => r.left < o.right && o.left < r.right && r.top < o.bottom && o.top < r.bottom);
    for (const { marker } of [...labels].sort((a, b) => b.sel - a.sel)) {
      const tip = marker.getTooltip(), el = tip.getElement();
      let placed = false;
      for (const [direction, offset] of LABEL_PLACES) {
        Object.assign(tip.options, { direction, offset: L.point(offset) });
        tip.update();
        if (fits(rect(el))) {
          taken.push(rect(el));
          placed = true;
          break;
        }
      }
      el.style.visibility = placed ? "" : "hidden";
    }
  }

  relabel() {
    this.districts.relabel();
    this.setStations(this.stations, this.selectedId);
    this.renderLegend();
    if (this.fitEl) this.fitEl.title = t("fit_all");
  }

  boundsOf(s) {
    let b = null;
    const add = (lat, lon) => {
      const ll = this.toMap(lat, lon);
      b = b ? b.extend(ll) : L.latLngBounds(ll, ll);
    };
    for (const [lat, lon] of s.jurisdiction || []) add(lat, lon);
    if (Number.isFinite(s.lat) && Number.isFinite(s.lon)) add(s.lat, s.lon);
    return b;
  }

  focusStation(s) {
    const b = this.boundsOf(s);
    if (b) this.map.fitBounds(b.pad(0.15), { maxZoom: 15, animate: false });
  }

  fitAll() {
    let b = null;
    for (const s of this.stations) {
      const sb = this.boundsOf(s);
      if (sb) b = b ? b.extend(sb) : sb;
    }
    const d = this.districts.bounds();
    if (d) b = b ? b.extend(d) : d;
    if (b) this.map.fitBounds(b, { padding: [20, 20], animate: false });
  }

  // ---- drawing one station's jurisdiction ------------------------------------------------------
  startDraft({ points, position, editingId }) {
    this.draft = { points: (points || []).map((p) => [...p]), position: position ? [...position] : null, editingId };
    this.mode = "draw";
    this.map.getContainer().classList.add("bj-drawing");
    this.setStations(this.stations, editingId);
    this.renderDraft();
  }

  stopDraft() {
    this.draft = null;
    this.mode = null;
    this.map.getContainer().classList.remove("bj-drawing", "bj-picking");
    this.draftLayer.clearLayers();
    this.setStations(this.stations, this.selectedId);
  }

  // From the form (typed text or coordinates): redraw without calling back.
  setDraftPoints(points) {
    if (!this.draft) return;
    this.draft.points = points.map((p) => [...p]);
    this.renderDraft();
  }

  setDraftPosition(position) {
    if (!this.draft) return;
    this.draft.position = position ? [...position] : null;
    this.renderDraft();
  }

  undoPoint() {
    if (!this.draft || !this.draft.points.length) return;
    this.draft.points.pop();
    this.changed();
  }

  clearPoints() {
    if (!this.draft) return;
    this.draft.points = [];
    this.changed();
  }

  pickPosition(on = true) {
    if (!this.draft) return;
    this.mode = on ? "position" : "draw";
    this.map.getContainer().classList.toggle("bj-picking", on);
    this.handlers.onDraftChange({ ...this.snapshot(), mode: this.mode });
  }

  snapshot() {
    return { points: this.draft.points.map((p) => [...p]), position: this.draft.position ? [...this.draft.position] : null };
  }

  changed() {
    this.renderDraft();
    this.handlers.onDraftChange({ ...this.snapshot(), mode: this.mode });
  }

  onClick(e) {
    if (!this.draft) return;
    const p = this.toWgs(e.latlng);
    if (this.mode === "position") {
      this.draft.position = p;
      this.mode = "draw";
      this.map.getContainer().classList.remove("bj-picking");
    } else {
      this.draft.points.push(p);
    }
    this.changed();
  }

  renderDraft() {
    this.draftLayer.clearLayers();
    if (!this.draft) return;
    const pts = this.draft.points;
    const latlngs = pts.map(([lat, lon]) => this.toMap(lat, lon));
    if (latlngs.length >= 3) {
      this.draftShape = L.polygon(latlngs, { pane: "bj-draft", color: DRAFT, weight: 3, fillColor: DRAFT,
        fillOpacity: 0.16, dashArray: null }).addTo(this.draftLayer);
    } else if (latlngs.length === 2) {
      this.draftShape = L.polyline(latlngs, { pane: "bj-draft", color: DRAFT, weight: 3 }).addTo(this.draftLayer);
    } else {
      this.draftShape = null;
    }
    latlngs.forEach((ll, i) => {
      const last = i === latlngs.length - 1;
      const m = L.marker(ll, {
        draggable: true, keyboard: false, zIndexOffset: 500,
        icon: L.divIcon({ className: "bj-vertex-wrap", html: `<span class="bj-vertex${last ? " last" : ""}"
          data-testid="draft-vertex" data-index="${i}">${i + 1}</span>`, iconSize: [22, 22], iconAnchor: [11, 11] }),
      });
      m.on("drag", () => {
        if (this.draftShape) {
          const cur = this.draftShape.getLatLngs();
          const ring = Array.isArray(cur[0]) ? cur[0] : cur;
          ring[i] = m.getLatLng();
          this.draftShape.setLatLngs(ring);
        }
      });
      m.on("dragend", () => {
        this.draft.points[i] = this.toWgs(m.getLatLng());
        this.changed();
      });
      m.addTo(this.draftLayer);
    });
    const pos = this.draft.position;
    if (pos && Number.isFinite(pos[0]) && Number.isFinite(pos[1])) {
      L.marker(this.toMap(pos[0], pos[1]), {
        keyboard: false, interactive: false, zIndexOffset: 1000,
        icon: L.divIcon({ className: "bj-station-wrap", html: `<span class="bj-station draft" data-testid="draft-position">警</span>`,
          iconSize: [22, 22], iconAnchor: [11, 11] }),
      }).addTo(this.draftLayer);
    }
  }

  // ---- controls --------------------------------------------------------------------------------
  addLegend() {
    const view = this;
    const Legend = L.Control.extend({
      options: { position: "bottomleft" },
      onAdd() {
        const div = L.DomUtil.create("div", "bj-legend");
        div.setAttribute("data-testid", "map-legend");
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        view.legendEl = div;
        return div;
      },
    });
    new Legend().addTo(this.map);
    this.renderLegend();
  }

  renderLegend() {
    if (!this.legendEl) return;
    this.legendEl.innerHTML = `<div class="lg-head">${esc(t("legend_title"))}</div>
      <div class="lg-row"><svg width="22" height="12"><path d="M1 6 H21" stroke="#93a4c3" stroke-width="2"
        stroke-dasharray="5 3"/></svg><span>${esc(t("legend_district"))}</span></div>
      <div class="lg-row"><svg width="22" height="14"><rect x="1" y="1" width="20" height="12" fill="#38bdf8"
        fill-opacity=".2" stroke="#38bdf8" stroke-width="2"/></svg><span>${esc(t("legend_jurisdiction"))}</span></div>
      <div class="lg-row"><span class="bj-station lg-station">警</span><span>${esc(t("legend_station"))}</span></div>
      <div class="lg-row"><svg width="22" height="14"><rect x="1" y="1" width="20" height="12" fill="${DRAFT}"
        fill-opacity=".2" stroke="${DRAFT}" stroke-width="2.5"/></svg><span>${esc(t("legend_draft"))}</span></div>
      ${this.tiles ? "" : `<div class="lg-note" data-testid="no-basemap">${esc(t("no_basemap"))}</div>`}`;
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
          fill="none" stroke="currentColor" stroke-width="2"/></svg>`;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.on(a, "click", (e) => {
          L.DomEvent.preventDefault(e);
          view.fitAll();
        });
        view.fitEl = a;
        a.title = t("fit_all");
        return div;
      },
    });
    new Fit().addTo(this.map);
  }
}
