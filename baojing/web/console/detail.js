// The detail panel of the selected incident: callers with their positions, claim, classify,
// notes, merge duplicates, close, timeline; drawn with lit-html.
//
// One template draws the whole panel from the incident and this view's own state (what the
// operator has ticked, chosen and typed, the actions in flight). Live changes reach it through the
// console's frame scheduler (console.js draw() calls update() at most once per frame); the
// operator's own clicks and keystrokes ask for a frame too (handlers.redraw). lit-html keeps the
// form controls in place between draws, so typing is never interrupted.
import { html, render, nothing } from "/vendor/lit-html/lit-html.js";
import { repeat } from "/vendor/lit-html/directives/repeat.js";
import { unsafeHTML } from "/vendor/lit-html/directives/unsafe-html.js";
import { now } from "./clock.js";
import { parseTime, elapsedText, clockText, dateTimeText } from "/shared/time.js";
import { distanceM } from "/shared/distance.js";
import { t, pick, errorText, distanceText } from "/shared/i18n.js";
import { statusLabel, sourceLabel, actionLabel, assignStatusLabel, etaText, stationShort, kindLabel } from "./i18n.js";
import { shapeSvg } from "./mapview.js";
import { byQueueOrder, incidentTimes, isActiveAssignment, isOverdue, starsText, phoneTpl } from "./queue.js";
import { kindTpl } from "./units.js";
import { evidenceTpl } from "./evidence.js";
import { abuseMarkTpl } from "./abusemark.js";
import { lengthText } from "/shared/limit.js";

const OPEN = new Set(["new", "claimed"]);
// One end of a routing on the timeline: the station's short name, or 辖区未定.
const routeEnd = (st) => (st ? stationShort(st) : t("unrouted"));
const ASSIGNMENT_LATE_MS = 30000;  // an offer unanswered this long shows its clock in red
const NOTE_MAX = 2000;             // as the server's notes (incidents/schemas.py)
// Merge candidates listed: a duplicate is the same number or close by, never the 2,000th nearest;
// the list is drawn with the panel every second, so a typhoon night's queue must not be in it.
const MERGE_SHOWN = 50;

// "12/2000" under a note box as it is typed, and at the cap that nothing more goes in.
const noteCount = (text, testid) => html`<div class="len-count${text.length >= NOTE_MAX ? " full" : ""}"
  data-testid=${testid} aria-live="polite">${lengthText(text.length, NOTE_MAX)}</div>`;

// A ticking mm:ss clock (redrawn every second by tick()); "--:--" before it starts, fixed at end.
function clock(kind, since, end, testid, extra = "", late = 0) {
  const ms = since === null ? null : (end ?? now()) - since;
  return html`<span class="timer t-${kind}${since === null ? " none" : ""}${end !== null ? " ended" : ""}${
    late && ms >= late ? " late" : ""}${extra}" data-testid=${testid ?? nothing} data-timer=${kind}>${
    ms === null ? "--:--" : elapsedText(ms)}</span>`;
}

export class DetailView {
  constructor(el, handlers) {
    this.el = el;
    this.handlers = handlers;
    this.id = null;
    this.inc = null;
    this.ctx = null;
    this.reset();
  }

  // The state of one opened incident: gone when another one opens.
  reset() {
    this.data = null;        // IncidentDetail (notes, timeline, trails) once loaded
    this.loadError = null;
    this.error = null;       // the last action's refusal
    this.busy = new Set();   // actions in flight: "claim", "classify", "dispatch", "cancel:<id>", ...
    this.mergeOpen = false;
    this.mergeSel = new Set();
    this.classDirty = false; // the operator is changing type/priority: live updates leave them alone
    this.classType = "";
    this.classPrio = null;
    this.noteText = "";
    this.closeDisp = "";
    this.closeNote = "";
    this.recSel = new Set();   // unit ids ticked in the recommendations
    this.recTouched = false;   // the operator changed the ticks (or dispatched): no more automatic tick
    this.cancelArmed = null;   // assignment id whose "recall" asks for a second click
    this.media = new Map();    // media id -> the incident's evidence file, newest first
  }

  get isOpen() {
    return this.id !== null;
  }

  // Ask for a draw in the next frame (the console batches them).
  redraw() {
    this.handlers.redraw();
  }

  // Show a (new) incident; its detail data comes with setData().
  open(inc, ctx) {
    this.id = inc.id;
    this.reset();
    this.update(inc, ctx);
  }

  close() {
    this.id = null;
    this.inc = null;
    this.data = null;
    render(nothing, this.el);
    this.el.removeAttribute("data-incident-id");
    this.el.removeAttribute("data-status");
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
    if (!this.isOpen || this.media.has(m.id) || m.incident_id !== this.id) return;
    this.media = new Map([[m.id, m], ...this.media]);
    this.redraw();
  }

  addNote(note) {
    if (!this.data) return;
    if (!this.data.notes.some((n) => n.id === note.id)) this.data.notes.push(note);
    this.redraw();
  }

  // Language switch: the template says everything again; what is typed stays.
  relabel(ctx) {
    if (this.isOpen) this.update(this.inc, ctx);
  }

  tick() {
    if (this.isOpen && this.inc && this.ctx) this.draw();
  }

  // ---- drawing -----------------------------------------------------------------------------------
  update(inc, ctx) {
    if (!this.isOpen || !inc || inc.id !== this.id) return;
    this.inc = inc;
    this.ctx = ctx;
    // Type and priority follow the incident unless the operator is changing them.
    if (!this.classDirty) {
      this.classType = inc.type || "";
      this.classPrio = inc.priority;
    }
    this.draw();
  }

  draw() {
    const inc = this.inc, ctx = this.ctx;
    this.el.dataset.incidentId = inc.id;
    this.el.dataset.status = inc.status;
    const open = OPEN.has(inc.status);
    render(html`${this.head(inc, ctx)}${this.timers(inc, open)}<div class="d-body">
      ${this.alerts(inc, ctx)}${this.banner(inc, ctx)}
      <div class="d-error" data-testid="detail-error" role="alert" data-code=${this.error ? this.error.code || "" : nothing}
        ?hidden=${!this.error}>${this.error ? errorText(this.error) : ""}</div>
      <div class="d-claim">${this.claim(inc, ctx)}</div>
      ${this.callers(inc, ctx, open)}${this.dispatch(inc, ctx, open)}${this.classify(inc, ctx, open)}
      ${this.notes(inc)}${this.closing(ctx, open)}${this.merging(inc, ctx, open)}${this.evidence()}
      <section class="d-sec"><h3><span>${t("timeline")}</span></h3><ol class="timeline" data-testid="timeline">${
        ((this.data && this.data.timeline) || []).map((e) => this.timelineItem(e))}</ol></section>
    </div>`, this.el);
  }

  head(inc, ctx) {
    const prio = ctx.priorities.get(inc.priority);
    return html`<div class="d-head">
      <span class="prio p${inc.priority}" data-testid="detail-priority">${inc.priority}<small>${prio ? pick(prio) : ""}</small></span>
      <span class="d-id">#${inc.id}</span>
      <span class="status st-${inc.status}" data-testid="detail-status" data-status=${inc.status}>${statusLabel(inc.status)}</span>
      ${this.mine(inc, ctx) ? html`<span class="tag mine big" data-testid="detail-mine" title=${t("mine_title")}>${t("mine_badge")}</span>` : nothing}
      <button type="button" class="btn btn-icon d-x" data-testid="detail-close" title=${t("detail_close")}
        aria-label=${t("detail_close")} @click=${() => this.handlers.onClosePanel()}>×</button>
    </div>`;
  }

  // Received / dispatched / on scene, ticking mm:ss (fixed once the incident is closed). The
  // received clock keeps its test id "detail-age" and data-status (closed: how long it was open).
  timers(inc, open) {
    const tm = incidentTimes(inc);
    const end = !open && inc.closed_at ? parseTime(inc.closed_at) : null;
    const ms = tm.received === null ? null : (end ?? now()) - tm.received;
    return html`<div class="d-timers" data-testid="detail-timers">
      <div class="d-timer dt-received"><small>${t("t_received")}</small><span class="timer t-received age d-age${
        tm.received === null ? " none" : ""}${end !== null ? " ended" : ""}" data-testid="detail-age" data-timer="received"
        data-status=${inc.status} title="${t("received_at")} ${dateTimeText(inc.received_at)}">${
        ms === null ? "--:--" : elapsedText(ms)}</span></div>
      <div class="d-timer dt-dispatched"><small>${t("t_dispatched")}</small>${clock("dispatched", tm.dispatched, end, "timer-dispatched")}</div>
      <div class="d-timer dt-on_scene"><small>${t("t_on_scene")}</small>${clock("on_scene", tm.onScene, end, "timer-on-scene")}</div>
    </div>`;
  }

  // Overdue offers (with the next unit to send) and a ringing 110 call, on top of the panel.
  alerts(inc, ctx) {
    const cti = ctx.cti && ctx.cti.incidentId === inc.id ? ctx.cti : null;
    const recs = ctx.recs && ctx.recs.incidentId === inc.id && ctx.recs.data ? ctx.recs.data.units : [];
    const asg = inc.assignments || [];
    const sentNow = (unitId) => asg.some((x) => x.unit_id === unitId && isActiveAssignment(x));
    const overdue = OPEN.has(inc.status) ? asg.filter(isOverdue) : [];
    return html`<div class="d-alerts">
      ${cti ? html`<div class="banner cti" data-testid="cti-banner" data-call-id=${cti.callId}>
        <span class="cti-ico" aria-hidden="true">☎</span><span>${t("cti_banner", { phone: "" })}</span>${phoneTpl(cti.number)}<span
        class="muted"> · ${clockText(cti.at)}</span></div>` : nothing}
      ${overdue.map((a) => {
        const prop = ctx.proposals.has(a.id) ? ctx.proposals.get(a.id) : recs.find((r) => !sentNow(r.unit_id)) || null;
        const busy = prop && this.busy.has(`dispatch:${prop.unit_id}`);
        return html`<div class="banner overdue" data-testid="overdue-banner" role="alert" data-assignment-id=${a.id}
          data-unit-id=${a.unit_id}>
          <div class="ov1"><span class="ov-ico" aria-hidden="true">⚠</span><span>${t("overdue_banner", { name: a.call_sign })}</span>${
            clock("overdue", parseTime(a.dispatched_at), null)}</div>
          ${prop && sentNow(prop.unit_id) ? html`<div class="ov2">${t("overdue_sent", { name: prop.call_sign })}</div>`
            : prop ? html`<div class="ov2"><span>${t("overdue_propose", { name: prop.call_sign, d: distanceText(prop.distance_m), eta: etaText(prop.eta_s) })}</span>
              <button type="button" class="btn btn-dispatch" data-testid="overdue-dispatch" ?disabled=${busy}
                data-unit-id=${prop.unit_id} @click=${() => this.doDispatch([prop.unit_id], `dispatch:${prop.unit_id}`)}>${
                t("overdue_dispatch", { name: prop.call_sign })}</button></div>`
            : html`<div class="ov2 muted">${t("overdue_no_proposal")}</div>`}
        </div>`;
      })}
    </div>`;
  }

  // Merged / closed / still loading.
  banner(inc, ctx) {
    const disp = inc.disposition ? pick(ctx.dispositions.get(inc.disposition)) || inc.disposition : "";
    return html`<div class="d-banner" data-testid="detail-banner">
      ${inc.status === "merged" ? html`<div class="banner warn">${t("merged_into", { id: inc.merged_into })}
        <button type="button" class="btn" data-testid="open-merged-into" @click=${() => this.handlers.onSelect(inc.merged_into)}>${
          t("open_incident", { id: inc.merged_into })}</button></div>`
      : inc.status === "closed" ? html`<div class="banner closed">${t("closed_info", { d: disp })} · ${dateTimeText(inc.closed_at)}</div>` : nothing}
      ${this.loadError ? html`<div class="banner err">${errorText(this.loadError)}</div>`
        : !this.data ? html`<div class="banner muted">${t("detail_loading")}</div>` : nothing}
    </div>`;
  }

  claim(inc, ctx) {
    if (inc.status === "new") {
      const busy = this.busy.has("claim");
      return html`<button type="button" class="btn btn-claim btn-big" data-testid="claim-button" ?disabled=${busy}
        @click=${() => this.run("claim", () => this.handlers.claim(inc.id))}>${busy ? t("claiming") : t("claim")}</button>`;
    }
    if (!inc.claimed_by) return nothing;
    const mine = inc.claimed_by.id === ctx.myUserId;
    return html`<div class="holder${mine ? " mine" : ""}" data-testid="claim-holder" data-user-id=${inc.claimed_by.id}>${
      mine ? t("claimed_by_me") : `${t("claimed_by")}：${inc.claimed_by.display_name}`}${
      inc.claimed_at ? html`<span class="muted"> · ${clockText(inc.claimed_at)}</span>` : nothing}</div>`;
  }

  callers(inc, ctx, open) {
    const alarms = inc.alarms || [];
    return html`<div class="d-callers" data-testid="detail-callers" ?hidden=${!alarms.length}>
      <h3>${t("callers")}${alarms.length > 1 ? ` (${alarms.length})` : ""}</h3>
      ${repeat(alarms, (a) => a.id, (a) => this.caller(a, inc, ctx, open))}
    </div>`;
  }

  caller(a, inc, ctx, open) {
    const loc = a.location;
    const trail = ctx.trails.get(a.id) || [];
    const flagged = trail.filter((p) => p.flag).length;
    const picking = ctx.pickingAlarmId === a.id;
    return html`<div class="caller" data-testid="detail-alarm" data-alarm-id=${a.id}>
      <div class="c1">${phoneTpl(a.phone, "detail-phone", "phone big")}<span class="tag ${a.phone_verified ? "ok" : "warn"}">${
        a.phone_verified ? t("verified") : t("unverified")}</span></div>
      <div class="c2"><span class=${a.name ? "" : "muted"} data-testid="detail-name">${a.name || t("no_name")}</span><span
        class="muted"> · ${t("received_at")} ${clockText(a.received_at)}</span></div>
      ${a.place_text ? html`<div class="c-place"><span class="lbl">${t("place_text")}：</span>${a.place_text}</div>` : nothing}
      ${loc ? html`<div class="c-pos" data-testid="detail-position" data-source=${loc.source} data-locked=${String(Boolean(loc.locked))}>
          <span class="src-ico">${unsafeHTML(shapeSvg(loc.source, 18, loc.locked))}</span>
          <span class="src-name">${sourceLabel(loc.source)}</span>
          ${Number.isFinite(loc.accuracy_m) ? html`<span class="acc">${t("accuracy_m", { m: Math.round(loc.accuracy_m) })}</span>` : nothing}
          ${loc.locked ? html`<span class="tag lock" data-testid="position-locked" title=${t("locked_hint")}><span class="lock-ico"
            aria-hidden="true"></span>${t("locked")}</span>` : nothing}
          <div class="coords muted">${loc.lat.toFixed(5)}, ${loc.lon.toFixed(5)}${loc.at ? ` · ${t("position_at")} ${clockText(loc.at)}` : ""}</div>
        </div>`
        : html`<div class="c-pos noloc" data-testid="detail-position" data-source="">${t("no_position")}</div>`}
      ${a.rating ? html`<div class="d-rating" data-testid="detail-rating" data-score=${a.rating.score} title=${t("rating_title")}>${
        t("rating_title")} ${starsText(a.rating.score)}${a.rating.comment ? html`<span class="muted"> “${a.rating.comment}”</span>` : nothing}</div>` : nothing}
      ${trail.length ? html`<div class="muted small">${t("trail_points", { n: trail.length })}${flagged ? t("trail_flagged", { n: flagged }) : ""}</div>` : nothing}
      ${abuseMarkTpl(a, () => this.redraw())}
      ${open ? html`<button type="button" class="btn ${loc ? "" : "btn-primary"}${picking ? " active" : ""}" data-testid="set-position"
        data-alarm-id=${a.id} aria-pressed=${picking ? "true" : "false"}
        @click=${() => (picking ? this.handlers.cancelPick() : this.handlers.startPick(a, inc))}>${
        picking ? t("pick_cancel") : loc ? t("correct_position") : t("set_position")}</button>` : nothing}
    </div>`;
  }

  // ---- dispatch: the jurisdiction, the units sent, the nearest available ones to send ----------
  mine(inc, ctx) {
    return ctx.myStationId !== null && ctx.myStationId !== undefined && inc.station_id === ctx.myStationId;
  }

  dispatch(inc, ctx, open) {
    const st = ctx.stationsById.get(inc.station_id);
    const list = [...(inc.assignments || [])].sort((a, b) => (isActiveAssignment(b) - isActiveAssignment(a)) || a.id - b.id);
    return html`<section class="d-sec d-dispatch" data-testid="dispatch-section" ?hidden=${inc.status === "merged"}>
      <h3><span>${t("dispatch")}</span><div class="d-station" data-testid="detail-station" data-station-id=${inc.station_id ?? ""}>
        <span class="muted">${t("jurisdiction")}：</span>${st ? html`<b title=${pick(st)}>${stationShort(st)}</b>`
          : html`<span class="tag warn">${t("unrouted")}</span>`}${this.mine(inc, ctx) ? html`<span class="tag mine">${t("mine_badge")}</span>` : nothing}
      </div></h3>
      <div class="asg-list" data-testid="assignments">${list.length
        ? repeat(list, (a) => a.id, (a) => this.assignment(a, open)) : html`<div class="muted small">${t("assigned_none")}</div>`}</div>
      ${open ? this.recBox(inc, ctx) : nothing}
    </section>`;
  }

  assignment(a, open) {
    const active = isActiveAssignment(a);
    const overdue = isOverdue(a);
    // The clock of the current step: waiting for accept, since accepted, en route, on scene.
    const stepAt = { dispatched: a.dispatched_at, accepted: a.accepted_at, en_route: a.en_route_at, on_scene: a.on_scene_at }[a.status];
    const endAt = { cleared: a.cleared_at, declined: a.declined_at, cancelled: a.cancelled_at }[a.status];
    const steps = [["t_dispatched", a.dispatched_at], ["t_accepted", a.accepted_at], ["t_en_route", a.en_route_at],
      ["t_on_scene", a.on_scene_at]].filter(([, at]) => at).map(([k, at]) => `${t(k)} ${clockText(at)}`).join(" · ");
    const armed = this.cancelArmed === a.id;
    return html`<div class="asg as-${a.status}${overdue ? " overdue" : ""}${active ? "" : " done"}" data-testid="assignment-row"
      data-assignment-id=${a.id} data-unit-id=${a.unit_id} data-status=${a.status}>
      <div class="a1">
        ${kindTpl(a.unit_kind, 18)}
        <button type="button" class="linklike a-cs" title=${t("locate_unit")} @click=${() => this.handlers.focusUnit(a.unit_id)}>${a.call_sign}</button>
        <span class="astatus as-${a.status}" data-testid="assignment-status" data-status=${a.status}>${
          overdue ? `${assignStatusLabel(a.status)} · ${t("overdue_short")}` : assignStatusLabel(a.status)}</span>
        ${active ? clock("assignment", parseTime(stepAt || a.dispatched_at), null, "assignment-timer", "",
          a.status === "dispatched" ? ASSIGNMENT_LATE_MS : 0)
          : html`<span class="timer ended" data-testid="assignment-timer">${endAt ? clockText(endAt) : ""}</span>`}
        ${active && open ? html`<button type="button" class="btn btn-small btn-recall${armed ? " armed" : ""}" data-testid="assignment-cancel"
          data-assignment-id=${a.id} ?disabled=${this.busy.has(`cancel:${a.id}`)} @click=${() => this.doCancel(a)}>${
          armed ? t("cancel_confirm") : t("cancel_assignment")}</button>` : nothing}
      </div>
      ${steps ? html`<div class="a2 muted">${steps}</div>` : nothing}
      ${a.status === "declined" && a.decline_reason ? html`<div class="a2 warn">${t("declined_reason", { r: a.decline_reason })}</div>` : nothing}
      ${a.backup_requested_at && active ? html`<div class="a2 backup">${t("backup_requested")} ${clockText(a.backup_requested_at)}</div>` : nothing}
    </div>`;
  }

  // The recommended units of the open incident (console.js keeps them fresh in ctx.recs).
  recUnits() {
    const r = this.ctx && this.ctx.recs && this.ctx.recs.incidentId === this.id ? this.ctx.recs : null;
    return { r, units: r && r.data ? r.data.units : [] };
  }

  recBox(inc, ctx) {
    const { r, units } = this.recUnits();
    // Forget ticks of units no longer recommended (dispatched elsewhere, gone busy); tick the
    // nearest while nothing is sent and the operator has not chosen.
    for (const id of [...this.recSel]) if (!units.some((u) => u.unit_id === id)) this.recSel.delete(id);
    if (!this.recTouched && !(inc.assignments || []).some(isActiveAssignment) && !this.recSel.size && units.length) {
      this.recSel.add(units[0].unit_id);
    }
    const names = units.filter((u) => this.recSel.has(u.unit_id)).map((u) => u.call_sign);
    const busy = this.busy.has("dispatch");
    let state = nothing;
    if (!r || (!r.data && r.loading)) state = html`<div class="muted small">${t("rec_loading")}</div>`;
    else if (r.error && !r.data) state = html`<div class="banner err">${errorText(r.error)}</div>`;
    else if (!r.data.position) state = html`<div class="rec-empty warn" data-testid="rec-no-position">${t("rec_no_position")}</div>`;
    else if (!units.length) state = html`<div class="rec-empty">${t("rec_none")}</div>`;
    return html`<div class="rec-box"><div class="rec-title">${t("rec_title")}</div>
      <div class="rec-list" data-testid="rec-list">${state}${repeat(units, (u) => u.unit_id, (u) => this.rec(u, ctx))}</div>
      <button type="button" class="btn btn-dispatch btn-big" data-testid="dispatch-button" ?disabled=${busy || !names.length}
        @click=${() => this.doDispatch()}>${busy ? t("dispatching") : names.length ? t("dispatch_btn_n", { names: names.join("、") })
        : t("dispatch_btn")}</button>
    </div>`;
  }

  rec(u, ctx) {
    const st = ctx.stationsById.get(u.station_id);
    const on = this.recSel.has(u.unit_id);
    return html`<label class="rec${on ? " on" : ""}" data-testid="rec-row" data-unit-id=${u.unit_id}>
      <input type="checkbox" data-testid="rec-check" data-unit-id=${u.unit_id} .checked=${on} @change=${(e) => {
        this.recTouched = true;
        if (e.target.checked) this.recSel.add(u.unit_id); else this.recSel.delete(u.unit_id);
        this.redraw();
        if (this.handlers.onRecSelection) this.handlers.onRecSelection();
      }}>
      ${kindTpl(u.kind, 18)}
      <span class="r-cs" data-testid="rec-call-sign">${u.call_sign}</span>
      <span class="r-dist" data-testid="rec-distance" title=${kindLabel(u.kind)}>${distanceText(u.distance_m)}</span>
      <span class="r-eta" data-testid="rec-eta">${etaText(u.eta_s)}</span>
      <span class="r-st" title=${st ? pick(st) : ""}>${stationShort(st)}</span>
      ${u.in_jurisdiction ? html`<span class="tag ok" data-testid="rec-juris" title=${t("rec_in_juris_title")}>${t("rec_in_juris")}</span>` : nothing}
    </label>`;
  }

  selectedRecs() {
    return [...this.recSel];
  }

  // ---- classify, notes, close, merge ----------------------------------------------------------
  classify(inc, ctx, open) {
    const unchanged = this.classType === (inc.type || "") && this.classPrio === inc.priority;
    const pickChanged = () => {
      this.classDirty = true;
      this.redraw();
    };
    return html`<section class="d-sec" ?hidden=${!open}>
      <h3><span>${t("classify")}</span></h3>
      <div class="row"><label for="classify-type">${t("type")}</label>
        <select id="classify-type" data-testid="classify-type" @change=${(e) => { this.classType = e.target.value; pickChanged(); }}>
          <option value="" .selected=${!this.classType}>${t("choose_type")}</option>
          ${ctx.config.incident_types.map((o) => html`<option value=${o.code} .selected=${this.classType === o.code}>${pick(o)}</option>`)}
        </select></div>
      <div class="row prio-row"><span class="lbl">${t("priority")}</span>
        <div class="prio-pick" role="radiogroup" data-testid="classify-priority">${ctx.config.priorities.map((p) => html`<label
          class="prio-opt p${p.value}"><input type="radio" name="classify-priority" value=${p.value}
          data-testid="classify-priority-${p.value}" .checked=${this.classPrio === p.value}
          @change=${() => { this.classPrio = p.value; pickChanged(); }}><span><b>${p.value}</b> ${pick(p)}</span></label>`)}</div></div>
      <div class="row right"><button type="button" class="btn btn-primary" data-testid="classify-submit"
        ?disabled=${!open || this.busy.has("classify") || !this.classType || !this.classPrio || unchanged}
        @click=${() => this.doClassify()}>${t("classify_save")}</button></div>
    </section>`;
  }

  notes(inc) {
    const notes = this.data ? this.data.notes : [];
    return html`<section class="d-sec" ?hidden=${inc.status === "merged"}>
      <h3><span>${t("notes")}</span></h3>
      <ul class="notes" data-testid="notes-list">${notes.length ? repeat(notes, (n) => n.id, (n) => html`<li data-testid="note-item"
        data-note-id=${n.id}><div class="n-meta"><b>${n.author ? n.author.display_name || "" : ""}</b> · ${clockText(n.at)}</div>
        <div class="n-text">${n.text}</div></li>`)
        : html`<li class="muted">${this.data ? t("notes_none") : t("detail_loading")}</li>`}</ul>
      <textarea data-testid="note-input" rows="2" maxlength=${NOTE_MAX} placeholder=${t("note_placeholder")} .value=${this.noteText}
        @input=${(e) => { this.noteText = e.target.value; this.redraw(); }}
        @keydown=${(e) => {
          if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            this.doNote();
          }
        }}></textarea>
      ${noteCount(this.noteText, "note-input-count")}
      <div class="row right"><button type="button" class="btn" data-testid="note-submit"
        ?disabled=${inc.status === "merged" || this.busy.has("note") || !this.noteText.trim()}
        @click=${() => this.doNote()}>${t("note_add")}</button></div>
    </section>`;
  }

  closing(ctx, open) {
    return html`<section class="d-sec" ?hidden=${!open}>
      <h3><span>${t("close_incident")}</span></h3>
      <div class="row"><label for="close-disposition">${t("disposition")}</label>
        <select id="close-disposition" data-testid="close-disposition" @change=${(e) => { this.closeDisp = e.target.value; this.redraw(); }}>
          <option value="" .selected=${!this.closeDisp}>${t("choose_disposition")}</option>
          ${ctx.config.dispositions.map((o) => html`<option value=${o.code} .selected=${this.closeDisp === o.code}>${pick(o)}</option>`)}
        </select></div>
      <textarea data-testid="close-note" rows="1" maxlength=${NOTE_MAX} placeholder=${t("close_note")} .value=${this.closeNote}
        @input=${(e) => { this.closeNote = e.target.value; this.redraw(); }}></textarea>
      ${this.closeNote ? noteCount(this.closeNote, "close-note-count") : nothing}
      <div class="row right"><button type="button" class="btn btn-danger" data-testid="close-submit"
        ?disabled=${!open || this.busy.has("close") || !this.closeDisp} @click=${() => this.doClose()}>${t("close_submit")}</button></div>
    </section>`;
  }

  merging(inc, ctx, open) {
    return html`<section class="d-sec" ?hidden=${!open}>
      <h3><span>${t("merge")}</span><button type="button" class="btn" data-testid="merge-open" aria-expanded=${String(this.mergeOpen)}
        @click=${() => { this.mergeOpen = !this.mergeOpen; this.redraw(); }}>${this.mergeOpen ? t("cancel") : `${t("merge")}…`}</button></h3>
      <div class="merge-body" data-testid="merge-panel" ?hidden=${!this.mergeOpen || !open}>${
        this.mergeOpen && open ? this.mergeList(inc, ctx, open) : nothing}</div>
    </section>`;
  }

  // The other open incidents, likeliest duplicates first: the same phone, then the nearest.
  mergeList(inc, ctx, open) {
    const myPhones = new Set((inc.alarms || []).map((a) => a.phone));
    const myLoc = ((inc.alarms || []).find((a) => a.location) || {}).location;
    const cands = ctx.open.filter((o) => o.id !== inc.id).map((o) => {
      const loc = (o.alarms.find((a) => a.location) || {}).location;
      return { o, same: o.alarms.some((a) => myPhones.has(a.phone)), dist: myLoc && loc ? distanceM(myLoc, loc) : null };
    });
    cands.sort((a, b) => (b.same - a.same) || ((a.dist ?? 1e12) - (b.dist ?? 1e12)) || byQueueOrder(a.o, b.o));
    const shown = cands.slice(0, MERGE_SHOWN);
    for (const id of [...this.mergeSel]) if (!shown.some((c) => c.o.id === id)) this.mergeSel.delete(id);
    if (!cands.length) return html`<div class="muted">${t("merge_none")}</div>`;
    return html`<div class="muted small">${t("merge_hint", { id: inc.id })}</div>
      ${cands.length > shown.length ? html`<div class="muted small" data-testid="merge-more">${
        t("merge_more", { n: shown.length, m: cands.length - shown.length })}</div>` : nothing}
      <div class="merge-list">${repeat(shown, (c) => c.o.id, ({ o, same, dist }) => {
        const a0 = o.alarms[0] || {};
        return html`<label class="merge-row p${o.priority}"><input type="checkbox" data-testid="merge-candidate"
          data-incident-id=${o.id} .checked=${this.mergeSel.has(o.id)} @change=${(e) => {
            if (e.target.checked) this.mergeSel.add(o.id); else this.mergeSel.delete(o.id);
            this.redraw();
          }}><span class="qid">#${o.id}</span>${phoneTpl(a0.phone)}<span class="mname">${a0.name || ""}</span>
          <span class="muted">${clockText(o.received_at)}</span>
          ${same ? html`<span class="tag warn">${t("same_phone")}</span>` : nothing}
          ${dist !== null ? html`<span class="tag">${t("away", { d: distanceText(dist) })}</span>` : nothing}</label>`;
      })}</div>
      <div class="row right"><button type="button" class="btn btn-primary" data-testid="merge-submit"
        ?disabled=${!open || this.busy.has("merge") || this.mergeSel.size === 0} @click=${() => this.doMerge()}>${
        t("merge_submit", { id: inc.id })}</button></div>`;
  }

  // Evidence: recordings, snapshots, the caller's photos; reachable here after a call view closed.
  evidence() {
    return html`<section class="d-sec d-evidence" data-testid="detail-evidence">
      <h3><span>${t("evidence")}</span> <small class="muted">${t("evidence_note")}</small></h3>
      <div class="ev-list" data-testid="detail-evidence-list">${this.media.size
        ? repeat([...this.media.values()], (m) => m.id, (m) => evidenceTpl(m)) : html`<div class="muted ev-empty">${t("evidence_none")}</div>`}</div>
    </section>`;
  }

  timelineItem(e) {
    const d = e.detail;
    return html`<li data-testid="timeline-item" data-name=${e.name}>
      <span class="tl-time">${clockText(e.at)}</span><span class="tl-name">${actionLabel(e.name)}</span>
      ${d && "to_station" in d ? html`<span class="tl-route" data-testid="timeline-route">${routeEnd(d.from_station)} → ${routeEnd(d.to_station)}</span>` : nothing}
      ${e.incident_id && e.incident_id !== this.id ? html`<span class="tl-from muted">#${e.incident_id}</span>` : nothing}
      ${e.actor || e.actor_name ? html`<span class="tl-actor muted">${e.actor_name || this.actorName(e.actor)}</span>` : nothing}
      ${d && "score" in d ? html`<span class="tl-rating" data-testid="timeline-rating" data-score=${d.score}>${starsText(d.score)}${
        d.comment ? html`<span class="muted"> “${d.comment}”</span>` : nothing}</span>` : nothing}
    </li>`;
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

  // ---- actions -------------------------------------------------------------------------------------
  showError(err) {
    this.error = err || null;
    if (this.isOpen && this.inc && this.ctx) this.draw();
  }

  // Run an action: mark busy, show the server's message if it fails.
  async run(name, fn) {
    if (this.busy.has(name)) return false;
    const id = this.id;
    this.busy.add(name);
    this.showError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      this.lastError = err;
      if (this.id === id) this.error = err;
      return false;
    } finally {
      this.busy.delete(name);
      if (this.id === id && this.inc) this.draw();
    }
  }

  async doClassify() {
    const type = this.classType, priority = this.classPrio;
    if (!type || !priority) return;
    if (await this.run("classify", () => this.handlers.classify(this.id, type, priority))) {
      this.classDirty = false;
      this.handlers.toast(t("saved"));
    }
  }

  async doNote() {
    const text = this.noteText.trim();
    if (!text) return;
    const id = this.id;
    if (await this.run("note", () => this.handlers.addNote(id, text)) && this.id === id) {
      this.noteText = "";
      this.draw();
      this.handlers.toast(t("note_added"));
    }
  }

  async doClose() {
    const disposition = this.closeDisp;
    if (!disposition) return;
    const note = this.closeNote.trim() || null;
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
      this.redraw();
      this.handlers.toast(t("merge_done", { n: ids.length, id }));
    }
  }

  async doDispatch(unitIds = null, busyName = "dispatch") {
    const ids = unitIds || [...this.recSel];
    if (!ids.length) return;
    const id = this.id;
    this.recTouched = true;
    const ok = await this.run(busyName, () => this.handlers.dispatch(id, ids));
    if (ok && this.id === id) {
      for (const u of ids) this.recSel.delete(u);
      this.redraw();
    }
  }

  async doCancel(a) {
    if (this.cancelArmed !== a.id) {
      this.cancelArmed = a.id;
      this.redraw();
      clearTimeout(this.cancelTimer);
      this.cancelTimer = setTimeout(() => {
        if (this.cancelArmed === a.id) {
          this.cancelArmed = null;
          this.redraw();
        }
      }, 4000);
      return;
    }
    this.cancelArmed = null;
    const ok = await this.run(`cancel:${a.id}`, () => this.handlers.cancelAssignment(a));
    if (ok) this.handlers.toast(t("cancelled_done", { name: a.call_sign }));
  }
}
