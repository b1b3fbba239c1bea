// The detail panel of the selected incident: callers with their positions, claim, classify,
// notes, merge duplicates, close, timeline. The skeleton (and so the forms the operator is
// typing into) is built once per incident; live updates refresh the parts around them.
import { h, clear, put, phoneEl, now, timerEl } from "./util.js";
import { parseTime, elapsedText, clockText, dateTimeText } from "/shared/time.js";
import { distanceM } from "/shared/distance.js";
import { t, pick, errorText, distanceText } from "/shared/i18n.js";
import { statusLabel, sourceLabel, actionLabel, assignStatusLabel, etaText, stationShort, kindLabel } from "./i18n.js";
import { shapeSvg } from "./mapview.js";
import { byQueueOrder, incidentTimes, isActiveAssignment, isOverdue, starsText } from "./queue.js";
import { kindEl } from "./units.js";
import { evidenceItem } from "./evidence.js";

const OPEN = new Set(["new", "claimed"]);
// One end of a routing on the timeline: the station's short name, or 辖区未定.
const routeEnd = (st) => (st ? stationShort(st) : t("unrouted"));

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
    this.recSel = new Set();   // unit ids ticked in the recommendations
    this.recTouched = false;   // the operator changed the ticks (or dispatched): no more automatic tick
    this.cancelArmed = null;   // assignment id whose "recall" asks for a second click
    this.recKey = null;
    this.asgKey = null;
    this.media = new Map();    // media id -> element (the incident's evidence)
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
    this.recSel.clear();
    this.recTouched = false;
    this.cancelArmed = null;
    this.recKey = null;
    this.asgKey = null;
    this.media.clear();
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

  // The incident's evidence files (loaded once per opening, then live from media.added).
  addMedia(m) {
    if (!this.s || this.media.has(m.id) || m.incident_id !== this.id) return;
    const el = evidenceItem(m);
    this.media.set(m.id, el);
    const empty = this.s.evList.querySelector(".ev-empty");
    if (empty) empty.remove();
    this.s.evList.prepend(el);
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
    s.timers = h("div", { class: "d-timers", testid: "detail-timers" });
    s.alerts = h("div", { class: "d-alerts" });
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
      h("div", { class: "row prio-row" }, h("span", { class: "lbl", "data-k": "priority" }), s.prioBox),
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

    // dispatch: the jurisdiction, the units sent, the nearest available ones to send
    s.station = h("div", { class: "d-station", testid: "detail-station" });
    s.asgList = h("div", { class: "asg-list", testid: "assignments" });
    s.recList = h("div", { class: "rec-list", testid: "rec-list" });
    s.recTitle = h("div", { class: "rec-title", "data-k": "rec_title" });
    s.dispatchBtn = h("button", { type: "button", class: "btn btn-dispatch btn-big", testid: "dispatch-button",
      onclick: () => this.doDispatch() });
    s.recBox = h("div", { class: "rec-box" }, s.recTitle, s.recList, s.dispatchBtn);
    s.dispatchSec = h("section", { class: "d-sec d-dispatch", testid: "dispatch-section" },
      h("h3", {}, h("span", { "data-k": "dispatch" }), s.station), s.asgList, s.recBox);

    // Evidence: recordings, snapshots, the caller's photos; reachable here after a call view closed.
    s.evList = h("div", { class: "ev-list", testid: "detail-evidence-list" },
      h("div", { class: "muted ev-empty", "data-k": "evidence_none" }));
    s.evidence = h("section", { class: "d-sec d-evidence", testid: "detail-evidence" },
      h("h3", {}, h("span", { "data-k": "evidence" }), " ", h("small", { class: "muted", "data-k": "evidence_note" })),
      s.evList);

    s.timeline = h("ol", { class: "timeline", testid: "timeline" });
    s.timelineSec = h("section", { class: "d-sec" }, h("h3", {}, h("span", { "data-k": "timeline" })), s.timeline);

    s.body = h("div", { class: "d-body" }, s.alerts, s.banner, s.error, s.claim, s.callers, s.dispatchSec, s.classify,
      s.notes, s.closeSec, s.mergeSec, s.evidence, s.timelineSec);
    this.el.append(s.head, s.timers, s.body);
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
    for (const el of this.el.querySelectorAll("[data-vk]")) el.textContent = t(`vd_${el.dataset.vk}`);
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
    put(s.head,
      h("span", { class: `prio p${inc.priority}`, testid: "detail-priority" }, String(inc.priority),
        h("small", {}, prio ? pick(prio) : "")),
      h("span", { class: "d-id" }, `#${inc.id}`),
      h("span", { class: `status st-${inc.status}`, testid: "detail-status", dataset: { status: inc.status } },
        statusLabel(inc.status)),
      this.mine(inc, ctx) ? h("span", { class: "tag mine big", testid: "detail-mine", title: t("mine_title") },
        t("mine_badge")) : null,
      h("button", { type: "button", class: "btn btn-icon d-x", testid: "detail-close", title: t("detail_close"),
        "aria-label": t("detail_close"), onclick: () => this.handlers.onClosePanel() }, "×"));

    this.renderTimers(inc, ended);
    this.renderAlerts(inc, ctx);

    // banner: merged / closed / type
    clear(s.banner);
    if (inc.status === "merged") {
      s.banner.append(h("div", { class: "banner warn" }, t("merged_into", { id: inc.merged_into }), " ",
        h("button", { type: "button", class: "btn", testid: "open-merged-into",
          onclick: () => this.handlers.onSelect(inc.merged_into) }, t("open_incident", { id: inc.merged_into }))));
    } else if (inc.status === "closed") {
      const disp = inc.disposition ? pick(ctx.dispositions.get(inc.disposition)) || inc.disposition : "";
      s.banner.append(h("div", { class: "banner closed" }, t("closed_info", { d: disp }), ` · ${dateTimeText(inc.closed_at)}`));
    }
    if (this.loadError) s.banner.append(h("div", { class: "banner err" }, errorText(this.loadError)));
    else if (!this.data) s.banner.append(h("div", { class: "banner muted" }, t("detail_loading")));

    this.renderClaim(inc, ctx);
    this.renderCallers(inc, ctx);
    this.renderDispatch(inc, ctx);

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
      inc.claimed_at ? h("span", { class: "muted" }, ` · ${clockText(inc.claimed_at)}`) : null));
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
          h("span", { class: "muted" }, ` · ${t("received_at")} ${clockText(a.received_at)}`)),
        a.place_text ? h("div", { class: "c-place" }, h("span", { class: "lbl" }, `${t("place_text")}：`), a.place_text) : null,
        loc
          ? h("div", { class: "c-pos", testid: "detail-position", dataset: { source: loc.source, locked: Boolean(loc.locked) } },
            h("span", { class: "src-ico" }),
            h("span", { class: "src-name" }, sourceLabel(loc.source)),
            Number.isFinite(loc.accuracy_m) ? h("span", { class: "acc" }, t("accuracy_m", { m: Math.round(loc.accuracy_m) })) : null,
            loc.locked ? h("span", { class: "tag lock", testid: "position-locked", title: t("locked_hint") },
              h("span", { class: "lock-ico", "aria-hidden": "true" }), t("locked")) : null,
            h("div", { class: "coords muted" }, `${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}`,
              loc.at ? ` · ${t("position_at")} ${clockText(loc.at)}` : ""))
          : h("div", { class: "c-pos noloc", testid: "detail-position", dataset: { source: "" } }, t("no_position")),
        a.rating ? h("div", { class: "d-rating", testid: "detail-rating", dataset: { score: a.rating.score },
          title: t("rating_title") }, `${t("rating_title")} ${starsText(a.rating.score)}`,
        a.rating.comment ? h("span", { class: "muted" }, ` “${a.rating.comment}”`) : null) : null,
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
        h("div", { class: "n-meta" }, h("b", {}, n.author ? n.author.display_name || "" : ""), ` · ${clockText(n.at)}`),
        h("div", { class: "n-text" }, n.text)));
    }
  }

  renderTimeline() {
    const s = this.s;
    clear(s.timeline);
    for (const e of (this.data && this.data.timeline) || []) {
      s.timeline.append(h("li", { testid: "timeline-item", dataset: { name: e.name } },
        h("span", { class: "tl-time" }, clockText(e.at)), h("span", { class: "tl-name" }, actionLabel(e.name)),
        e.detail && "to_station" in e.detail ? h("span", { class: "tl-route", testid: "timeline-route" },
          `${routeEnd(e.detail.from_station)} → ${routeEnd(e.detail.to_station)}`) : null,
        e.incident_id && e.incident_id !== this.id ? h("span", { class: "tl-from muted" }, `#${e.incident_id}`) : null,
        e.actor || e.actor_name ? h("span", { class: "tl-actor muted" }, e.actor_name || this.actorName(e.actor)) : null,
        e.detail && "score" in e.detail ? h("span", { class: "tl-rating", testid: "timeline-rating",
          dataset: { score: e.detail.score } }, starsText(e.detail.score),
        e.detail.comment ? h("span", { class: "muted" }, ` “${e.detail.comment}”`) : null) : null));
    }
  }

  // Timeline actors arrive as "<role>:<user id>"; show the person's name when we know it.
  actorName(actor) {
    if (/^device:/.test(actor || "")) return t("caller_actor");
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
        h("span", { class: "muted" }, clockText(o.received_at)),
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
    this.syncDispatchButton();
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
    const n = now();
    for (const el of this.el.querySelectorAll("[data-since]")) {
      const age = n - Number(el.dataset.since);
      el.textContent = elapsedText(age);
      if (el.dataset.late) el.classList.toggle("late", age >= Number(el.dataset.late));
    }
  }

  // ---- dispatch ---------------------------------------------------------------------------------
  mine(inc, ctx) {
    return ctx.myStationId !== null && ctx.myStationId !== undefined && inc.station_id === ctx.myStationId;
  }

  // Received / dispatched / on scene, ticking mm:ss (fixed once the incident is closed).
  renderTimers(inc, ended) {
    const s = this.s;
    const tm = incidentTimes(inc);
    const end = ended ? parseTime(inc.closed_at) : null;
    const cell = (kind, label, since, testid, extra = {}) => h("div", { class: `d-timer dt-${kind}` },
      h("small", {}, label), timerEl(kind, since, end, { testid, ...extra }));
    clear(s.timers).append(
      cell("received", t("t_received"), tm.received, "detail-age"),
      cell("dispatched", t("t_dispatched"), tm.dispatched, "timer-dispatched"),
      cell("on_scene", t("t_on_scene"), tm.onScene, "timer-on-scene"));
    // The received timer keeps its test id "detail-age" and data-status (closed: how long it was open).
    const age = s.timers.querySelector("[data-timer=received]");
    age.classList.add("age", "d-age");
    age.dataset.status = inc.status;
    age.title = `${t("received_at")} ${dateTimeText(inc.received_at)}`;
  }

  // Overdue offers (with the next unit to send) and a ringing 110 call, on top of the panel.
  renderAlerts(inc, ctx) {
    const s = this.s;
    clear(s.alerts);
    if (ctx.cti && ctx.cti.incidentId === inc.id) {
      s.alerts.append(h("div", { class: "banner cti", testid: "cti-banner", dataset: { callId: ctx.cti.callId } },
        h("span", { class: "cti-ico", "aria-hidden": "true" }, "☎"),
        h("span", {}, t("cti_banner", { phone: "" })), phoneEl(ctx.cti.number, { class: "phone" }),
        h("span", { class: "muted" }, ` · ${clockText(ctx.cti.at)}`)));
    }
    if (!OPEN.has(inc.status)) return;
    const recs = ctx.recs && ctx.recs.incidentId === inc.id && ctx.recs.data ? ctx.recs.data.units : [];
    for (const a of (inc.assignments || []).filter(isOverdue)) {
      const prop = ctx.proposals.has(a.id) ? ctx.proposals.get(a.id)
        : recs.find((r) => !(inc.assignments || []).some((x) => x.unit_id === r.unit_id && isActiveAssignment(x))) || null;
      const busy = prop && this.busy.has(`dispatch:${prop.unit_id}`);
      const sent = prop && (inc.assignments || []).some((x) => x.unit_id === prop.unit_id && isActiveAssignment(x));
      s.alerts.append(h("div", { class: "banner overdue", testid: "overdue-banner", role: "alert",
        dataset: { assignmentId: a.id, unitId: a.unit_id } },
      h("div", { class: "ov1" }, h("span", { class: "ov-ico", "aria-hidden": "true" }, "⚠"),
        h("span", {}, t("overdue_banner", { name: a.call_sign })),
        timerEl("overdue", parseTime(a.dispatched_at), null, { class: "timer" })),
      sent ? h("div", { class: "ov2" }, t("overdue_sent", { name: prop.call_sign }))
        : prop ? h("div", { class: "ov2" },
          h("span", {}, t("overdue_propose", { name: prop.call_sign, d: distanceText(prop.distance_m), eta: etaText(prop.eta_s) })),
          h("button", { type: "button", class: "btn btn-dispatch", testid: "overdue-dispatch", disabled: busy,
            dataset: { unitId: prop.unit_id },
            onclick: () => this.doDispatch([prop.unit_id], `dispatch:${prop.unit_id}`) },
          t("overdue_dispatch", { name: prop.call_sign })))
        : h("div", { class: "ov2 muted" }, t("overdue_no_proposal"))));
    }
  }

  renderDispatch(inc, ctx) {
    const s = this.s;
    const open = OPEN.has(inc.status);
    const st = ctx.stationsById.get(inc.station_id);
    s.station.dataset.stationId = inc.station_id ?? "";
    put(s.station, h("span", { class: "muted" }, `${t("jurisdiction")}：`),
      st ? h("b", { title: pick(st) }, stationShort(st)) : h("span", { class: "tag warn" }, t("unrouted")),
      this.mine(inc, ctx) ? h("span", { class: "tag mine" }, t("mine_badge")) : null);
    s.dispatchSec.hidden = inc.status === "merged";
    this.renderAssignments(inc, ctx);
    s.recBox.hidden = !open;
    if (open) this.renderRecs(inc, ctx);
  }

  renderAssignments(inc, ctx) {
    const s = this.s;
    const list = [...(inc.assignments || [])].sort((a, b) =>
      (isActiveAssignment(b) - isActiveAssignment(a)) || a.id - b.id);
    const key = JSON.stringify([list, this.cancelArmed, [...this.busy], inc.status, ctx.lang]);
    if (key === this.asgKey) return;
    this.asgKey = key;
    clear(s.asgList);
    if (!list.length) {
      s.asgList.append(h("div", { class: "muted small" }, t("assigned_none")));
      return;
    }
    const open = OPEN.has(inc.status);
    for (const a of list) {
      const active = isActiveAssignment(a);
      const overdue = isOverdue(a);
      // The clock of the current step: waiting for accept, since accepted, en route, on scene.
      const stepAt = { dispatched: a.dispatched_at, accepted: a.accepted_at, en_route: a.en_route_at,
        on_scene: a.on_scene_at }[a.status];
      const endAt = { cleared: a.cleared_at, declined: a.declined_at, cancelled: a.cancelled_at }[a.status];
      const steps = [["t_dispatched", a.dispatched_at], ["t_accepted", a.accepted_at], ["t_en_route", a.en_route_at],
        ["t_on_scene", a.on_scene_at]].filter(([, at]) => at).map(([k, at]) => `${t(k)} ${clockText(at)}`).join(" · ");
      const armed = this.cancelArmed === a.id;
      const timer = active
        ? timerEl("assignment", parseTime(stepAt || a.dispatched_at), null, { testid: "assignment-timer" })
        : h("span", { class: "timer ended", testid: "assignment-timer" }, endAt ? clockText(endAt) : "");
      if (active && a.status === "dispatched") timer.dataset.late = "30000";
      s.asgList.append(h("div", { class: `asg as-${a.status}${overdue ? " overdue" : ""}${active ? "" : " done"}`,
        testid: "assignment-row", dataset: { assignmentId: a.id, unitId: a.unit_id, status: a.status } },
      h("div", { class: "a1" },
        kindEl(a.unit_kind, 18),
        h("button", { type: "button", class: "linklike a-cs", title: t("locate_unit"),
          onclick: () => this.handlers.focusUnit(a.unit_id) }, a.call_sign),
        h("span", { class: `astatus as-${a.status}`, testid: "assignment-status", dataset: { status: a.status } },
          overdue ? `${assignStatusLabel(a.status)} · ${t("overdue_short")}` : assignStatusLabel(a.status)),
        timer,
        active && open ? h("button", { type: "button", class: `btn btn-small btn-recall${armed ? " armed" : ""}`,
          testid: "assignment-cancel", dataset: { assignmentId: a.id }, disabled: this.busy.has(`cancel:${a.id}`),
          onclick: () => this.doCancel(a) }, armed ? t("cancel_confirm") : t("cancel_assignment")) : null),
      steps ? h("div", { class: "a2 muted" }, steps) : null,
      a.status === "declined" && a.decline_reason
        ? h("div", { class: "a2 warn" }, t("declined_reason", { r: a.decline_reason })) : null,
      a.backup_requested_at && active
        ? h("div", { class: "a2 backup" }, `${t("backup_requested")} ${clockText(a.backup_requested_at)}`) : null));
    }
  }

  renderRecs(inc, ctx) {
    const s = this.s;
    const r = ctx.recs && ctx.recs.incidentId === inc.id ? ctx.recs : null;
    const units = r && r.data ? r.data.units : [];
    // Forget ticks of units no longer recommended (dispatched elsewhere, gone busy).
    for (const id of [...this.recSel]) if (!units.some((u) => u.unit_id === id)) this.recSel.delete(id);
    const hasActive = (inc.assignments || []).some(isActiveAssignment);
    if (!this.recTouched && !hasActive && !this.recSel.size && units.length) this.recSel.add(units[0].unit_id);
    const key = JSON.stringify([units, r && r.data && r.data.position ? 1 : 0, r ? Boolean(r.loading) : true,
      r && r.error ? r.error.code : null, [...this.recSel], ctx.lang, ctx.myStationId]);
    if (key !== this.recKey) {
      this.recKey = key;
      clear(s.recList);
      if (!r || (!r.data && r.loading)) s.recList.append(h("div", { class: "muted small" }, t("rec_loading")));
      else if (r.error && !r.data) s.recList.append(h("div", { class: "banner err" }, errorText(r.error)));
      else if (!r.data.position) s.recList.append(h("div", { class: "rec-empty warn", testid: "rec-no-position" }, t("rec_no_position")));
      else if (!units.length) s.recList.append(h("div", { class: "rec-empty" }, t("rec_none")));
      for (const u of units) {
        const st = ctx.stationsById.get(u.station_id);
        const box = h("input", { type: "checkbox", testid: "rec-check", dataset: { unitId: u.unit_id },
          checked: this.recSel.has(u.unit_id),
          onchange: (e) => {
            this.recTouched = true;
            if (e.target.checked) this.recSel.add(u.unit_id); else this.recSel.delete(u.unit_id);
            this.recKey = null;
            this.renderRecs(this.inc, this.ctx);
            this.handlers.onRecSelection && this.handlers.onRecSelection();
          } });
        s.recList.append(h("label", { class: `rec${this.recSel.has(u.unit_id) ? " on" : ""}`, testid: "rec-row",
          dataset: { unitId: u.unit_id } },
        box,
        kindEl(u.kind, 18),
        h("span", { class: "r-cs", testid: "rec-call-sign" }, u.call_sign),
        h("span", { class: "r-dist", testid: "rec-distance", title: kindLabel(u.kind) }, distanceText(u.distance_m)),
        h("span", { class: "r-eta", testid: "rec-eta" }, etaText(u.eta_s)),
        h("span", { class: "r-st", title: st ? pick(st) : "" }, stationShort(st)),
        u.in_jurisdiction ? h("span", { class: "tag ok", testid: "rec-juris", title: t("rec_in_juris_title") },
          t("rec_in_juris")) : null));
      }
    }
    this.syncDispatchButton();
  }

  syncDispatchButton() {
    const s = this.s;
    if (!s || !s.dispatchBtn || !this.inc) return;
    const r = this.ctx && this.ctx.recs && this.ctx.recs.incidentId === this.id && this.ctx.recs.data
      ? this.ctx.recs.data.units : [];
    const names = r.filter((u) => this.recSel.has(u.unit_id)).map((u) => u.call_sign);
    const busy = this.busy.has("dispatch");
    s.dispatchBtn.disabled = busy || !names.length || !OPEN.has(this.inc.status);
    s.dispatchBtn.textContent = busy ? t("dispatching") : names.length ? t("dispatch_btn_n", { names: names.join("、") })
      : t("dispatch_btn");
  }

  selectedRecs() {
    return [...this.recSel];
  }

  async doDispatch(unitIds = null, busyName = "dispatch") {
    const ids = unitIds || [...this.recSel];
    if (!ids.length) return;
    const id = this.id;
    this.recTouched = true;
    const ok = await this.run(busyName, () => this.handlers.dispatch(id, ids));
    if (ok && this.id === id) {
      for (const u of ids) this.recSel.delete(u);
      this.recKey = null;
      this.asgKey = null;
      this.update(this.inc, this.ctx);
    }
  }

  async doCancel(a) {
    if (this.cancelArmed !== a.id) {
      this.cancelArmed = a.id;
      this.asgKey = null;
      this.renderAssignments(this.inc, this.ctx);
      clearTimeout(this.cancelTimer);
      this.cancelTimer = setTimeout(() => {
        if (this.cancelArmed === a.id) {
          this.cancelArmed = null;
          this.asgKey = null;
          if (this.inc) this.renderAssignments(this.inc, this.ctx);
        }
      }, 4000);
      return;
    }
    this.cancelArmed = null;
    const ok = await this.run(`cancel:${a.id}`, () => this.handlers.cancelAssignment(a));
    if (ok) this.handlers.toast(t("cancelled_done", { name: a.call_sign }));
    this.asgKey = null;
    if (this.inc) this.renderAssignments(this.inc, this.ctx);
  }
}
