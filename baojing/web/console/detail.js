// The detail panel of the selected incident: callers with their positions, claim, classify,
// notes, merge duplicates, close, timeline. The skeleton (and so the forms the operator is
// typing into) is built once per incident; live updates refresh the parts around them.
import { h, clear, phoneEl, now, parseTime, fmtAge, fmtClock, fmtDateTime, distanceM } from "./util.js";
import { t, pick, statusLabel, sourceLabel, actionLabel, errorText, distanceText } from "./i18n.js";
import { shapeSvg } from "./mapview.js";
import { byQueueOrder } from "./queue.js";

const OPEN = new Set(["new", "claimed"]);

export class DetailView {
  constructor(el, handlers) {
    this.el = el;
    this.handlers = handlers;
    this.id = null;
    this.inc = null;
    this.data = null;        // IncidentDetail (notes, timeline, trails) once loaded
    this.loadError = null;
    this.busy = new Set();   // actions in flight: "claim", "classify", ...
    this.mergeOpen = false;
    this.mergeSel = new Set();
    this.classDirty = false;
  }

  get isOpen() {
    return this.id !== null;
  }

  // Show a (new) incident: build the skeleton; the data comes with setData().
  open(inc, ctx) {
    this.id = inc.id;
    this.inc = inc;
    this.data = null;
    this.loadError = null;
    this.busy.clear();
    this.mergeOpen = false;
    this.mergeSel.clear();
    this.classDirty = false;
    this.build(ctx);
    this.update(inc, ctx);
  }

  close() {
    this.id = null;
    this.inc = null;
    this.data = null;
    clear(this.el);
    this.el.removeAttribute("data-incident-id");
  }

  setData(data, ctx) {
    if (!data || data.id !== this.id) return;
    this.data = data;
    this.loadError = null;
    this.update(this.inc, ctx);
  }

  setLoadError(err, ctx) {
    this.loadError = err;
    this.update(this.inc, ctx);
  }

  addNote(note, ctx) {
    if (!this.data) return;
    if (!this.data.notes.some((n) => n.id === note.id)) this.data.notes.push(note);
    this.renderNotes();
  }

  // ---- skeleton ------------------------------------------------------------------------------
  build(ctx) {
    clear(this.el);
    this.el.dataset.incidentId = this.id;
    const s = {};
    this.s = s;
    s.head = h("div", { class: "d-head" });
    s.banner = h("div", { class: "d-banner", testid: "detail-banner" });
    s.error = h("div", { class: "d-error", testid: "detail-error", role: "alert", hidden: true });
    s.claim = h("div", { class: "d-claim" });
    s.callers = h("div", { class: "d-callers", testid: "detail-callers" });

    // classify
    s.typeSel = h("select", { testid: "classify-type", id: "classify-type", onchange: () => { this.classDirty = true; this.syncButtons(); } });
    s.prioBox = h("div", { class: "prio-pick", role: "radiogroup", testid: "classify-priority" });
    s.classifyBtn = h("button", { type: "button", class: "btn btn-primary", testid: "classify-submit",
      onclick: () => this.doClassify() });
    s.classify = h("section", { class: "d-sec" },
      h("h3", {}, h("span", { "data-k": "classify" })),
      h("div", { class: "row" }, h("label", { for: "classify-type", "data-k": "type" }), s.typeSel),
      h("div", { class: "row" }, h("span", { class: "lbl", "data-k": "priority" }), s.prioBox),
      h("div", { class: "row right" }, s.classifyBtn));

    // notes
    s.notesList = h("ul", { class: "notes", testid: "notes-list" });
    s.noteInput = h("textarea", { testid: "note-input", rows: "2", maxlength: "2000",
      oninput: () => this.syncButtons(),
      onkeydown: (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
          e.preventDefault();
          this.doNote();
        }
      } });
    s.noteBtn = h("button", { type: "button", class: "btn", testid: "note-submit", onclick: () => this.doNote() });
    s.notes = h("section", { class: "d-sec" },
      h("h3", {}, h("span", { "data-k": "notes" })), s.notesList, s.noteInput,
      h("div", { class: "row right" }, s.noteBtn));

    // close
    s.dispSel = h("select", { testid: "close-disposition", id: "close-disposition", onchange: () => this.syncButtons() });
    s.closeNote = h("textarea", { testid: "close-note", rows: "1", maxlength: "2000" });
    s.closeBtn = h("button", { type: "button", class: "btn btn-danger", testid: "close-submit", onclick: () => this.doClose() });
    s.closeSec = h("section", { class: "d-sec" },
      h("h3", {}, h("span", { "data-k": "close_incident" })),
      h("div", { class: "row" }, h("label", { for: "close-disposition", "data-k": "disposition" }), s.dispSel),
      s.closeNote,
      h("div", { class: "row right" }, s.closeBtn));

    // merge
    s.mergeToggle = h("button", { type: "button", class: "btn", testid: "merge-open", "aria-expanded": "false",
      onclick: () => { this.mergeOpen = !this.mergeOpen; this.renderMerge(this.ctx); } });
    s.mergeBody = h("div", { class: "merge-body", testid: "merge-panel" });
    s.mergeSec = h("section", { class: "d-sec" },
      h("h3", {}, h("span", { "data-k": "merge" }), s.mergeToggle), s.mergeBody);

    s.timeline = h("ol", { class: "timeline", testid: "timeline" });
    s.timelineSec = h("section", { class: "d-sec" }, h("h3", {}, h("span", { "data-k": "timeline" })), s.timeline);

    s.body = h("div", { class: "d-body" }, s.banner, s.error, s.claim, s.callers, s.classify, s.notes, s.closeSec,
      s.mergeSec, s.timelineSec);
    this.el.append(s.head, s.body);
    this.fillOptions(ctx);
  }

  fillOptions(ctx) {
    const s = this.s;
    const typeVal = s.typeSel.value;
    clear(s.typeSel).append(h("option", { value: "" }, t("choose_type")),
      ...ctx.config.incident_types.map((o) => h("option", { value: o.code }, pick(o))));
    s.typeSel.value = typeVal;
    const dispVal = s.dispSel.value;
    clear(s.dispSel).append(h("option", { value: "" }, t("choose_disposition")),
      ...ctx.config.dispositions.map((o) => h("option", { value: o.code }, pick(o))));
    s.dispSel.value = dispVal;
    const prioVal = this.selectedPriority();
    clear(s.prioBox);
    for (const p of ctx.config.priorities) {
      const input = h("input", { type: "radio", name: "classify-priority", value: p.value,
        testid: `classify-priority-${p.value}`, onchange: () => { this.classDirty = true; this.syncButtons(); } });
      s.prioBox.append(h("label", { class: `prio-opt p${p.value}` }, input,
        h("span", {}, h("b", {}, String(p.value)), " ", pick(p))));
    }
    if (prioVal) this.setPriority(prioVal);
    for (const el of this.el.querySelectorAll("[data-k]")) el.textContent = t(el.dataset.k);
    s.noteInput.placeholder = t("note_placeholder");
    s.closeNote.placeholder = t("close_note");
    s.classifyBtn.textContent = t("classify_save");
    s.noteBtn.textContent = t("note_add");
    s.closeBtn.textContent = t("close_submit");
  }

  selectedPriority() {
    const r = this.s && this.s.prioBox.querySelector("input:checked");
    return r ? Number(r.value) : null;
  }

  setPriority(v) {
    for (const r of this.s.prioBox.querySelectorAll("input")) r.checked = Number(r.value) === v;
  }

  // Language switch: rebuild texts without losing what is typed.
  relabel(ctx) {
    if (!this.isOpen) return;
    this.fillOptions(ctx);
    this.update(this.inc, ctx);
  }

  // ---- live refresh ------------------------------------------------------------------------------
  update(inc, ctx) {
    if (!this.isOpen || !inc || inc.id !== this.id) return;
    this.inc = inc;
    this.ctx = ctx;
    const s = this.s;
    const open = OPEN.has(inc.status);
    this.el.dataset.status = inc.status;

    // header
    const prio = ctx.priorities.get(inc.priority);
    const ended = !open && Boolean(inc.closed_at);
    clear(s.head).append(
      h("span", { class: `prio p${inc.priority}`, testid: "detail-priority" }, String(inc.priority),
        h("small", {}, prio ? pick(prio) : "")),
      h("span", { class: "d-id" }, `#${inc.id}`),
      h("span", { class: `status st-${inc.status}`, testid: "detail-status", dataset: { status: inc.status } },
        statusLabel(inc.status)),
      // Open: time since received, ticking. Closed or merged: how long it was open, fixed.
      h("span", { class: `age d-age${ended ? " ended" : ""}`, testid: "detail-age",
        dataset: ended ? { status: inc.status } : { since: parseTime(inc.received_at), status: inc.status },
        title: `${t("received_at")} ${fmtDateTime(inc.received_at)}` },
      fmtAge((ended ? parseTime(inc.closed_at) : now()) - parseTime(inc.received_at))),
      h("button", { type: "button", class: "btn btn-icon d-x", testid: "detail-close", title: t("detail_close"),
        "aria-label": t("detail_close"), onclick: () => this.handlers.onClosePanel() }, "×"));

    // banner: merged / closed / type
    clear(s.banner);
    if (inc.status === "merged") {
      s.banner.append(h("div", { class: "banner warn" }, t("merged_into", { id: inc.merged_into }), " ",
        h("button", { type: "button", class: "btn", testid: "open-merged-into",
          onclick: () => this.handlers.onSelect(inc.merged_into) }, t("open_incident", { id: inc.merged_into }))));
    } else if (inc.status === "closed") {
      const disp = inc.disposition ? pick(ctx.dispositions.get(inc.disposition)) || inc.disposition : "";
      s.banner.append(h("div", { class: "banner closed" }, t("closed_info", { d: disp }), ` · ${fmtDateTime(inc.closed_at)}`));
    }
    if (this.loadError) s.banner.append(h("div", { class: "banner err" }, errorText(this.loadError)));
    else if (!this.data) s.banner.append(h("div", { class: "banner muted" }, t("detail_loading")));

    this.renderClaim(inc, ctx);
    this.renderCallers(inc, ctx);

    // classify: follow the incident unless the operator is changing it
    if (!this.classDirty) {
      this.s.typeSel.value = inc.type || "";
      this.setPriority(inc.priority);
    }
    s.classify.hidden = !open;
    s.closeSec.hidden = !open;
    s.mergeSec.hidden = !open;
    s.notes.hidden = inc.status === "merged";
    this.renderNotes();
    this.renderMerge(ctx);
    this.renderTimeline();
    this.syncButtons();
  }

  renderClaim(inc, ctx) {
    const s = this.s;
    clear(s.claim);
    if (inc.status === "new") {
      s.claim.append(h("button", {
        type: "button", class: "btn btn-claim btn-big", testid: "claim-button", disabled: this.busy.has("claim"),
        onclick: () => this.run("claim", () => this.handlers.claim(inc.id)),
      }, this.busy.has("claim") ? t("claiming") : `${t("claim")}`));
    } else if (inc.claimed_by) {
      const mine = inc.claimed_by.id === ctx.myUserId;
      s.claim.append(h("div", { class: `holder${mine ? " mine" : ""}`, testid: "claim-holder",
        dataset: { userId: inc.claimed_by.id } },
      mine ? t("claimed_by_me") : `${t("claimed_by")}：${inc.claimed_by.display_name}`,
      inc.claimed_at ? h("span", { class: "muted" }, ` · ${fmtClock(inc.claimed_at)}`) : null));
    }
  }

  renderCallers(inc, ctx) {
    const s = this.s;
    clear(s.callers);
    s.callers.hidden = !(inc.alarms || []).length;
    s.callers.append(h("h3", {}, t("callers"), (inc.alarms || []).length > 1 ? ` (${inc.alarms.length})` : ""));
    const open = OPEN.has(inc.status);
    for (const a of inc.alarms || []) {
      const loc = a.location;
      const trail = ctx.trails.get(a.id) || [];
      const flagged = trail.filter((p) => p.flag).length;
      const picking = ctx.pickingAlarmId === a.id;
      s.callers.append(h("div", { class: "caller", testid: "detail-alarm", dataset: { alarmId: a.id } },
        h("div", { class: "c1" },
          phoneEl(a.phone, { testid: "detail-phone", class: "phone big" }),
          h("span", { class: `tag ${a.phone_verified ? "ok" : "warn"}` }, a.phone_verified ? t("verified") : t("unverified"))),
        h("div", { class: "c2" }, h("span", { class: a.name ? "" : "muted", testid: "detail-name" }, a.name || t("no_name")),
          h("span", { class: "muted" }, ` · ${t("received_at")} ${fmtClock(a.received_at)}`)),
        a.place_text ? h("div", { class: "c-place" }, h("span", { class: "lbl" }, `${t("place_text")}：`), a.place_text) : null,
        loc
          ? h("div", { class: "c-pos", testid: "detail-position", dataset: { source: loc.source, locked: Boolean(loc.locked) } },
            h("span", { class: "src-ico" }),
            h("span", { class: "src-name" }, sourceLabel(loc.source)),
            Number.isFinite(loc.accuracy_m) ? h("span", { class: "acc" }, t("accuracy_m", { m: Math.round(loc.accuracy_m) })) : null,
            loc.locked ? h("span", { class: "tag lock", testid: "position-locked", title: t("locked_hint") },
              h("span", { class: "lock-ico", "aria-hidden": "true" }), t("locked")) : null,
            h("div", { class: "coords muted" }, `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}`,
              loc.at ? ` · ${t("position_at")} ${fmtClock(loc.at)}` : ""))
          : h("div", { class: "c-pos noloc", testid: "detail-position", dataset: { source: "" } }, t("no_position")),
        trail.length ? h("div", { class: "muted small" }, t("trail_points", { n: trail.length }),
          flagged ? t("trail_flagged", { n: flagged }) : "") : null,
        open ? h("button", {
          type: "button", class: `btn ${loc ? "" : "btn-primary"}${picking ? " active" : ""}`, testid: "set-position",
          dataset: { alarmId: a.id }, "aria-pressed": picking ? "true" : "false",
          onclick: () => (picking ? this.handlers.cancelPick() : this.handlers.startPick(a, inc)),
        }, picking ? t("pick_cancel") : loc ? t("correct_position") : t("set_position")) : null));
      const ico = s.callers.lastElementChild.querySelector(".src-ico");
      if (ico && loc) ico.innerHTML = shapeSvg(loc.source, 18, loc.locked);
    }
  }

  renderNotes() {
    const s = this.s;
    if (!s) return;
    clear(s.notesList);
    const notes = this.data ? this.data.notes : [];
    if (!notes.length) {
      s.notesList.append(h("li", { class: "muted" }, this.data ? t("notes_none") : t("detail_loading")));
      return;
    }
    for (const n of notes) {
      s.notesList.append(h("li", { testid: "note-item", dataset: { noteId: n.id } },
        h("div", { class: "n-meta" }, h("b", {}, n.author ? n.author.display_name || "" : ""), ` · ${fmtClock(n.at)}`),
        h("div", { class: "n-text" }, n.text)));
    }
  }

  renderTimeline() {
    const s = this.s;
    clear(s.timeline);
    for (const e of (this.data && this.data.timeline) || []) {
      s.timeline.append(h("li", { testid: "timeline-item", dataset: { name: e.name } },
        h("span", { class: "tl-time" }, fmtClock(e.at)), h("span", { class: "tl-name" }, actionLabel(e.name)),
        e.actor ? h("span", { class: "tl-actor muted" }, this.actorName(e.actor)) : null));
    }
  }

  // Timeline actors arrive as "<role>:<user id>"; show the person's name when we know it.
  actorName(actor) {
    const m = /^[a-z_]+:(\d+)$/.exec(actor || "");
    if (!m) return actor;
    const id = Number(m[1]);
    const people = new Map();
    if (this.ctx && this.ctx.me) people.set(this.ctx.me.id, this.ctx.me.display_name);
    if (this.inc && this.inc.claimed_by) people.set(this.inc.claimed_by.id, this.inc.claimed_by.display_name);
    for (const n of (this.data && this.data.notes) || []) if (n.author) people.set(n.author.id, n.author.display_name);
    return people.get(id) || actor;
  }

  renderMerge(ctx) {
    const s = this.s;
    if (!s || !this.inc) return;
    const inc = this.inc;
    s.mergeToggle.textContent = this.mergeOpen ? t("cancel") : `${t("merge")}…`;
    s.mergeToggle.setAttribute("aria-expanded", String(this.mergeOpen));
    clear(s.mergeBody);
    if (!this.mergeOpen || !OPEN.has(inc.status)) {
      s.mergeBody.hidden = true;
      return;
    }
    s.mergeBody.hidden = false;
    const mine = inc.alarms || [];
    const myPhones = new Set(mine.map((a) => a.phone));
    const myLoc = (mine.find((a) => a.location) || {}).location;
    const cands = ctx.open.filter((o) => o.id !== inc.id).map((o) => {
      const loc = (o.alarms.find((a) => a.location) || {}).location;
      return { o, same: o.alarms.some((a) => myPhones.has(a.phone)), dist: myLoc && loc ? distanceM(myLoc, loc) : null };
    });
    cands.sort((a, b) => (b.same - a.same) || ((a.dist ?? 1e12) - (b.dist ?? 1e12)) || byQueueOrder(a.o, b.o));
    for (const id of [...this.mergeSel]) if (!cands.some((c) => c.o.id === id)) this.mergeSel.delete(id);
    if (!cands.length) {
      s.mergeBody.append(h("div", { class: "muted" }, t("merge_none")));
      return;
    }
    s.mergeBody.append(h("div", { class: "muted small" }, t("merge_hint", { id: inc.id })));
    const list = h("div", { class: "merge-list" });
    for (const { o, same, dist } of cands) {
      const a0 = o.alarms[0] || {};
      const box = h("input", { type: "checkbox", testid: "merge-candidate", dataset: { incidentId: o.id },
        checked: this.mergeSel.has(o.id),
        onchange: (e) => {
          if (e.target.checked) this.mergeSel.add(o.id); else this.mergeSel.delete(o.id);
          this.syncButtons();
        } });
      list.append(h("label", { class: `merge-row p${o.priority}` }, box,
        h("span", { class: "qid" }, `#${o.id}`),
        phoneEl(a0.phone),
        h("span", { class: "mname" }, a0.name || ""),
        h("span", { class: "muted" }, fmtClock(o.received_at)),
        same ? h("span", { class: "tag warn" }, t("same_phone")) : null,
        dist !== null ? h("span", { class: "tag" }, t("away", { d: distanceText(dist) })) : null));
    }
    s.mergeBody.append(list);
    s.mergeSubmit = h("button", { type: "button", class: "btn btn-primary", testid: "merge-submit",
      onclick: () => this.doMerge() }, t("merge_submit", { id: inc.id }));
    s.mergeBody.append(h("div", { class: "row right" }, s.mergeSubmit));
    this.syncButtons();
  }

  syncButtons() {
    const s = this.s;
    if (!s || !this.inc) return;
    const open = OPEN.has(this.inc.status);
    const unchanged = s.typeSel.value === (this.inc.type || "") && this.selectedPriority() === this.inc.priority;
    s.classifyBtn.disabled = !open || this.busy.has("classify") || !s.typeSel.value || !this.selectedPriority() || unchanged;
    s.noteBtn.disabled = this.inc.status === "merged" || this.busy.has("note") || !s.noteInput.value.trim();
    s.closeBtn.disabled = !open || this.busy.has("close") || !s.dispSel.value;
    if (s.mergeSubmit) s.mergeSubmit.disabled = !open || this.busy.has("merge") || this.mergeSel.size === 0;
  }

  showError(err) {
    const s = this.s;
    if (!s) return;
    if (!err) {
      s.error.hidden = true;
      s.error.textContent = "";
      return;
    }
    s.error.hidden = false;
    s.error.textContent = errorText(err);
    s.error.dataset.code = err.code || "";
  }

  // Run an action: mark busy, show the server's message if it fails.
  async run(name, fn) {
    if (this.busy.has(name)) return false;
    const id = this.id;
    this.busy.add(name);
    this.showError(null);
    if (name === "claim" && this.inc) this.renderClaim(this.inc, this.ctx);
    this.syncButtons();
    try {
      await fn();
      return true;
    } catch (err) {
      this.lastError = err;
      if (this.id === id) this.showError(err);
      return false;
    } finally {
      this.busy.delete(name);
      if (this.id === id && this.inc) {
        this.renderClaim(this.inc, this.ctx);
        this.syncButtons();
      }
    }
  }

  async doClassify() {
    const type = this.s.typeSel.value, priority = this.selectedPriority();
    if (!type || !priority) return;
    if (await this.run("classify", () => this.handlers.classify(this.id, type, priority))) {
      this.classDirty = false;
      this.handlers.toast(t("saved"));
    }
  }

  async doNote() {
    const text = this.s.noteInput.value.trim();
    if (!text) return;
    if (await this.run("note", () => this.handlers.addNote(this.id, text))) {
      this.s.noteInput.value = "";
      this.syncButtons();
      this.handlers.toast(t("note_added"));
    }
  }

  async doClose() {
    const disposition = this.s.dispSel.value;
    if (!disposition) return;
    const note = this.s.closeNote.value.trim() || null;
    const id = this.id;
    if (await this.run("close", () => this.handlers.close(id, disposition, note))) {
      this.handlers.toast(t("closed_done", { id }));
    }
  }

  async doMerge() {
    const ids = [...this.mergeSel];
    if (!ids.length) return;
    const id = this.id;
    if (await this.run("merge", () => this.handlers.merge(id, ids))) {
      this.mergeSel.clear();
      this.mergeOpen = false;
      this.renderMerge(this.ctx);
      this.handlers.toast(t("merge_done", { n: ids.length, id }));
    }
  }

  tick() {
    if (!this.isOpen) return;
    const el = this.el.querySelector(".d-age");
    if (el && el.dataset.since) el.textContent = fmtAge(now() - Number(el.dataset.since));
  }
}
