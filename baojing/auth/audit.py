"""The audit log: who did what to which record, append-only and tamper-evident.

Each entry carries its place in one chain (`seq`) and the SHA-256 of the entry before it, so an
edited row no longer matches its hash and a deleted row leaves a gap and a broken link;
`baojing audit verify` names the first one. The database refuses UPDATE and DELETE (triggers made
by migration 0006); the chain catches whoever drops the trigger first. Cutting entries off the end
leaves a valid shorter chain: record the head that `verify` prints somewhere else to catch that.

Writers take the event sequence lock (events.lock_sequence) before reading the chain's head: one
lock for both, so two writers never fork the chain and never deadlock on each other; `seq` is
unique besides, so a fork would fail loudly rather than silently."""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from pydantic_core import to_jsonable_python
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .. import events
from ..db import utcnow
from ..priority import RequestsFirst
from .models import AuditEntry
from ..tasks import stop

log = logging.getLogger(__name__)
GENESIS = "0" * 64


def _canonical_detail(detail):
    # What the database hands back (JSON keys are strings, tuples are lists): the hash taken now
    # must match the one recomputed from the stored row.
    return None if detail is None else json.loads(json.dumps(to_jsonable_python(detail), ensure_ascii=False))


def entry_hash(prev_hash: str, row: dict) -> str:
    at: datetime = row["at"]
    at_text = at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds")
    payload = json.dumps([row["seq"], at_text, row["user_id"], row["actor"], row["action"], row["subject_type"],
                          row["subject_id"], row["detail"]], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


async def _head(session: AsyncSession) -> tuple[int, str]:
    row = (await session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1))).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


async def append(session: AsyncSession, rows: list[dict]) -> None:
    """Chain and insert rows ({at?, user_id, actor, action, subject_type, subject_id, detail}) in
    this transaction."""
    if not rows:
        return
    await events.lock_sequence(session)
    seq, prev = await _head(session)
    chained = []
    for r in rows:
        seq += 1
        row = {"at": r.get("at") or utcnow(), "user_id": r.get("user_id"), "actor": r["actor"], "action": r["action"],
               "subject_type": r["subject_type"], "subject_id": r.get("subject_id"),
               "detail": _canonical_detail(r.get("detail")), "seq": seq, "prev_hash": prev}
        prev = row["hash"] = entry_hash(prev, row)
        chained.append(row)
    await session.execute(insert(AuditEntry), chained)


async def audit(session: AsyncSession, who, action: str, subject_type: str, subject_id: int | None,
                detail: dict | None = None) -> None:
    """One entry by `who` (a Principal), in the caller's transaction: it commits with the change."""
    await append(session, [{"user_id": who.user_id, "actor": who.label, "action": action,
                            "subject_type": subject_type, "subject_id": subject_id, "detail": detail}])


class AuditBuffer:
    """Audit rows written in batches, flushed every second and on shutdown, rather than one
    transaction per WebSocket frame; each flush chains its rows in one transaction.

    Live pushes of callers' data (`saw`) are gathered into one row per subject per flush: action
    `view.live`, actor `live`, and `detail.viewers` = [{user_id, actor, at}], each staff member
    once, at the time of the first push to them in that second. So "who saw this caller's data,
    when" is answered by the rows of the caller's alarms (see `who_saw`), at a cost per alarm per
    second instead of per console per push (bench/README.md, fan-out)."""

    def __init__(self, sessions: async_sessionmaker, interval: float = 1.0, priority: RequestsFirst | None = None) -> None:
        self._sessions = sessions
        self._interval = interval
        self._priority = priority or RequestsFirst()
        self._rows: list[dict] = []
        self._seen: dict[tuple[str, str, int], dict] = {}
        self._task: asyncio.Task | None = None

    def add(self, who, action: str, subject_type: str, subject_id: int | None, detail: dict | None = None):
        self._rows.append({"at": utcnow(), "user_id": who.user_id, "actor": who.label, "action": action,
                           "subject_type": subject_type, "subject_id": subject_id, "detail": detail})

    def saw(self, who, subject_type: str, subject_id: int, action: str = "view.live") -> None:
        viewers = self._seen.setdefault((action, subject_type, subject_id), {})
        if who.label not in viewers:
            viewers[who.label] = (who.user_id, time.time())

    def _gather_seen(self) -> None:
        seen, self._seen = self._seen, {}
        for (action, subject_type, subject_id), viewers in seen.items():
            first = min(at for _, at in viewers.values())
            self._rows.append({
                "at": datetime.fromtimestamp(first, timezone.utc), "user_id": None, "actor": "live",
                "action": action, "subject_type": subject_type, "subject_id": subject_id,
                "detail": {"viewers": [
                    {"user_id": uid, "actor": label,
                     "at": datetime.fromtimestamp(at, timezone.utc).isoformat()}
                    for label, (uid, at) in viewers.items()]}})

    def add_row(self, row: dict) -> None:
        """An entry not made by a Principal (e.g. a failed login: nobody is logged in)."""
        self._rows.append({"at": utcnow(), **row})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # keep the rows and try again; the buffer must not die
                log.exception("audit flush failed")

    async def flush(self) -> None:
        self._gather_seen()
        if not self._rows:
            return
        await self._priority.turn()  # after the requests waiting for the writer (priority.py)
        rows, self._rows = self._rows, []
        try:
            async with self._sessions() as s, s.begin():
                await append(s, rows)
        except Exception:
            self._rows[:0] = rows
            raise

    async def close(self) -> None:
        await stop(self._task)
        await self.flush()


async def who_saw(session: AsyncSession, alarm_id: int) -> list[dict]:
    """Every staff view of one alarm's caller data, oldest first: [{user_id, actor, at, how}],
    `how` being the audit action (view.live, view.snapshot, view.incident)."""
    out = []
    rows = await session.scalars(select(AuditEntry).where(
        AuditEntry.action.in_(("view.live", "view.snapshot", "view.incident"))).order_by(AuditEntry.id))
    for r in rows:
        detail = r.detail or {}
        if r.action == "view.live":
            if r.subject_type == "alarm" and r.subject_id == alarm_id:
                out += [{"user_id": v["user_id"], "actor": v["actor"], "at": datetime.fromisoformat(v["at"]),
                         "how": r.action} for v in detail.get("viewers", ())]
        elif alarm_id in detail.get("alarm_ids", ()):
            out.append({"user_id": r.user_id, "actor": r.actor, "at": r.at, "how": r.action})
    return sorted(out, key=lambda v: v["at"])


@dataclass
class Verdict:
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify(session: AsyncSession, batch: int = 5000) -> Verdict:
    """Walk the chain from the start; stop at the first entry that does not follow from the one
    before it."""
    expected_seq, prev, checked, last_seq = 1, GENESIS, 0, 0
    while True:
        rows = (await session.execute(select(AuditEntry).where(AuditEntry.seq >= expected_seq)
                                      .order_by(AuditEntry.seq).limit(batch))).scalars().all()
        if not rows:
            return Verdict(checked, last_seq, prev)
        for e in rows:
            row = {"seq": e.seq, "at": e.at, "user_id": e.user_id, "actor": e.actor, "action": e.action,
                   "subject_type": e.subject_type, "subject_id": e.subject_id, "detail": e.detail}
            if e.seq != expected_seq:
                return Verdict(checked, last_seq, prev, e.seq, e.id,
                               f"entries {expected_seq}..{e.seq - 1} are missing (deleted) before entry {e.seq}")
            if e.prev_hash != prev:
                return Verdict(checked, last_seq, prev, e.seq, e.id,
                               f"entry {e.seq} does not link to entry {e.seq - 1} (prev_hash differs)")
            if entry_hash(prev, row) != e.hash:
                return Verdict(checked, last_seq, prev, e.seq, e.id, f"entry {e.seq} was changed after it was written")
            prev, last_seq, expected_seq = e.hash, e.seq, e.seq + 1
            checked += 1
        session.expunge_all()
