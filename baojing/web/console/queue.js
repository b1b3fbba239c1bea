// The incident queue (open incidents, priority 1 first, then oldest first) and the list of
// recently closed ones. Rows are keyed by incident id and reused, so a flashing row keeps
// flashing and the ages tick without rebuilding anything.
import { h, clear, put, phoneEl, now, parseTime, fmtAge, fmtClock } from "./util.js";
import { t, pick, statusLabel, sourceLabel, assignStatusLabel, lang } from "./i18n.js";
import { shapeSvg } from "./mapview.js";

// Priority 1 first; within a priority my station's incidents first (when I have a station); then
// oldest first.
export function byQueueOrder(a, b, myStationId = null) {
  const mine = (i) => (myStationId !== null && myStationId !== undefined && i.station_id === myStationId ? 0 : 1);
  return a.priority - b.priority || mine(a) - mine(b) || parseTime(a.received_at) - parseTime(b.received_at) ||
    a.id - b.id;
}

const ACTIVE = new Set(["dispatched", "accepted", "en_route", "on_scene"]);
export const isActiveAssignment = (a) => ACTIVE.has(a.status);
// An offer nobody accepted in time (the server set overdue_at) that is still waiting.
export const isOverdue = (a) => a.status === "dispatched" && Boolean(a.overdue_at);

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

// A ticking mm:ss element (the tick() of the queue and of the detail update every [data-since]).
export function timerEl(kind, since, end, attrs = {}) {
  const dataset = { timer: kind };
  if (since !== null && end === null) dataset.since = since;
  const text = since === null ? "--:--" : fmtAge((end ?? now()) - since);
  return h("span", { ...attrs, class: `timer t-${kind}${since === null ? " none" : ""}${end !== null ? " ended" : ""}`,
    dataset }, text);
}

export class QueueView {
  constructor(listEl, closedEl, closedCountEl, handlers) {
    this.listEl = listEl;
    this.closedEl = closedEl;
    this.closedCountEl = closedCountEl;
    this.handlers = handlers;
    this.rows = new Map();   // incident id -> {el, key}
    this.emptyEl = h("div", { class: "queue-empty", testid: "queue-empty" });
  }

  render(open, closed, ctx) {
    open = [...open].sort((a, b) => byQueueOrder(a, b, ctx.myStationId));
    const seen = new Set();
    for (const inc of open) {
      seen.add(inc.id);
      const key = JSON.stringify([inc, ctx.selectedId === inc.id, ctx.claiming.has(inc.id), lang, ctx.myStationId,
        ctx.stationsById.has(inc.station_id)]);
      let row = this.rows.get(inc.id);
      if (!row) {
        const el = h("div", {
          class: "qrow", testid: "queue-row", role: "button", tabindex: "0",
          onclick: () => this.handlers.onSelect(inc.id),
          onkeydown: (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              this.handlers.onSelect(inc.id);
            }
          },
        });
        row = { el, key: null };
        this.rows.set(inc.id, row);
      }
      if (row.key !== key) {
        row.key = key;
        this.fillRow(row.el, inc, ctx);
      }
      row.el.classList.toggle("flash", ctx.flashing.has(inc.id));
      row.el.classList.toggle("cti", ctx.ctiFlash.has(inc.id));
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.el.remove();
        this.rows.delete(id);
      }
    }
    // Put rows in order, moving only the ones out of place (moving restarts CSS animations).
    let cursor = this.listEl.firstElementChild;
    if (cursor === this.emptyEl) {
      this.emptyEl.remove();
      cursor = this.listEl.firstElementChild;
    }
    for (const inc of open) {
      const el = this.rows.get(inc.id).el;
      if (cursor === el) cursor = cursor.nextElementSibling;
      else this.listEl.insertBefore(el, cursor);
    }
    if (!open.length) {
      clear(this.emptyEl).append(h("div", { class: "qe-main" }, t("queue_empty")),
        h("div", { class: "qe-hint" }, t("queue_empty_hint")));
      this.listEl.append(this.emptyEl);
    }
    this.renderClosed(closed, ctx);
    this.tick();
  }

  fillRow(el, inc, ctx) {
    el.dataset.incidentId = inc.id;
    el.dataset.status = inc.status;
    el.dataset.priority = inc.priority;
    const assignments = inc.assignments || [];
    const overdue = assignments.filter(isOverdue);
    const mine = ctx.myStationId !== null && ctx.myStationId !== undefined && inc.station_id === ctx.myStationId;
    el.dataset.mine = String(mine);
    el.dataset.overdue = String(overdue.length > 0);
    el.className = `qrow p${inc.priority} st-${inc.status}${ctx.selectedId === inc.id ? " sel" : ""}` +
      `${ctx.flashing.has(inc.id) ? " flash" : ""}${overdue.length ? " overdue" : ""}${mine ? " mine" : ""}`;
    el.setAttribute("aria-selected", ctx.selectedId === inc.id ? "true" : "false");
    const prio = ctx.priorities.get(inc.priority);
    const alarms = inc.alarms || [];
    const first = alarms[0] || {};
    const holder = inc.claimed_by
      ? (inc.claimed_by.id === ctx.myUserId ? t("you") : inc.claimed_by.display_name) : null;
    const loc = first.location;
    const typeText = inc.type ? pick(ctx.types.get(inc.type)) || inc.type : t("unclassified");

    const statusCell = h("span", { class: `status st-${inc.status}`, testid: "queue-status", dataset: { status: inc.status } },
      statusLabel(inc.status), holder ? ` · ${holder}` : null);
    const claimBtn = inc.status === "new"
      ? h("button", {
        type: "button", class: "btn btn-claim", testid: "queue-claim", disabled: ctx.claiming.has(inc.id),
        dataset: { incidentId: inc.id },
        onclick: (e) => {
          e.stopPropagation();
          this.handlers.onClaim(inc.id);
        },
      }, ctx.claiming.has(inc.id) ? t("claiming") : t("claim"))
      : null;

    put(el,
      h("div", { class: "q1" },
        h("span", { class: `prio p${inc.priority}`, testid: "queue-priority", title: t("priority") },
          String(inc.priority), h("small", {}, prio ? pick(prio) : "")),
        h("span", { class: "qid" }, `#${inc.id}`),
        mine ? h("span", { class: "tag mine", testid: "queue-mine", title: t("mine_title") }, t("mine_badge")) : null,
        abuseTag(alarms),
        h("span", { class: "age", testid: "queue-age", dataset: { since: parseTime(inc.received_at), status: inc.status, timer: "received" },
          title: `${t("received_at")} ${fmtClock(inc.received_at)}` }, ""),
        statusCell,
        claimBtn),
      h("div", { class: "q2" },
        phoneEl(first.phone, { testid: "queue-phone" }),
        h("span", { class: first.name ? "qname" : "qname muted" }, first.name || t("no_name")),
        alarms.length > 1 ? h("span", { class: "qmulti", title: t("callers") }, `×${alarms.length}`) : null),
      h("div", { class: "q3" },
        h("span", { class: inc.type ? "qtype" : "qtype muted" }, typeText),
        loc
          ? h("span", { class: "qloc", title: sourceLabel(loc.source) },
            h("span", { class: "qsrc" }), sourceLabel(loc.source),
            Number.isFinite(loc.accuracy_m) ? ` ±${Math.round(loc.accuracy_m)}m` : "")
          : h("span", { class: "qloc noloc" }, t("no_position")),
        first.place_text ? h("span", { class: "qplace", title: first.place_text }, first.place_text) : null),
      assignments.length ? this.unitsLine(inc, assignments) : null,
    );
    const src = el.querySelector(".qsrc");
    if (src && loc) src.innerHTML = shapeSvg(loc.source, 14, loc.locked);
  }

  // Who is going and how long it takes: "派 01:23 · 到 00:40 · [双塔21 在途]"
  unitsLine(inc, assignments) {
    const tm = incidentTimes(inc);
    const active = assignments.filter(isActiveAssignment);
    return h("div", { class: "q4" },
      tm.dispatched !== null ? h("span", { class: "qtimer" }, h("small", {}, t("t_dispatched")),
        timerEl("dispatched", tm.dispatched, tm.end, { testid: "queue-timer-dispatched" })) : null,
      tm.onScene !== null ? h("span", { class: "qtimer" }, h("small", {}, t("t_on_scene")),
        timerEl("on_scene", tm.onScene, tm.end, { testid: "queue-timer-on-scene" })) : null,
      ...active.map((a) => h("span", { class: `achip as-${a.status}${isOverdue(a) ? " overdue" : ""}`,
        testid: "queue-assignment", dataset: { unitId: a.unit_id, status: a.status } },
      a.call_sign, " ", isOverdue(a) ? t("overdue_short") : assignStatusLabel(a.status))));
  }

  renderClosed(closed, ctx) {
    const list = [...closed].sort((a, b) => parseTime(b.closed_at) - parseTime(a.closed_at));
    this.closedCountEl.textContent = String(list.length);
    clear(this.closedEl);
    if (!list.length) {
      this.closedEl.append(h("div", { class: "closed-empty muted" }, t("none")));
      return;
    }
    for (const inc of list) {
      const first = (inc.alarms || [])[0] || {};
      const disp = inc.disposition ? pick(ctx.dispositions.get(inc.disposition)) || inc.disposition : "";
      this.closedEl.append(h("div", {
        class: `crow${ctx.selectedId === inc.id ? " sel" : ""}`, testid: "closed-row", role: "button", tabindex: "0",
        dataset: { incidentId: inc.id, status: inc.status },
        onclick: () => this.handlers.onSelect(inc.id),
        onkeydown: (e) => { if (e.key === "Enter") this.handlers.onSelect(inc.id); },
      },
      h("span", { class: "qid" }, `#${inc.id}`),
      h("span", { class: "ctime" }, fmtClock(inc.closed_at)),
      phoneEl(first.phone),
      h("span", { class: "cdisp" }, disp)));
    }
  }

  // Every second: "time since received", coloured once an unclaimed alarm waits too long.
  tick() {
    const n = now();
    for (const el of this.listEl.querySelectorAll("[data-since]")) {
      const age = n - Number(el.dataset.since);
      el.textContent = fmtAge(age);
      const waiting = el.dataset.status === "new" && el.dataset.timer === "received";
      el.classList.toggle("warn", waiting && age >= 60000 && age < 180000);
      el.classList.toggle("late", waiting && age >= 180000);
    }
  }
}

// "Possible abuse" (docs/security.md): shown, never hiding or holding the alarm back; the counts
// and a call-taker's reason are in its title.
function abuseTag(alarms) {
  const a = alarms.map((x) => x.abuse).find((x) => x && x.possible);
  if (!a) return null;
  let title = t("abuse_title", { m: a.window_minutes, d: a.device_alarms, a: a.address_alarms });
  if (a.marked) title += ` · ${t("abuse_marked", { r: a.marked.reason })}`;
  return h("span", { class: "tag abuse", testid: "queue-abuse", title }, t("abuse_badge"));
}
