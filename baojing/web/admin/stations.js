// Stations tab: the table and the add/edit form (the map drawing lives in adminmap.js).
import { post, put } from "/shared/api.js";
import { t, pick, errorText, lang } from "/shared/i18n.js";
import { h, clear, fix6 } from "./util.js";
import { parseRing, formatRing, insideRing, ringsOverlap } from "./csv.js";
import { stationColor } from "./adminmap.js";

const matches = (s, q) => !q || [s.code, s.name_zh, s.name_en, s.address].some((v) => String(v || "").toLowerCase().includes(q));

export function renderStationsTable(el, stations, { filter, selectedId, fresh, onSelect, onEdit }) {
  clear(el);
  const q = (filter || "").trim().toLowerCase();
  const rows = stations.filter((s) => matches(s, q));
  const body = h("tbody", null, rows.map((s) => {
    const n = Array.isArray(s.jurisdiction) ? s.jurisdiction.length : 0;
    return h("tr", {
      testid: "station-row", dataset: { id: s.id, code: s.code, hasJurisdiction: String(n >= 3) },
      class: [s.id === selectedId ? "sel" : "", fresh && fresh.has(s.code) ? "fresh" : ""].join(" ").trim() || null,
      onclick: () => onSelect(s.id),
    },
    h("td", { class: "mono nowrap" }, h("span", { class: "swatch", style: `background:${stationColor(s)}` }), s.code),
    h("td", null, h("div", { class: "strong" }, s.name_zh), h("div", { class: "muted small" }, s.name_en)),
    h("td", { class: "mono small" }, `${fix6(s.lat)}, ${fix6(s.lon)}`),
    h("td", { testid: "station-jurisdiction" }, n >= 3
      ? h("span", { class: "ok nowrap" }, t("has_jurisdiction", { n }))
      : h("span", { class: "warn nowrap", title: t("no_jurisdiction_hint") }, `⚠ ${t("no_jurisdiction")}`)),
    h("td", { class: "act" }, h("button", {
      type: "button", class: "btn btn-small", testid: "station-edit", dataset: { id: s.id },
      onclick: (e) => { e.stopPropagation(); onEdit(s.id); },
    }, t("edit"))));
  }));
  el.append(h("table", { class: "grid", testid: "stations-table" },
    h("thead", null, h("tr", null, h("th", null, t("col_code")), h("th", null, t("col_name")),
      h("th", null, t("col_position")), h("th", null, t("col_jurisdiction")), h("th", null, ""))),
    body));
  if (!rows.length) el.append(h("p", { class: "empty muted" }, t("no_match")));
}

// The add/edit form. ctx: {map: StationMap, stations(): [], onSaved(station), onCancel()}
export class StationForm {
  constructor(pane, ctx) {
    this.pane = pane;
    this.ctx = ctx;
    this.s = null;
  }

  get isOpen() {
    return Boolean(this.s);
  }

  open(station) {
    const st = station || null;
    this.s = {
      mode: st ? "edit" : "add", id: st ? st.id : null, orig: st,
      code: st ? st.code : "", name_zh: st ? st.name_zh : "", name_en: st ? st.name_en : "",
      address: st ? st.address || "" : "", lat: st ? fix6(st.lat) : "", lon: st ? fix6(st.lon) : "",
      points: st && st.jurisdiction ? st.jurisdiction.map((p) => [...p]) : [],
      ringError: null, error: null, badFields: new Set(), saving: false, dirty: false, mapMode: "draw",
    };
    this.s.ringText = formatRing(this.s.points);
    this.ctx.map.startDraft({ points: this.s.points, position: this.position(), editingId: this.s.id });
    this.render();
    if (st) this.ctx.map.focusStation(st);
  }

  close() {
    this.s = null;
    this.ctx.map.stopDraft();
    clear(this.pane);
  }

  position() {
    const lat = Number(this.s.lat), lon = Number(this.s.lon);
    return this.s.lat !== "" && this.s.lon !== "" && Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null;
  }

  // The map changed the draft (a click, a drag, undo, clear, a picked position).
  fromMap({ points, position, mode }) {
    if (!this.s) return;
    this.s.points = points;
    this.s.ringText = formatRing(points);
    this.s.ringError = null;
    this.s.mapMode = mode;
    if (position) {
      const cur = this.position();
      if (!cur || cur[0] !== position[0] || cur[1] !== position[1]) {
        this.s.lat = fix6(position[0]);
        this.s.lon = fix6(position[1]);
        this.inputs.lat.value = this.s.lat;
        this.inputs.lon.value = this.s.lon;
      }
    }
    this.s.dirty = true;
    this.inputs.ring.value = this.s.ringText;
    this.update();
  }

  field(key, label, attrs = {}) {
    const input = h(attrs.multiline ? "textarea" : "input", {
      id: `sf-${key}`, name: key, testid: `station-${key.replace("_", "-")}`, value: this.s[key],
      autocomplete: "off", spellcheck: "false", ...attrs.input,
      oninput: (e) => {
        this.s[key] = e.target.value;
        this.s.dirty = true;
        this.s.badFields.delete(key);
        input.classList.remove("bad");
        if (key === "lat" || key === "lon") this.ctx.map.setDraftPosition(this.position());
        this.update();
      },
    });
    if (this.s.badFields.has(key)) input.classList.add("bad");
    this.inputs[key] = input;
    return h("div", { class: `field f-${key}` }, h("label", { for: `sf-${key}` }, label), input,
      attrs.hint ? h("div", { class: "hint muted small" }, attrs.hint) : null);
  }

  render() {
    const s = this.s;
    if (!s) return;
    this.inputs = {};
    clear(this.pane);
    const title = s.mode === "add" ? t("station_new") : t("station_edit", { code: s.orig.code });
    const ring = h("textarea", {
      id: "sf-ring", testid: "jurisdiction-text", rows: 3, spellcheck: "false", placeholder: t("j_text_ph"),
      value: s.ringText,
      oninput: (e) => this.fromText(e.target.value),
    });
    this.inputs.ring = ring;
    this.jStatus = h("div", { class: "j-status", testid: "jurisdiction-status" });
    this.ringErr = h("div", { class: "field-error", testid: "jurisdiction-error", role: "alert" });
    this.posWarn = h("div", { class: "field-warn", testid: "position-warning" });
    this.overlapWarn = h("div", { class: "field-warn", testid: "overlap-warning" });
    this.errEl = h("div", { class: "form-error", testid: "form-error", role: "alert" });
    this.pickBtn = h("button", { type: "button", class: "btn btn-small", testid: "station-pick-position",
      onclick: () => this.ctx.map.pickPosition(this.s.mapMode !== "position") }, t("pick_position"));
    this.saveBtn = h("button", { type: "submit", class: "btn btn-primary", testid: "station-save" }, t("save"));
    const form = h("form", {
      class: "form", testid: "station-form", dataset: { mode: s.mode, id: s.id ?? "" }, novalidate: true,
      onsubmit: (e) => { e.preventDefault(); this.save(); },
    },
    h("div", { class: "form-head" }, h("h2", null, title),
      h("button", { type: "button", class: "btn btn-small", testid: "station-cancel", onclick: () => this.cancel() }, t("back_to_list"))),
    h("div", { class: "form-body" },
      this.field("code", t("f_code"), { hint: t("f_code_hint"), input: { maxlength: 32, class: "mono" } }),
      h("div", { class: "row2" }, this.field("name_zh", t("f_name_zh"), { input: { maxlength: 80 } }),
        this.field("name_en", t("f_name_en"), { input: { maxlength: 80 } })),
      this.field("address", t("f_address"), { input: { maxlength: 200 } }),
      h("fieldset", { class: "group" }, h("legend", null, t("f_position")),
        h("div", { class: "row3" }, this.field("lat", t("f_lat"), { input: { inputmode: "decimal", class: "mono" } }),
          this.field("lon", t("f_lon"), { input: { inputmode: "decimal", class: "mono" } }),
          h("div", { class: "field" }, h("label", null, "\u00a0"), this.pickBtn)),
        this.posWarn),
      h("fieldset", { class: "group" }, h("legend", null, t("f_jurisdiction")),
        h("p", { class: "hint muted small" }, t("j_hint")),
        h("div", { class: "j-bar" }, this.jStatus,
          h("button", { type: "button", class: "btn btn-small", testid: "draw-undo", onclick: () => this.ctx.map.undoPoint() }, t("undo_point")),
          h("button", { type: "button", class: "btn btn-small", testid: "draw-clear", onclick: () => this.ctx.map.clearPoints() }, t("clear_points"))),
        h("label", { for: "sf-ring", class: "small" }, t("j_text_label")), ring, this.ringErr, this.overlapWarn)),
    h("div", { class: "form-foot" }, this.errEl, h("div", { class: "buttons" },
      h("button", { type: "button", class: "btn", onclick: () => this.cancel() }, t("cancel")), this.saveBtn)));
    this.pane.append(form);
    this.update();
  }

  fromText(text) {
    const s = this.s;
    s.ringText = text;
    s.dirty = true;
    const r = parseRing(text);
    if (r.error) {
      s.ringError = r.error;
    } else {
      s.ringError = null;
      s.points = r.points;
      this.ctx.map.setDraftPoints(r.points);
    }
    this.update();
  }

  // Everything that follows from the state without rebuilding the form (keeps focus and caret).
  update() {
    const s = this.s;
    if (!s || !this.jStatus) return;
    const n = s.points.length;
    this.jStatus.textContent = s.ringError ? t("j_text_bad", { n }) : n === 0 ? t("j_empty")
      : n < 3 ? t("j_too_few", { n }) : t("j_points", { n });
    this.jStatus.className = `j-status ${s.ringError ? "bad" : n === 0 ? "warn" : n < 3 ? "bad" : "ok"}`;
    this.jStatus.dataset.count = String(n);
    const re = s.ringError;
    this.ringErr.textContent = re ? t(re.key, { i: re.i, p: re.p }) : "";
    this.ringErr.hidden = !re;
    this.inputs.ring.classList.toggle("bad", Boolean(re) || s.badFields.has("jurisdiction"));
    const pos = this.position();
    const outside = pos && n >= 3 && !insideRing(pos[0], pos[1], s.points);
    this.posWarn.textContent = outside ? t("pos_outside") : "";
    this.posWarn.hidden = !outside;
    const overlaps = n >= 3 ? this.ctx.stations().filter((o) => o.id !== s.id && Array.isArray(o.jurisdiction) &&
      o.jurisdiction.length >= 3 && ringsOverlap(s.points, o.jurisdiction)) : [];
    this.overlapWarn.textContent = overlaps.length ? t("j_overlap", { names: overlaps.map((o) => pick(o)).join(lang === "zh" ? "、" : ", ") }) : "";
    this.overlapWarn.hidden = !overlaps.length;
    const picking = s.mapMode === "position";
    this.pickBtn.classList.toggle("active", picking);
    this.pickBtn.textContent = picking ? t("picking_position") : t("pick_position");
    this.saveBtn.disabled = s.saving;
    this.saveBtn.textContent = s.saving ? t("saving") : t("save");
    this.errEl.textContent = s.error ? (s.error.key ? t(s.error.key, s.error.vars) : errorText(s.error, { named: true })) : "";
    this.errEl.hidden = !s.error;
    if (s.error) this.errEl.dataset.code = s.error.code || s.error.key || "";
  }

  cancel() {
    if (this.s && this.s.dirty && !window.confirm(t("discard_changes"))) return;
    this.ctx.onCancel();
  }

  showError(error, fields = []) {
    const s = this.s;
    s.error = error;
    s.badFields = new Set(fields);
    for (const [k, el] of Object.entries(this.inputs)) el.classList.toggle("bad", s.badFields.has(k));
    this.update();
  }

  async save() {
    const s = this.s;
    if (!s || s.saving) return;
    const code = s.code.trim(), name_zh = s.name_zh.trim(), name_en = s.name_en.trim();
    const missing = [];
    if (!code) missing.push("code");
    if (!name_zh) missing.push("name_zh");
    if (!name_en) missing.push("name_en");
    if (s.lat.trim() === "") missing.push("lat");
    if (s.lon.trim() === "") missing.push("lon");
    if (missing.length) {
      const names = { code: "f_code", name_zh: "f_name_zh", name_en: "f_name_en", lat: "f_lat", lon: "f_lon" };
      return this.showError({ key: "err_required", vars: { fields: missing.map((k) => t(names[k])).join(lang === "zh" ? "、" : ", ") } }, missing);
    }
    const lat = Number(s.lat), lon = Number(s.lon);
    if (!Number.isFinite(lat)) return this.showError({ key: "err_number", vars: { field: t("f_lat") } }, ["lat"]);
    if (!Number.isFinite(lon)) return this.showError({ key: "err_number", vars: { field: t("f_lon") } }, ["lon"]);
    if (s.ringError) return this.showError({ key: s.ringError.key, vars: { i: s.ringError.i, p: s.ringError.p } }, ["ring"]);
    if (s.points.length && s.points.length < 3) {
      return this.showError({ key: "j_too_few", vars: { n: s.points.length } }, ["ring"]);
    }
    // POST with a code that exists replaces that station, and PUT with another station's code
    // fails on the server: catch both here.
    const clash = this.ctx.stations().find((o) => o.code === code && o.id !== s.id);
    if (clash) return this.showError({ key: "err_code_taken", vars: { code, name: pick(clash) } }, ["code"]);
    const body = { code, name_zh, name_en, lat, lon, address: s.address.trim() || null,
      jurisdiction: s.points.length ? s.points : null };
    s.saving = true;
    s.error = null;
    this.update();
    try {
      const saved = s.mode === "add" ? await post("/api/admin/stations", body) : await put(`/api/admin/stations/${s.id}`, body);
      s.saving = false;
      s.dirty = false;
      this.ctx.onSaved(saved);
    } catch (err) {
      s.saving = false;
      const fields = (err.errors || []).map((e) => String(e.field || "").split(".")[0]).map((f) => (f === "jurisdiction" ? "ring" : f));
      this.showError(err, fields);
    }
  }
}
