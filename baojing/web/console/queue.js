// The incident queue (open incidents in queue order, see store.js OpenList) and the list of
// recently closed ones, drawn with lit-html.
//
// The queue draws only the rows in view (plus a margin): with 10,000 open incidents the page holds
// a few dozen rows, not 10,000. Rows have one of two fixed heights (with or without the line of
// units sent), so where each row sits is a sum, not a measurement. Up to ALL_ROWS incidents every
// row is drawn, so a short queue behaves like a plain list (find in page, tests, screen readers).
import { html, render, nothing } from "/vendor/lit-html/lit-html.js";
import { repeat } from "/vendor/lit-html/directives/repeat.js";
import { unsafeHTML } from "/vendor/lit-html/directives/unsafe-html.js";
import { t, pick } from "/shared/i18n.js";
import { statusLabel, sourceLabel, assignStatusLabel } from "./i18n.js";
import { now } from "./clock.js";
import { parseTime, elapsedText, clockText } from "/shared/time.js";
import { shapeSvg } from "./mapview.js";
import { ACTIVE_ASSIGNMENT, unitLines } from "./store.js";

export const ROW_H = 92;       // .qrow height in console.css
export const ROW_H_UNITS = 118; // .qrow.has-q4
export const ROW_H_UNITS2 = 140; // .qrow.has-q4.q4-2
const ALL_ROWS = 150;
const OVERSCAN = 12;

export const isActiveAssignment = (a) => ACTIVE_ASSIGNMENT.has(a.status);
// An offer nobody accepted in time (the server set overdue_at) that is still waiting.
export const isOverdue = (a) => a.status === "dispatched" && Boolean(a.overdue_at);

// Priority 1 first; within a priority my station's incidents first; then oldest first.
export function byQueueOrder(a, b, myStationId = null) {
  const mine = (i) => (myStationId !== null && myStationId !== undefined && i.station_id === myStationId ? 0 : 1);
  return a.priority - b.priority || mine(a) - mine(b) || parseTime(a.received_at) - parseTime(b.received_at) ||
    a.id - b.id;
}

// The incident's clocks: since received, since the first dispatch, since the first unit arrived.
// Recalled and declined assignments do not count. Closed incidents stop at closed_at.
export function incidentTimes(inc) {
  const counted = (inc.assignments || []).filter((a) => a.status !== "cancelled" && a.status !== "declined");
  const first = (field) => {
    const ts = counted.map((a) => parseTime(a[field])).filter((x) => x !== null);
    return ts.length ? Math.min(...ts) : null;
  };
  return {
    received: parseTime(inc.received_at), dispatched: first("dispatched_at"), onScene: first("on_scene_at"),
    end: inc.status === "closed" || inc.status === "merged" ? parseTime(inc.closed_at || inc.updated_at) : null,
  };
}

// A phone number grouped 3-4-4 for reading aloud (groups spaced by CSS; the text stays the digits).
export function phoneTpl(phone, testid = null, cls = "phone") {
  const p = String(phone || "");
  const m = /^(\+?86)?(1\d{2})(\d{4})(\d{4})$/.exec(p);
  if (!m) return html`<span class=${cls} data-testid=${testid ?? nothing}>${p}</span>`;
  return html`<span class=${cls} data-testid=${testid ?? nothing}>${m[1] ? html`<span class="pg">${m[1]}</span>` : nothing}<span
    class="pg">${m[2]}</span><span class="pg">${m[3]}</span><span class="pg">${m[4]}</span></span>`;
}

// A mm:ss clock (since -> now, or fixed at end); "--:--" before it starts.
export function timerTpl(kind, since, end, testid) {
  const text = since === null ? "--:--" : elapsedText((end ?? now()) - since);
  return html`<span class="timer t-${kind}${since === null ? " none" : ""}${end !== null ? " ended" : ""}"
    data-testid=${testid ?? nothing} data-timer=${kind}>${text}</span>`;
}

const rowHeight = (inc) => [ROW_H, ROW_H_UNITS, ROW_H_UNITS2][unitLines(inc)];

export class QueueView {
  constructor(listEl, closedEl, closedCountEl, handlers) {
    this.el = listEl;
    this.closedEl = closedEl;
    this.closedCountEl = closedCountEl;
    this.handlers = handlers;
    this.list = null;
    this.ctx = null;
    this.offsets = new Float64Array(1);
    this.closedKey = null;
    let queued = false;
    // Where the list is scrolled and how tall it is, kept from events: draw() reads no layout (a
    // read after the map's changes would force the page's layout in the middle of a frame).
    this.scrollTop = 0;
    this.viewH = 800;
    // Scrolling draws the rows that come into view, once per frame.
    listEl.addEventListener("scroll", () => {
      this.scrollTop = listEl.scrollTop;
      if (queued || !this.list || this.list.length <= ALL_ROWS) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        this.draw();
      });
    }, { passive: true });
    if (typeof ResizeObserver === "function") {
      new ResizeObserver((entries) => {
        this.viewH = entries[0].contentRect.height || this.viewH;
        if (this.list) this.draw();
      }).observe(listEl);
    }
  }

  // list: OpenList (queue order); ctx: see console.js ctx().
  render(list, ctx) {
    this.list = list;
    this.ctx = ctx;
    this.draw();
  }

  draw() {
    const list = this.list, ctx = this.ctx;
    if (!list) return;
    const n = list.length;
    if (this.offsets.length !== n + 1 || this.offVersion !== list.version) {
      if (this.offsets.length !== n + 1) this.offsets = new Float64Array(n + 1);
      const off = this.offsets;
      for (let i = 0; i < n; i++) off[i + 1] = off[i] + rowHeight(list.at(i));
      this.offVersion = list.version;
    }
    const off = this.offsets;
    let first = 0, last = n;
    if (n > ALL_ROWS) {
      const top = this.scrollTop, bottom = top + this.viewH;
      first = Math.max(0, this.find(top) - OVERSCAN);
      last = Math.min(n, this.find(bottom) + 1 + OVERSCAN);
    }
    const rows = [];
    for (let i = first; i < last; i++) rows.push(list.at(i));
    render(n ? html`<div class="q-spacer" style="height:${off[first]}px"></div>${repeat(rows, (inc) => inc.id,
      (inc) => this.row(inc, ctx))}<div class="q-spacer" style="height:${off[n] - off[last]}px"></div>`
      : html`<div class="queue-empty" data-testid="queue-empty"><div class="qe-main">${t("queue_empty")}</div>
        <div class="qe-hint">${t("queue_empty_hint")}</div></div>`, this.el);
  }

  // Index of the row at pixel y (binary search over the offsets).
  find(y) {
    const off = this.offsets;
    let lo = 0, hi = off.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (off[mid] <= y) lo = mid; else hi = mid - 1;
    }
    return Math.max(0, lo);
  }

  // Scroll an incident's row into view (it may not be drawn yet).
  reveal(id) {
    if (!this.list) return;
    const i = this.list.positionOf(id);
    if (i < 0) return;
    const top = this.offsets[i], bottom = this.offsets[i + 1];
    if (top < this.scrollTop) this.el.scrollTop = top;
    else if (bottom > this.scrollTop + this.viewH) this.el.scrollTop = bottom - this.viewH;
    this.scrollTop = this.el.scrollTop;
    this.draw();
  }

  row(inc, ctx) {
    const assignments = inc.assignments || [];
    const overdue = assignments.some(isOverdue);
    const mine = ctx.myStationId !== null && ctx.myStationId !== undefined && inc.station_id === ctx.myStationId;
    const sel = ctx.selectedId === inc.id;
    const prio = ctx.priorities.get(inc.priority);
    const alarms = inc.alarms || [];
    const first = alarms[0] || {};
    const holder = inc.claimed_by ? (inc.claimed_by.id === ctx.myUserId ? t("you") : inc.claimed_by.display_name) : null;
    const loc = first.location;
    const claiming = ctx.claiming.has(inc.id);
    const received = parseTime(inc.received_at);
    const age = now() - received;
    const waiting = inc.status === "new";
    const ageCls = waiting && age >= 180000 ? " late" : waiting && age >= 60000 ? " warn" : "";
    const cls = `qrow p${inc.priority} st-${inc.status}${sel ? " sel" : ""}${ctx.flashing.has(inc.id) ? " flash" : ""}` +
      `${overdue ? " overdue" : ""}${mine ? " mine" : ""}${ctx.ctiFlash.has(inc.id) ? " cti" : ""}` +
      `${assignments.length ? " has-q4" : ""}${unitLines(inc) === 2 ? " q4-2" : ""}`;
    const select = () => this.handlers.onSelect(inc.id);
    return html`<div class=${cls} data-testid="queue-row" role="button" tabindex="0" aria-selected=${sel ? "true" : "false"}
      data-incident-id=${inc.id} data-status=${inc.status} data-priority=${inc.priority} data-mine=${String(mine)}
      data-overdue=${String(overdue)} @click=${select}
      @keydown=${(e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(); } }}>
      <div class="q1">
        <span class="prio p${inc.priority}" data-testid="queue-priority" title=${t("priority")}>${inc.priority}<small>${prio ? pick(prio) : ""}</small></span>
        ${mine ? html`<span class="tag mine" data-testid="queue-mine" title=${t("mine_title")}>${t("mine_badge")}</span>` : nothing}
        <span class="age${ageCls}" data-testid="queue-age" data-status=${inc.status} data-timer="received"
          title="${t("received_at")} ${clockText(inc.received_at)}">${elapsedText(age)}</span>
        <span class="status st-${inc.status}${holder ? " has-holder" : ""}" data-testid="queue-status" data-status=${inc.status}>${statusLabel(inc.status)}${
          holder ? html` · <span class="qholder" title=${holder}>${holder}</span>` : nothing}</span>
        ${waiting ? html`<button type="button" class="btn btn-claim" data-testid="queue-claim" data-incident-id=${inc.id}
          ?disabled=${claiming} @click=${(e) => { e.stopPropagation(); this.handlers.onClaim(inc.id); }}>${claiming ? t("claiming") : t("claim")}</button>` : nothing}
      </div>
      <div class="q2">
        <span class="qid">#${inc.id}</span>
        ${phoneTpl(first.phone, "queue-phone")}
        <span class=${first.name ? "qname" : "qname muted"} title=${first.name || nothing}>${first.name || t("q_no_name")}</span>
        ${alarms.length > 1 ? html`<span class="qmulti" title=${t("callers")}>×${alarms.length}</span>` : nothing}
      </div>
      <div class="q3">
        ${abuseTag(alarms)}
        <span class=${inc.type ? "qtype" : "qtype muted"}>${inc.type ? pick(ctx.types.get(inc.type)) || inc.type : t("unclassified")}</span>
        ${loc ? html`<span class="qloc" title=${sourceLabel(loc.source)}><span class="qsrc">${unsafeHTML(shapeSvg(loc.source, 14, loc.locked))}</span>${
          Number.isFinite(loc.accuracy_m) ? `±${Math.round(loc.accuracy_m)}m` : ""}</span><span class="qsrcword" title=${sourceLabel(loc.source)}>${
          loc.source === "network" ? t("q_src_network") : sourceLabel(loc.source)}</span>`
          : html`<span class="qloc noloc">${t("no_position")}</span>`}
        ${first.place_text ? html`<span class="qplace" title=${first.place_text}>${first.place_text}</span>` : nothing}
      </div>
      ${assignments.length ? this.unitsLine(inc, assignments) : nothing}
    </div>`;
  }

  // Who is going and how long it takes: "派 01:23 · 到 00:40 · [双塔21 在途]"
  unitsLine(inc, assignments) {
    const tm = incidentTimes(inc);
    const active = assignments.filter(isActiveAssignment);
    return html`<div class="q4">
      ${tm.dispatched !== null ? html`<span class="qtimer"><small>${t("q_t_dispatched")}</small>${timerTpl("dispatched", tm.dispatched, tm.end, "queue-timer-dispatched")}</span>` : nothing}
      ${tm.onScene !== null ? html`<span class="qtimer"><small>${t("t_on_scene")}</small>${timerTpl("on_scene", tm.onScene, tm.end, "queue-timer-on-scene")}</span>` : nothing}
      ${active.map((a) => html`<span class="achip as-${a.status}${isOverdue(a) ? " overdue" : ""}" data-testid="queue-assignment"
        data-unit-id=${a.unit_id} data-status=${a.status}>${a.call_sign} ${isOverdue(a) ? t("overdue_short") : assignStatusLabel(a.status)}</span>`)}
    </div>`;
  }

  // Closed in the last 2 hours (or rated since): newest first, with the caller's stars.
  renderClosed(closed, ctx) {
    const when = (inc) => Math.max(parseTime(inc.closed_at) || 0, ratedAt(inc));
    const list = [...closed].sort((a, b) => when(b) - when(a));
    this.closedCountEl.textContent = String(list.length);
    render(list.length ? repeat(list.slice(0, 200), (inc) => inc.id, (inc) => {
      const first = (inc.alarms || [])[0] || {};
      const disp = inc.disposition ? pick(ctx.dispositions.get(inc.disposition)) || inc.disposition : "";
      const rating = ratingOf(inc);
      const select = () => this.handlers.onSelect(inc.id);
      return html`<div class="crow${ctx.selectedId === inc.id ? " sel" : ""}" data-testid="closed-row" role="button"
        tabindex="0" data-incident-id=${inc.id} data-status=${inc.status} @click=${select}
        @keydown=${(e) => { if (e.key === "Enter") select(); }}>
        <span class="qid">#${inc.id}</span>
        <span class="ctime">${clockText(inc.closed_at)}</span>
        ${phoneTpl(first.phone)}
        <span class="cdisp">${disp}</span>
        ${rating ? html`<span class="crating" data-testid="closed-rating" data-score=${rating.score}
          title=${rating.comment ? `${t("rating_title")}：${rating.comment}` : t("rating_title")}>${starsText(rating.score)}${rating.comment ? html` <span class="ccomment">${rating.comment}</span>` : nothing}</span>` : nothing}
      </div>`;
    }) : html`<div class="closed-empty muted">${t("none")}</div>`, this.closedEl);
  }

  // Every second: the ages and clocks of the rows in view.
  tick() {
    if (this.list && this.list.length) this.draw();
  }
}

// The callers' ratings of an incident (one per alarm, at most): the first rated alarm's.
export function ratingOf(inc) {
  for (const a of inc.alarms || []) if (a.rating) return a.rating;
  return null;
}

function ratedAt(inc) {
  const r = ratingOf(inc);
  return (r && parseTime(r.at)) || 0;
}

export const starsText = (score) => "★".repeat(score) + "☆".repeat(Math.max(0, 5 - score));

// "Possible abuse" (docs/security.md): shown, never hiding or holding the alarm back; the counts
// and a call-taker's reason are in its title.
function abuseTag(alarms) {
  const a = alarms.map((x) => x.abuse).find((x) => x && x.possible);
  if (!a) return nothing;
  let title = t("abuse_title", { m: a.window_minutes, d: a.device_alarms, a: a.address_alarms });
  if (a.marked) title += ` · ${t("abuse_marked", { r: a.marked.reason })}`;
  return html`<span class="tag abuse" data-testid="queue-abuse" title=${`${t("abuse_badge")} · ${title}`}>${t("q_abuse_badge")}</span>`;
}
