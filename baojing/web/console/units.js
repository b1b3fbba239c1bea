// Units (警力): how they look (status colour, kind pictogram) and the units panel, a tab next to
// the queue: call sign, station, status, officers, how old the last position is (ticking), filter
// by station (remembered) and "show off duty".
import { h, clear, now } from "./util.js";
import { parseTime } from "/shared/time.js";
import { t, pick, getLang, durationText } from "/shared/i18n.js";
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

export function kindEl(kind, size = 16) {
  const el = h("span", { class: "kind-ico", title: kindLabel(kind) });
  el.innerHTML = kindSvg(kind, size);
  return el;
}

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
    this.rows = new Map();  // unit id -> {el, key}
    this.stations = [];
    this.stationSel = h("select", { testid: "units-station", "aria-label": t("units_all_stations"),
      onchange: () => {
        this.station = this.stationSel.value;
        remember(KEY_STATION, this.station);
        this.handlers.onFilter();
      } });
    this.offBox = h("input", { type: "checkbox", testid: "units-show-off", checked: this.showOff,
      onchange: () => {
        this.showOff = this.offBox.checked;
        remember(KEY_OFF, this.showOff ? "1" : "0");
        this.handlers.onFilter();
      } });
    this.offLabel = h("span", {});
    this.summary = h("div", { class: "units-summary", testid: "units-summary" });
    this.list = h("div", { class: "units-list", testid: "units-list", role: "list" });
    this.empty = h("div", { class: "units-empty muted", testid: "units-empty" });
    el.append(h("div", { class: "units-bar" }, this.stationSel, h("label", { class: "units-off" }, this.offBox,
      this.offLabel)), this.summary, this.list);
  }

  setStations(stations) {
    this.stations = stations || [];
    this.fillStations();
  }

  fillStations() {
    clear(this.stationSel).append(h("option", { value: "" }, t("units_all_stations")),
      ...this.stations.map((s) => h("option", { value: String(s.id), title: pick(s) }, pick(s))));
    if (this.station && !this.stations.some((s) => String(s.id) === this.station)) this.station = "";
    this.stationSel.value = this.station;
    this.offLabel.textContent = t("units_show_off");
  }

  relabel() {
    this.fillStations();
    for (const row of this.rows.values()) row.key = null;
  }

  // Does the filter let this unit show (in the list and on the map)?
  passes(u) {
    if (this.station && String(u.station_id) !== this.station) return false;
    if (u.status === "off_duty" && !this.showOff) return false;
    return true;
  }

  // units: Map<id, UnitOut>; ctx: {stationsById, myStationId}
  render(units, ctx) {
    this.ctx = ctx;
    const all = [...units.values()].filter((u) => !this.station || String(u.station_id) === this.station);
    const counts = { available: 0, out: 0, busy: 0, off: 0 };
    for (const u of all) {
      if (u.status === "available") counts.available += 1;
      else if (u.status === "busy") counts.busy += 1;
      else if (u.status === "off_duty") counts.off += 1;
      else counts.out += 1;
    }
    this.summary.textContent = t("units_summary", { a: counts.available, d: counts.out, b: counts.busy, o: counts.off });
    const shown = all.filter((u) => this.passes(u)).sort((a, b) => a.station_id - b.station_id ||
      a.call_sign.localeCompare(b.call_sign, "zh") || a.id - b.id);
    const seen = new Set();
    for (const u of shown) {
      seen.add(u.id);
      let row = this.rows.get(u.id);
      if (!row) {
        const el = h("div", { class: "urow", testid: "unit-row", role: "listitem", tabindex: "0",
          onclick: () => this.handlers.onLocate(el.bjUnitId),
          onkeydown: (e) => { if (e.key === "Enter") this.handlers.onLocate(el.bjUnitId); } });
        row = { el, key: null };
        this.rows.set(u.id, row);
      }
      const key = JSON.stringify([u.status, u.call_sign, u.kind, u.station_id, u.incident_id, u.members, Boolean(u.position),
        getLang(), ctx.myStationId]);
      if (row.key !== key) {
        row.key = key;
        this.fillRow(row.el, u, ctx);
      }
      row.el.bjUnit = u;
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    let cursor = this.list.firstElementChild;
    if (cursor === this.empty) {
      this.empty.remove();
      cursor = this.list.firstElementChild;
    }
    for (const u of shown) {
      const el = this.rows.get(u.id).el;
      if (cursor === el) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(el, cursor);
    }
    if (!shown.length) {
      this.empty.textContent = t("units_empty");
      this.list.append(this.empty);
    }
    this.tick();
  }

  fillRow(el, u, ctx) {
    el.bjUnitId = u.id;
    el.dataset.unitId = u.id;
    el.dataset.status = u.status;
    el.className = `urow us-${u.status}`;
    const st = ctx.stationsById.get(u.station_id);
    const members = (u.members || []).map((m) => m.display_name).join("、");
    clear(el).append(
      h("div", { class: "u1" },
        h("span", { class: "u-dot", "aria-hidden": "true" }),
        kindEl(u.kind, 16),
        h("span", { class: "u-cs", testid: "unit-call-sign" }, u.call_sign),
        h("span", { class: "u-st", title: st ? pick(st) : "" }, stationShort(st),
          ctx.myStationId && u.station_id === ctx.myStationId ? h("span", { class: "tag mine" }, t("mine_badge")) : null),
        h("span", { class: `ustatus us-${u.status}`, testid: "unit-status", dataset: { status: u.status } },
          unitStatusLabel(u.status)),
        u.incident_id ? h("button", { type: "button", class: "btn btn-small u-inc", testid: "unit-incident",
          dataset: { incidentId: u.incident_id },
          onclick: (e) => { e.stopPropagation(); this.handlers.onSelectIncident(u.incident_id); } }, `#${u.incident_id}`)
          : null),
      h("div", { class: "u2" },
        h("span", { class: members ? "u-members" : "u-members muted" }, members || t("units_no_members")),
        h("span", { class: "u-pos", testid: "unit-pos-age" })));
  }

  // Every second: "position 12 s ago", and stale (over 2 min) said plainly.
  tick() {
    const n = now();
    for (const row of this.rows.values()) {
      const u = row.el.bjUnit;
      if (!u) continue;
      const pos = row.el.querySelector(".u-pos");
      const age = positionAge(u, n);
      const stale = isStale(u, n);
      row.el.classList.toggle("stale", stale);
      row.el.dataset.stale = String(stale);
      let text;
      if (age === null) text = u.status === "off_duty" ? "" : t("pos_none");
      else if (stale) text = t("pos_stale", { t: durationText(age) });
      else text = t("pos_ago", { t: durationText(age) });
      if (pos.textContent !== text) pos.textContent = text;
      pos.classList.toggle("stale", stale && u.status !== "off_duty");
    }
  }
}
