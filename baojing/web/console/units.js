// Units (警力): how they look (status colour, kind pictogram) and the units panel, a tab next to
// the queue: call sign, station, status, officers, how old the last position is (ticking), filter
// by station (remembered) and "show off duty". Drawn with lit-html.
import { html, render, nothing } from "/vendor/lit-html/lit-html.js";
import { repeat } from "/vendor/lit-html/directives/repeat.js";
import { unsafeHTML } from "/vendor/lit-html/directives/unsafe-html.js";
import { now } from "./clock.js";
import { parseTime } from "/shared/time.js";
import { t, pick, durationText } from "/shared/i18n.js";
import { unitStatusLabel, kindLabel, stationShort } from "./i18n.js";

export const UNIT_STATUSES = ["available", "dispatched", "en_route", "on_scene", "busy", "off_duty"];
export const UNIT_COLORS = {
  available: "#22c55e", dispatched: "#f59e0b", en_route: "#3b82f6", on_scene: "#a855f7", busy: "#6b7280",
  off_duty: "#374151",
};
// A unit on duty that has not reported for this long is stale (as the server's `stale`).
export const STALE_MS = 120000;

const KEY_STATION = "baojing.console.unitStation";
const KEY_OFF = "baojing.console.showOffDuty";

// Pictograms, 16×16, drawn in currentColor.
const GLYPHS = {
  car: `<path d="M3 9.2 4.4 5.3A1.6 1.6 0 0 1 5.9 4.2h4.2a1.6 1.6 0 0 1 1.5 1.1L13 9.2h.4c.6 0 1 .4 1 1v2.3h-1.5v1.2
    h-2v-1.2H5.1v1.2h-2v-1.2H1.6v-2.3c0-.6.4-1 1-1zm1.8 0h6.4l-1-2.9a.6.6 0 0 0-.6-.4H6.4a.6.6 0 0 0-.6.4zM4 11.6a1 1 0 1
    0 0-.1zm8 0a1 1 0 1 0 0-.1z" fill="currentColor" fill-rule="evenodd"/>`,
  motorbike: `<circle cx="3.6" cy="11" r="2.4" fill="none" stroke="currentColor" stroke-width="1.6"/>
    <circle cx="12.4" cy="11" r="2.4" fill="none" stroke="currentColor" stroke-width="1.6"/>
    <path d="M3.6 11 6.6 7h3.6l2.2 4M8.6 7 9.8 4.2H12" fill="none" stroke="currentColor" stroke-width="1.7"
    stroke-linejoin="round" stroke-linecap="round"/>`,
  foot: `<circle cx="8.6" cy="2.6" r="1.8" fill="currentColor"/><path d="M8.2 5.4 6.4 9.2l2.4 1.6-.8 4M8.2 5.4l3 2.6
    M8.2 5.4 5.2 7.4M6.4 9.2 4.8 14" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"
    stroke-linejoin="round"/>`,
};

export function kindSvg(kind, size = 16) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 16 16"
    aria-hidden="true">${GLYPHS[kind] || GLYPHS.car}</svg>`;
}

export const kindTpl = (kind, size = 16) =>
  html`<span class="kind-ico" title=${kindLabel(kind)}>${unsafeHTML(kindSvg(kind, size))}</span>`;

// Age of a unit's last position in ms (null: never reported).
export function positionAge(u, nowMs = now()) {
  const at = u.position && parseTime(u.position.at);
  return at ? Math.max(0, nowMs - at) : null;
}

export function isStale(u, nowMs = now()) {
  if (u.status === "off_duty") return false;
  const age = positionAge(u, nowMs);
  return age === null || age > STALE_MS;
}

function remembered(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v;
  } catch {
    return fallback;
  }
}

function remember(key, value) {
  try { localStorage.setItem(key, value); } catch { /* private mode: not remembered */ }
}

export class UnitsView {
  constructor(el, handlers) {
    this.el = el;
    this.handlers = handlers;  // onLocate(unitId), onSelectIncident(id), onFilter()
    this.station = remembered(KEY_STATION, "");
    this.showOff = remembered(KEY_OFF, "0") === "1";
    this.stations = [];
    this.units = null;
    this.ctx = null;
  }

  setStations(stations) {
    this.stations = stations || [];
    if (this.station && !this.stations.some((s) => String(s.id) === this.station)) this.station = "";
  }

  relabel() {
    this.draw();
  }

  // Does the filter let this unit show (in the list and on the map)?
  passes(u) {
    if (this.station && String(u.station_id) !== this.station) return false;
    if (u.status === "off_duty" && !this.showOff) return false;
    return true;
  }

  // units: Map<id, UnitOut>; ctx: {stationsById, myStationId}
  render(units, ctx) {
    this.units = units;
    this.ctx = ctx;
    this.draw();
  }

  // Every second: "position 12 s ago", and stale (over 2 min) said plainly.
  tick() {
    this.draw();
  }

  draw() {
    if (!this.units || !this.ctx) return;
    const all = [...this.units.values()].filter((u) => !this.station || String(u.station_id) === this.station);
    const counts = { available: 0, out: 0, busy: 0, off: 0 };
    for (const u of all) {
      if (u.status === "available") counts.available += 1;
      else if (u.status === "busy") counts.busy += 1;
      else if (u.status === "off_duty") counts.off += 1;
      else counts.out += 1;
    }
    const shown = all.filter((u) => this.passes(u)).sort((a, b) => a.station_id - b.station_id ||
      a.call_sign.localeCompare(b.call_sign, "zh") || a.id - b.id);
    const n = now();
    render(html`<div class="units-bar">
        <select data-testid="units-station" aria-label=${t("units_all_stations")} @change=${(e) => this.filter(KEY_STATION, e.target.value)}>
          <option value="" .selected=${!this.station}>${t("units_all_stations")}</option>
          ${this.stations.map((s) => html`<option value=${String(s.id)} title=${pick(s)} .selected=${this.station === String(s.id)}>${pick(s)}</option>`)}
        </select>
        <label class="units-off"><input type="checkbox" data-testid="units-show-off" .checked=${this.showOff}
          @change=${(e) => this.filter(KEY_OFF, e.target.checked ? "1" : "0")}><span>${t("units_show_off")}</span></label>
      </div>
      <div class="units-summary" data-testid="units-summary">${t("units_summary", { a: counts.available, d: counts.out, b: counts.busy, o: counts.off })}</div>
      <div class="units-list" data-testid="units-list" role="list">${shown.length
        ? repeat(shown, (u) => u.id, (u) => this.row(u, n)) : html`<div class="units-empty muted" data-testid="units-empty">${t("units_empty")}</div>`}</div>`,
    this.el);
  }

  filter(key, value) {
    if (key === KEY_STATION) this.station = value;
    else this.showOff = value === "1";
    remember(key, value);
    this.handlers.onFilter();
  }

  row(u, n) {
    const ctx = this.ctx;
    const st = ctx.stationsById.get(u.station_id);
    const members = (u.members || []).map((m) => m.display_name).join("、");
    const age = positionAge(u, n);
    const stale = isStale(u, n);
    const pos = age === null ? (u.status === "off_duty" ? "" : t("pos_none"))
      : t(stale ? "pos_stale" : "pos_ago", { t: durationText(age) });
    const locate = () => this.handlers.onLocate(u.id);
    return html`<div class="urow us-${u.status}${stale ? " stale" : ""}" data-testid="unit-row" role="listitem" tabindex="0"
      data-unit-id=${u.id} data-status=${u.status} data-stale=${String(stale)} @click=${locate}
      @keydown=${(e) => { if (e.key === "Enter") locate(); }}>
      <div class="u1">
        <span class="u-dot" aria-hidden="true"></span>
        ${kindTpl(u.kind, 16)}
        <span class="u-cs" data-testid="unit-call-sign">${u.call_sign}</span>
        <span class="u-st" title=${st ? pick(st) : ""}>${stationShort(st)}${ctx.myStationId && u.station_id === ctx.myStationId
          ? html`<span class="tag mine">${t("mine_badge")}</span>` : nothing}</span>
        <span class="ustatus us-${u.status}" data-testid="unit-status" data-status=${u.status}>${unitStatusLabel(u.status)}</span>
        ${u.incident_id ? html`<button type="button" class="btn btn-small u-inc" data-testid="unit-incident" data-incident-id=${u.incident_id}
          @click=${(e) => { e.stopPropagation(); this.handlers.onSelectIncident(u.incident_id); }}>#${u.incident_id}</button>` : nothing}
      </div>
      <div class="u2">
        <span class=${members ? "u-members" : "u-members muted"}>${members || t("units_no_members")}</span>
        <span class="u-pos${stale && u.status !== "off_duty" ? " stale" : ""}" data-testid="unit-pos-age">${pos}</span>
      </div>
    </div>`;
  }
}
