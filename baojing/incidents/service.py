"""The incident lifecycle: open, claim, classify, note, merge, close. Each step is one action that
changes the rows, writes its events and returns the new view; the caller's session commits."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..alarms import repository as alarms
from ..alarms.models import Alarm
from ..dispatch import reactions
from ..dispatch import repository as dispatch
from ..dispatch.models import ACTIVE
from ..auth.models import User
from ..auth.service import Principal, audit
from ..db import utcnow
from ..errors import Conflict, Invalid, NotFound
from .models import CLAIMED, CLOSED, MERGED, NEW, OPEN_STATUSES, Incident, IncidentNote

RECENTLY_CLOSED = timedelta(hours=2)
# Timeline steps whose event data says more than their name (the old and new station of a routing,
# the caller's stars and words).
TIMELINE_DETAIL = frozenset({"incident.routed", "incident.rated"})


def new_incident(session: AsyncSession, priority: int, station_id: int | None) -> Incident:
    """A new incident, stored with the session's next flush."""
    incident = Incident(status=NEW, priority=priority, station_id=station_id, received_at=utcnow())
    incident.updated_at = incident.received_at
    session.add(incident)
    return incident


async def get(session: AsyncSession, incident_id: int) -> Incident:
    incident = await session.get(Incident, incident_id, populate_existing=True)
    if incident is None:
        raise NotFound("没有这个警情", f"No incident {incident_id}")
    return incident


async def views(session: AsyncSession, incidents: list[Incident], by_incident: dict | None = None, *,
                fresh: bool = False) -> list[dict]:
    """Staff views. `fresh`: incidents opened in this transaction, with no assignment or note yet."""
    ids = [i.id for i in incidents]
    if by_incident is None:
        by_incident = await alarms.of_incidents(session, ids)
    people_ids = {i.claimed_by for i in incidents if i.claimed_by}
    people = {}
    if people_ids:
        rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(people_ids)))
        people = {r.id: {"id": r.id, "display_name": r.display_name} for r in rows}
    assignments = {i: [] for i in ids} if fresh else await dispatch.assignments_of(session, ids)
    counts = {}
    if ids and not fresh:
        rows = await session.execute(select(IncidentNote.incident_id, func.count())
                                     .where(IncidentNote.incident_id.in_(ids)).group_by(IncidentNote.incident_id))
        counts = dict(rows.all())
    return [{
        "id": i.id, "status": i.status, "priority": i.priority, "type": i.type,
        "received_at": i.received_at, "updated_at": i.updated_at, "claimed_at": i.claimed_at,
        "claimed_by": people.get(i.claimed_by), "closed_at": i.closed_at, "disposition": i.disposition,
        "merged_into": i.merged_into, "notes_count": counts.get(i.id, 0), "station_id": i.station_id,
        "case_ref": i.case_ref,
        "alarms": [alarms.staff_view(a, i, assignments[i.id]) for a in by_incident[i.id]],
        "assignments": assignments[i.id],
    } for i in incidents]


async def position_of(session: AsyncSession, incident_id: int) -> dict | None:
    """Where the incident is: the first of its alarms that has a position."""
    for a in (await alarms.of_incidents(session, [incident_id]))[incident_id]:
        if a.lat is not None:
            return alarms.location_view(a)
    return None


async def caller_views(session: AsyncSession, incident: Incident, alarm_list: list,
                       assignments: list[dict] | None = None) -> list[dict]:
    if assignments is not None and not any(a["status"] in ACTIVE for a in assignments):
        responding = []  # nobody is on the way: no need to ask
    else:
        responding = await dispatch.responding_units(session, incident.id)
    return [alarms.caller_view(a, incident, dispatch.responders_for_caller(responding, alarms.location_view(a)))
            for a in alarm_list]


async def to_responders(session: AsyncSession, incident_id: int, name: str, data: dict,
                        unit_ids: list[int] | None = None) -> None:
    """Officers sent to an incident follow its changes as the consoles do."""
    if unit_ids is None:
        unit_ids = await dispatch.units_on(session, incident_id)
    for unit_id in unit_ids:
        await events.emit(session, name, data, scope=events.UNIT, unit_id=unit_id, incident_id=incident_id)


async def announce(session: AsyncSession, incident: Incident, action: str, who: Principal | None, *,
                   opened: list | None = None) -> dict:
    """Tell every console and every caller of this incident what it looks like now. `opened`: the
    alarms of an incident opened in this very transaction, which has nothing else to read back."""
    if opened is None:
        incident.updated_at = utcnow()
        await session.flush()
        by_incident = await alarms.of_incidents(session, [incident.id])
    else:
        by_incident = {incident.id: opened}
    alarm_list = by_incident[incident.id]
    (view,) = await views(session, [incident], by_incident, fresh=opened is not None)
    actor = who.label if who else None
    await events.emit(session, "incident.upserted", view, incident_id=incident.id, actor=actor, action=action)
    active_units = [a["unit_id"] for a in view["assignments"] if a["status"] in ACTIVE]
    await to_responders(session, incident.id, "incident.upserted", view, active_units)
    for a, caller in zip(alarm_list, await caller_views(session, incident, alarm_list, view["assignments"])):
        await events.emit(session, "alarm.updated", caller, scope=events.DEVICE, device_id=a.device_id,
                          incident_id=incident.id)
    return view


async def locate(session: AsyncSession, incident: Incident, station_id: int | None, *, source: str,
                 action: str | None, who: Principal | None) -> dict | None:
    """The incident's position changed (`action` names the step for the timeline, None for a phone's
    own fix): it goes to `station_id` if that is another station, the consoles hear of both, and a
    person's re-routing is audited. The timeline shows the old and the new station."""
    old = incident.station_id
    moved = station_id != old and incident.status in OPEN_STATUSES
    if moved:
        incident.station_id = station_id
    view = await announce(session, incident, action, who) if moved or action else None
    if moved:
        names = await dispatch.station_names(session, [old, station_id])
        data = {"incident_id": incident.id, "from_station": names.get(old), "to_station": names.get(station_id),
                "source": source}
        await events.emit(session, "incident.routed", data, incident_id=incident.id,
                          actor=who.label if who else None, action="routed" if old is None else "rerouted")
        if who is not None:
            await audit(session, who, "incident.route", "incident", incident.id,
                        {"from_station_id": old, "to_station_id": station_id, "source": source})
    return view


def require_open(incident: Incident) -> None:
    if incident.status not in OPEN_STATUSES:
        raise Conflict("该警情已结束或已合并", f"Incident {incident.id} is already {incident.status}",
                       code="incident_not_open")


async def claim(session: AsyncSession, incident_id: int, who: Principal) -> dict:
    await events.lock_sequence(session)
    # The conditional update settles two operators claiming at once: one row changes, once.
    done = await session.execute(
        update(Incident).where(Incident.id == incident_id, Incident.status == NEW)
        .values(status=CLAIMED, claimed_by=who.user_id, claimed_at=utcnow()))
    incident = await get(session, incident_id)
    if done.rowcount == 0:
        if incident.status == CLAIMED and incident.claimed_by == who.user_id:
            return (await views(session, [incident]))[0]
        if incident.status == CLAIMED:
            holder = await session.get(User, incident.claimed_by)
            raise Conflict(f"已由 {holder.display_name} 接警", f"Already claimed by {holder.display_name}",
                           code="already_claimed")
        require_open(incident)
    await audit(session, who, "incident.claim", "incident", incident.id)
    return await announce(session, incident, "claimed", who)


async def classify(session: AsyncSession, incident_id: int, type_: str, priority: int, who: Principal) -> dict:
    await events.lock_sequence(session)
    incident = await get(session, incident_id)
    require_open(incident)
    incident.type, incident.priority = type_, priority
    await audit(session, who, "incident.classify", "incident", incident.id, {"type": type_, "priority": priority})
    return await announce(session, incident, "classified", who)


async def set_case(session: AsyncSession, incident_id: int, case_ref: str | None, who: Principal) -> dict:
    """The case (立案) an incident became, or None to undo a mistake: its alarms' personal data is
    then kept with the case instead of being anonymised (alarms/retention.py). Closed incidents
    too: a case is often opened after the call."""
    await events.lock_sequence(session)
    incident = await get(session, incident_id)
    if incident.status == MERGED:
        raise Conflict("该警情已合并，请在合并后的警情上登记案件", "This incident was merged; record the case on the one it was "
                       "merged into", code="incident_merged")
    previous, incident.case_ref = incident.case_ref, case_ref
    await audit(session, who, "incident.case", "incident", incident.id, {"case_ref": case_ref, "previous": previous})
    return await announce(session, incident, "case", who)


async def add_note(session: AsyncSession, incident_id: int, text: str, who: Principal) -> dict:
    await events.lock_sequence(session)
    incident = await get(session, incident_id)
    if incident.status == MERGED:
        raise Conflict("该警情已合并，请在合并后的警情中记录", "This incident was merged; add notes to the one it was merged into",
                       code="incident_merged")
    await _note(session, incident, text, who)
    return await announce(session, incident, None, who)


async def _note(session: AsyncSession, incident: Incident, text: str, who: Principal) -> None:
    note = IncidentNote(incident_id=incident.id, author_id=who.user_id, text=text)
    session.add(note)
    await session.flush()
    data = {"incident_id": incident.id, "note": {"id": note.id, "text": note.text, "at": note.at,
                                                 "author": {"id": who.user_id, "display_name": who.display_name}}}
    await events.emit(session, "incident.note", data, incident_id=incident.id, actor=who.label, action="note")
    await to_responders(session, incident.id, "incident.note", data)
    await audit(session, who, "incident.note", "incident", incident.id)


async def merge(session: AsyncSession, target_id: int, source_ids: list[int], who: Principal) -> dict:
    await events.lock_sequence(session)
    source_ids = sorted(set(source_ids))
    if target_id in source_ids:
        raise Invalid("不能把警情合并到它自己", "An incident cannot be merged into itself")
    target = await get(session, target_id)
    require_open(target)
    sources = [await get(session, i) for i in source_ids]
    for s in sources:
        require_open(s)
    await alarms.move_to_incident(session, source_ids, target.id)
    # What was merged into a source belongs to the target now, one level down like the sources:
    # the target's timeline, its evidence (media/service.py) and retention (alarms/retention.py)
    # look one level down only.
    await session.execute(update(Incident).where(Incident.merged_into.in_(source_ids)).values(merged_into=target.id))
    await reactions.incidents_merged(session, source_ids, target.id, who)
    now = utcnow()
    for s in sources:
        s.status, s.merged_into, s.closed_at, s.closed_by = MERGED, target.id, now, who.user_id
        target.priority = min(target.priority, s.priority)
        target.received_at = min(target.received_at, s.received_at)
        await announce(session, s, "merged_away", who)
    await audit(session, who, "incident.merge", "incident", target.id, {"merged": source_ids})
    return await announce(session, target, "merged", who)


async def close(session: AsyncSession, incident_id: int, disposition: str, note: str | None, who: Principal) -> dict:
    await events.lock_sequence(session)
    incident = await get(session, incident_id)
    require_open(incident)
    if note:
        await _note(session, incident, note, who)
    incident.status, incident.disposition = CLOSED, disposition
    incident.closed_at, incident.closed_by = utcnow(), who.user_id
    await reactions.incident_closed(session, incident.id, who)
    await audit(session, who, "incident.close", "incident", incident.id, {"disposition": disposition})
    return await announce(session, incident, "closed", who)


async def snapshot(session: AsyncSession, who: Principal, first: int | None = None) -> dict:
    # Read the sequence first: anything committed after it reaches the client as an event, and
    # applying an event to state that already has it is harmless (events carry whole views).
    seq = await events.last_seq(session)
    if first is not None:
        return await _snapshot_head(session, who, seq, first)
    rows = await session.scalars(
        select(Incident).where(or_(Incident.status.in_(OPEN_STATUSES),
                                   (Incident.status == CLOSED) & (Incident.closed_at > utcnow() - RECENTLY_CLOSED),
                                   # a caller's rating keeps a closed incident in view for as long
                                   Incident.id.in_(select(Alarm.incident_id)
                                                   .where(Alarm.rated_at > utcnow() - RECENTLY_CLOSED))))
        .order_by(Incident.priority, Incident.received_at))
    incidents = list(rows)
    return {"seq": seq, "incidents": await _views_shown(session, who, incidents),
            "open": {"new": sum(1 for i in incidents if i.status == NEW),
                     "claimed": sum(1 for i in incidents if i.status == CLAIMED)}}


async def _snapshot_head(session: AsyncSession, who: Principal, seq: int, first: int) -> dict:
    """The first open incidents in the console's queue order, and how many are open in all."""
    mine = case((Incident.station_id == who.station_id, 0), else_=1) if who.station_id is not None else literal(1)
    incidents = list(await session.scalars(
        select(Incident).where(Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.priority, mine, Incident.received_at, Incident.id).limit(first)))
    counts = dict((await session.execute(
        select(Incident.status, func.count()).where(Incident.status.in_(OPEN_STATUSES))
        .group_by(Incident.status))).all())
    return {"seq": seq, "incidents": await _views_shown(session, who, incidents),
            "open": {"new": counts.get(NEW, 0), "claimed": counts.get(CLAIMED, 0)}}


async def _views_shown(session: AsyncSession, who: Principal, incidents: list[Incident]) -> list[dict]:
    """The views a snapshot sends, and the audit row saying whose alarms this person was shown."""
    out = await views(session, incidents)
    alarm_ids = [a["id"] for v in out for a in v["alarms"]]
    if alarm_ids:
        await audit(session, who, "view.snapshot", "alarm", None, {"alarm_ids": alarm_ids})
    return out


async def _actor_names(session: AsyncSession, labels: list[str | None]) -> dict[str, str]:
    """Principal labels ("role:user id") to people's names, for the timeline."""
    ids = set()
    for label in labels:
        role, _, uid = (label or "").partition(":")
        if role and role != "device" and uid.isdigit():
            ids.add(int(uid))
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.role, User.display_name).where(User.id.in_(ids)))
    return {f"{role}:{uid}": name for uid, role, name in rows.all()}


async def detail(session: AsyncSession, incident_id: int, who: Principal) -> dict:
    incident = await get(session, incident_id)
    (view,) = await views(session, [incident])
    alarm_ids = [a["id"] for a in view["alarms"]]
    trails = await alarms.trails(session, alarm_ids)
    notes = await session.execute(
        select(IncidentNote, User.display_name).join(User, User.id == IncidentNote.author_id)
        .where(IncidentNote.incident_id == incident.id).order_by(IncidentNote.id))
    merged = list(await session.scalars(select(Incident.id).where(Incident.merged_into == incident.id)))
    timeline = list(await session.scalars(
        select(events.Event).where(events.Event.incident_id.in_([incident.id, *merged]),
                                   events.Event.scope == events.STAFF, events.Event.action.is_not(None))
        .order_by(events.Event.seq)))
    names = await _actor_names(session, [e.actor for e in timeline])
    await audit(session, who, "view.incident", "incident", incident.id, {"alarm_ids": alarm_ids})
    return {
        **view,
        "notes": [{"id": n.id, "text": n.text, "at": n.at, "author": {"id": n.author_id, "display_name": name}}
                  for n, name in notes.all()],
        "trails": {str(k): v for k, v in trails.items()},
        "timeline": [{"seq": e.seq, "name": e.action, "at": e.at, "incident_id": e.incident_id, "actor": e.actor,
                      "actor_name": names.get(e.actor), "detail": e.data if e.name in TIMELINE_DETAIL else None}
                     for e in timeline],
    }
