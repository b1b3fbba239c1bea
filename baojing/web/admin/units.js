// Units tab: the table and the add/edit form.
import { post, put } from "/shared/api.js";
import { t, pick, lang, errorText, label, labelCodes } from "/shared/i18n.js";
import { h, clear } from "./util.js";

const MAX_MEMBERS = 6;

function stationName(stationsById, id) {
  const st = stationsById.get(id);
  return st ? pick(st) : t("unknown_station", { id });
}

export function renderUnitsTable(el, units, { stationsById, filter, selectedId, fresh, onEdit }) {
  clear(el);
  const q = (filter || "").trim().toLowerCase();
  const rows = units.filter((u) => !q || [u.call_sign, stationName(stationsById, u.station_id),
    stationsById.get(u.station_id)?.code, ...(u.members || []).map((m) => m.display_name)]
    .some((v) => String(v || "").toLowerCase().includes(q)));
  const body = h("tbody", null, rows.map((u) => h("tr", {
    testid: "unit-row", dataset: { id: u.id, callSign: u.call_sign, status: u.status },
    class: [u.id === selectedId ? "sel" : "", fresh && fresh.has(u.call_sign) ? "fresh" : ""].join(" ").trim() || null,
    ondblclick: () => onEdit(u.id),
  },
  h("td", { class: "strong cs" }, u.call_sign),
  h("td", null, h("span", { class: `kind kind-${u.kind}` }, label("unit_kinds", u.kind))),
  h("td", null, stationName(stationsById, u.station_id),
    h("span", { class: "muted small mono" }, ` ${stationsById.get(u.station_id)?.code || ""}`)),
  h("td", { testid: "unit-members" }, (u.members || []).length
    ? (u.members || []).map((m) => h("span", { class: "chip", dataset: { userId: m.id } }, m.display_name))
    : h("span", { class: "muted" }, t("no_members"))),
  h("td", null, h("span", { class: `duty ${u.on_duty ? "on" : "off"}` }, u.on_duty ? t("on_duty_yes") : t("on_duty_no"))),
  h("td", null, u.status === "off_duty" ? h("span", { class: "muted" }, "—")
    : h("span", { class: `status st-${u.status}` }, label("unit_statuses", u.status)),
    u.stale ? h("span", { class: "warn small" }, ` · ${t("stale")}`) : null),
  h("td", { class: "act" }, h("button", {
    type: "button", class: "btn btn-small", testid: "unit-edit", dataset: { id: u.id },
    onclick: () => onEdit(u.id),
  }, t("edit"))))));
  el.append(h("table", { class: "grid", testid: "units-table" },
    h("thead", null, h("tr", null, h("th", null, t("col_call_sign")), h("th", null, t("col_kind")),
      h("th", null, t("col_station")), h("th", null, t("col_members")), h("th", null, t("col_on_duty")),
      h("th", null, t("col_status")), h("th", null, ""))),
    body));
  if (!rows.length) el.append(h("p", { class: "empty muted" }, t("no_match")));
}

// ctx: {stations(), stationsById(), units(), officers() -> [UserOut] | null, onSaved(unit), onCancel()}
export class UnitForm {
  constructor(pane, ctx) {
    this.pane = pane;
    this.ctx = ctx;
    this.s = null;
  }

  get isOpen() {
    return Boolean(this.s);
  }

  open(unit) {
    const u = unit || null;
    const ids = u ? (u.members || []).map((m) => m.id) : [];
    this.s = {
      mode: u ? "edit" : "add", id: u ? u.id : null, orig: u,
      call_sign: u ? u.call_sign : "", kind: u ? u.kind : "car", station_id: u ? u.station_id : "",
      members: new Set(ids), idsText: ids.join(" "), error: null, badFields: new Set(), saving: false, dirty: false,
    };
    this.render();
  }

  close() {
    this.s = null;
    clear(this.pane);
  }

  cancel() {
    if (this.s && this.s.dirty && !window.confirm(t("discard_changes"))) return;
    this.ctx.onCancel();
  }

  // userId -> the other unit holding that officer now
  otherUnits() {
    const out = new Map();
    for (const u of this.ctx.units()) {
      if (u.id === this.s.id) continue;
      for (const m of u.members || []) out.set(m.id, u);
    }
    return out;
  }

  render() {
    const s = this.s;
    if (!s) return;
    clear(this.pane);
    this.inputs = {};
    const title = s.mode === "add" ? t("unit_new") : t("unit_edit", { cs: s.orig.call_sign });
    const cs = h("input", { id: "uf-call-sign", testid: "unit-call-sign", value: s.call_sign, maxlength: 32,
      autocomplete: "off", oninput: (e) => { s.call_sign = e.target.value; this.touch("call_sign"); } });
    this.inputs.call_sign = cs;
    const kinds = h("div", { class: "radios", role: "radiogroup", testid: "unit-kind" }, labelCodes("unit_kinds").map((k) => h("label", { class: "radio" },
      h("input", { type: "radio", name: "uf-kind", value: k, checked: s.kind === k, testid: `unit-kind-${k}`,
        onchange: () => { s.kind = k; this.touch("kind"); } }),
      h("span", null, `${label("unit_kinds", k)} `, h("span", { class: "muted small mono" }, k)))));
    const stations = [...this.ctx.stations()].sort((a, b) => a.code.localeCompare(b.code));
    const sel = h("select", { id: "uf-station", testid: "unit-station",
      onchange: (e) => { s.station_id = e.target.value ? Number(e.target.value) : ""; this.touch("station_id"); this.renderMembers(); } },
    h("option", { value: "" }, t("choose_station")),
    stations.map((st) => h("option", { value: st.id, selected: st.id === s.station_id }, `${pick(st)} · ${st.code}`)));
    this.inputs.station_id = sel;
    this.membersBox = h("div", { class: "members", testid: "unit-members-box" });
    this.membersHead = h("span", { class: "muted small", testid: "members-count" });
    this.errEl = h("div", { class: "form-error", testid: "form-error", role: "alert" });
    this.saveBtn = h("button", { type: "submit", class: "btn btn-primary", testid: "unit-save" }, t("save"));
    const form = h("form", {
      class: "form", testid: "unit-form", dataset: { mode: s.mode, id: s.id ?? "" }, novalidate: true,
      onsubmit: (e) => { e.preventDefault(); this.save(); },
    },
    h("div", { class: "form-head" }, h("h2", null, title),
      h("button", { type: "button", class: "btn btn-small", testid: "unit-cancel", onclick: () => this.cancel() }, t("close"))),
    h("div", { class: "form-body" },
      h("div", { class: "field" }, h("label", { for: "uf-call-sign" }, t("f_call_sign")), cs,
        h("div", { class: "hint muted small" }, t("f_call_sign_hint"))),
      h("div", { class: "field" }, h("label", null, t("f_kind")), kinds),
      h("div", { class: "field" }, h("label", { for: "uf-station" }, t("f_station")), sel),
      h("div", { class: "field" }, h("div", { class: "label-row" }, h("label", null, t("f_members")), this.membersHead),
        this.membersBox)),
    h("div", { class: "form-foot" }, this.errEl, h("div", { class: "buttons" },
      h("button", { type: "button", class: "btn", onclick: () => this.cancel() }, t("cancel")), this.saveBtn)));
    this.pane.append(form);
    this.renderMembers();
  }

  touch(key) {
    this.s.dirty = true;
    this.s.badFields.delete(key);
    if (this.inputs[key]) this.inputs[key].classList.remove("bad");
    this.update();
  }

  renderMembers() {
    const s = this.s;
    const box = clear(this.membersBox);
    const officers = this.ctx.officers();
    if (!officers) {
      // No list of accounts: members by user id.
      const input = h("input", { testid: "unit-member-ids", value: s.idsText, class: "mono", autocomplete: "off",
        oninput: (e) => { s.idsText = e.target.value; this.touch("member_ids"); } });
      this.inputs.member_ids = input;
      box.append(h("label", { class: "small" }, t("member_ids_label")), input,
        h("div", { class: "hint warn small" }, t("member_ids_hint")));
      this.update();
      return;
    }
    const elsewhere = this.otherUnits();
    const byId = new Map(officers.map((o) => [o.id, o]));
    // Members whose account is not in the list (e.g. deactivated) stay visible so they can be removed.
    const extra = (s.orig?.members || []).filter((m) => !byId.has(m.id))
      .map((m) => ({ id: m.id, display_name: m.display_name, username: `#${m.id}`, station_id: null }));
    const rank = (o) => (s.members.has(o.id) ? 0 : o.station_id === s.station_id ? 1 : 2);
    const list = [...officers, ...extra].sort((a, b) => rank(a) - rank(b) || a.username.localeCompare(b.username));
    if (!list.length) box.append(h("p", { class: "muted" }, t("no_officers")));
    const stationsById = this.ctx.stationsById();
    for (const o of list) {
      const other = elsewhere.get(o.id);
      const st = o.station_id ? stationsById.get(o.station_id) : null;
      box.append(h("label", { class: `member${s.members.has(o.id) ? " on" : ""}`, testid: "member-option", dataset: { userId: o.id, username: o.username } },
        h("input", { type: "checkbox", checked: s.members.has(o.id), onchange: (e) => {
          if (e.target.checked) s.members.add(o.id); else s.members.delete(o.id);
          e.target.closest("label").classList.toggle("on", e.target.checked);
          this.touch("member_ids");
        } }),
        h("span", { class: "m-name" }, o.display_name, h("span", { class: "muted small mono" }, ` ${o.username}`)),
        h("span", { class: "m-sub small" }, h("span", { class: "muted" }, st ? pick(st) : ""),
          other ? h("span", { class: "m-other" }) : null)));
    }
    this.update();
  }

  memberIds() {
    const s = this.s;
    if (this.ctx.officers()) return { ids: [...s.members] };
    const parts = s.idsText.split(/[\s,，;]+/).filter(Boolean);
    const bad = parts.filter((p) => !/^\d+$/.test(p));
    if (bad.length) return { error: { key: "member_ids_bad", vars: { v: bad.join(" ") } } };
    return { ids: [...new Set(parts.map(Number))] };
  }

  update() {
    const s = this.s;
    if (!s || !this.saveBtn) return;
    const n = this.ctx.officers() ? s.members.size : null;
    this.membersHead.textContent = n === null ? "" : `${t("members_selected", { n })}${n > MAX_MEMBERS ? ` · ${t("members_too_many")}` : ""}`;
    this.membersHead.classList.toggle("bad-text", n !== null && n > MAX_MEMBERS);
    if (this.ctx.officers()) {
      // The "moves from X" notes follow the ticks.
      const elsewhere = this.otherUnits();
      for (const label of this.membersBox.querySelectorAll("[data-testid=member-option]")) {
        const id = Number(label.dataset.userId);
        const note = label.querySelector(".m-other");
        const other = elsewhere.get(id);
        if (note && other) {
          const on = s.members.has(id);
          note.textContent = on ? t("member_elsewhere", { cs: other.call_sign }) : t("member_in", { cs: other.call_sign });
          note.className = `m-other ${on ? "warn" : "muted"}`;
        }
      }
    }
    this.saveBtn.disabled = s.saving;
    this.saveBtn.textContent = s.saving ? t("saving") : t("save");
    this.errEl.textContent = s.error ? (s.error.key ? t(s.error.key, s.error.vars) : errorText(s.error, { named: true })) : "";
    this.errEl.hidden = !s.error;
    if (s.error) this.errEl.dataset.code = s.error.code || s.error.key || "";
  }

  showError(error, fields = []) {
    this.s.error = error;
    this.s.badFields = new Set(fields);
    for (const [k, el] of Object.entries(this.inputs)) el.classList.toggle("bad", this.s.badFields.has(k));
    this.update();
  }

  async save() {
    const s = this.s;
    if (!s || s.saving) return;
    const call_sign = s.call_sign.trim();
    const missing = [];
    if (!call_sign) missing.push("call_sign");
    if (!s.station_id) missing.push("station_id");
    if (missing.length) {
      const names = { call_sign: "f_call_sign", station_id: "f_station" };
      return this.showError({ key: "err_required", vars: { fields: missing.map((k) => t(names[k])).join(lang === "zh" ? "、" : ", ") } }, missing);
    }
    const m = this.memberIds();
    if (m.error) return this.showError(m.error, ["member_ids"]);
    if (m.ids.length > MAX_MEMBERS) return this.showError({ key: "members_too_many" }, ["member_ids"]);
    // POST with a call sign that exists replaces that unit, and PUT with another unit's call sign
    // fails on the server: catch both here.
    if (this.ctx.units().some((u) => u.call_sign === call_sign && u.id !== s.id)) {
      return this.showError({ key: "err_call_sign_taken", vars: { cs: call_sign } }, ["call_sign"]);
    }
    const body = { call_sign, kind: s.kind, station_id: s.station_id, member_ids: m.ids };
    s.saving = true;
    s.error = null;
    this.update();
    try {
      const saved = s.mode === "add" ? await post("/api/admin/units", body) : await put(`/api/admin/units/${s.id}`, body);
      s.saving = false;
      s.dirty = false;
      this.ctx.onSaved(saved);
    } catch (err) {
      s.saving = false;
      const fields = (err.errors || []).map((e) => String(e.field || "").split(".")[0]);
      if (err.code === "bad_members") fields.push("member_ids");
      if (err.code === "unknown_station") fields.push("station_id");
      this.showError(err, fields);
    }
  }
}
