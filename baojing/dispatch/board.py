"""The unit board: an in-memory picture of every unit for the two hot paths, AVL ingest (thousands
of fixes a second) and the nearest-unit recommendation (over ten thousand units).

The database stays the truth. The board is loaded from it at start, follows `unit.upserted`
events for status, and writes the fixes it takes in batches once a second. A fix is telemetry,
not an acknowledged alarm: a crash can lose up to one second of a unit's trail, never an alarm."""
from __future__ import annotations

import asyncio
import heapq
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from ..db import utcnow
from ..events import Published
from ..geo import distance_m
from ..priority import RequestsFirst
from . import repository
from .models import Unit, UnitMember, UnitPosition
from .status import AVAILABLE, OFF_DUTY, STALE_AFTER, eta_seconds, unit_status
from ..tasks import stop

log = logging.getLogger(__name__)

# Faster than this between two fixes is a bad fix, not a patrol car.
MAX_SPEED_MPS = 200 / 3.6
CLOCK_SKEW = timedelta(minutes=2)
# Rows per write transaction of the AVL flush: small enough that an alarm queued behind one slice
# waits a few milliseconds.
FLUSH_SLICE = 200
# Under load the units are asked to report less often (`next_report_s` in each answer, honoured by
# the officer page): when this many trail rows wait to be written, or the event loop runs this late.
BUSY_ROWS, BUSY_LAG_S, SLOW_REPORT_S = 5_000, 0.25, 15
# Beyond this many waiting rows the trail is thinned: each unit keeps only its newest fix until the
# writer catches up. The board's position of each unit stays exact; alarms are never thinned.
THIN_ROWS, THIN_REPORT_S = 20_000, 30


@dataclass(slots=True)
class BoardUnit:
    id: int
    call_sign: str
    kind: str
    station_id: int
    status: str
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    at: datetime | None = None

    @property
    def stale(self) -> bool:
        return self.status != OFF_DUTY and (self.at is None or self.at < utcnow() - STALE_AFTER)


class Board:
    def __init__(self, sessions: async_sessionmaker, interval: float = 1.0, priority: RequestsFirst | None = None):
        self.sessions = sessions
        self.interval = interval
        self.priority = priority or RequestsFirst()
        self.units: dict[int, BoardUnit] = {}
        self.unit_of_user: dict[int, int] = {}
        self._pending: list[dict] = []
        self._thinned: dict[int, dict] = {}  # unit id -> its newest trail row, while thinning
        self.thinned = 0  # trail rows replaced by a newer one of the same unit, since start
        # How late the event loop woke the flush timer, the lesser of the last two times, in seconds:
        # one pause (a collection, a burst of logins) is not load worth slowing every unit down for.
        self.lag = 0.0
        self._last_lag = 0.0
        self._moved: set[int] = set()
        self._listeners = []
        self._task: asyncio.Task | None = None

    async def load(self) -> None:
        async with self.sessions() as s:
            self.unit_of_user = dict((await s.execute(select(UnitMember.user_id, UnitMember.unit_id))).all())
            active = await repository.active_by_unit(s)
            for u in await s.scalars(select(Unit).where(Unit.active.is_(True))):
                self.units[u.id] = BoardUnit(u.id, u.call_sign, u.kind, u.station_id,
                                             unit_status(u, active.get(u.id)),
                                             u.lat, u.lon, u.accuracy_m, u.position_at)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def on_flush(self, listener) -> None:
        """listener(moved: list[BoardUnit]) runs after each batch is written."""
        self._listeners.append(listener)

    async def close(self) -> None:
        await stop(self._task)
        await self.flush()

    async def on_event(self, ev: Published) -> None:
        if ev.name == "unit.upserted":
            d = ev.data
            u = self.units.get(d["id"])
            if u is None:
                u = self.units[d["id"]] = BoardUnit(d["id"], d["call_sign"], d["kind"], d["station_id"], d["status"])
            u.call_sign, u.kind, u.station_id, u.status = d["call_sign"], d["kind"], d["station_id"], d["status"]
            for uid in [k for k, v in self.unit_of_user.items() if v == u.id]:
                del self.unit_of_user[uid]
            self.unit_of_user.update({m["id"]: u.id for m in d["members"]})

    def ingest(self, unit_id: int, points: list[dict]) -> list[str | None]:
        """Take a batch of fixes from one unit, oldest first. Returns a flag per point (None = good)."""
        u = self.units[unit_id]
        now = utcnow()
        flags = []
        for p in points:
            # In UTC's own tzinfo, like every other time on the board: two datetimes with different
            # tzinfo objects (pydantic parses a fix's time with its own TzInfo) compare through
            # utcoffset() calls, 30 times slower, and a recommendation compares ten thousand
            # (8.7 against 3.8 ms per recommendation over 10,000 units).
            at = p["at"].astimezone(timezone.utc) if p.get("at") and p["at"] <= now + CLOCK_SKEW else now
            flag = self._flag(u, p["lat"], p["lon"], p.get("accuracy_m"), at)
            flags.append(flag)
            row = {"unit_id": unit_id, "lat": p["lat"], "lon": p["lon"], "accuracy_m": p.get("accuracy_m"),
                   "speed_mps": p.get("speed_mps"), "heading": p.get("heading"), "recorded_at": at,
                   "received_at": now, "flag": flag}
            if len(self._pending) < THIN_ROWS:
                self._pending.append(row)
            else:
                self.thinned += unit_id in self._thinned
                self._thinned[unit_id] = row
            if flag is None:
                u.lat, u.lon, u.accuracy_m, u.at = p["lat"], p["lon"], p.get("accuracy_m"), at
                self._moved.add(unit_id)
        return flags

    @staticmethod
    def _flag(u: BoardUnit, lat: float, lon: float, acc: float | None, at: datetime) -> str | None:
        if u.at is None:
            return None
        if at <= u.at:
            return "out_of_order"
        moved = distance_m(u.lat, u.lon, lat, lon) - (u.accuracy_m or 0) - (acc or 0)
        return "implausible_jump" if moved / max((at - u.at).total_seconds(), 1.0) > MAX_SPEED_MPS else None

    def next_report_s(self) -> int | None:
        """Seconds a unit should wait before its next report, or None to report as usual."""
        waiting = len(self._pending) + len(self._thinned)
        if waiting >= THIN_ROWS:
            return THIN_REPORT_S
        if waiting >= BUSY_ROWS or self.lag >= BUSY_LAG_S:
            return SLOW_REPORT_S
        return None

    def note_lag(self, late: float) -> None:
        self.lag, self._last_lag = min(late, self._last_lag), late

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(self.interval)
            self.note_lag(loop.time() - t - self.interval)
            try:
                await self.flush()
            except Exception:
                log.exception("AVL flush failed")

    async def flush(self) -> None:
        if not self._pending and not self._thinned:
            return
        rows, self._pending = self._pending, []
        rows += self._thinned.values()
        self._thinned = {}
        moved, self._moved = [self.units[i] for i in self._moved], set()
        updates = [{"unit_id": u.id, "lat": u.lat, "lon": u.lon, "accuracy_m": u.accuracy_m, "position_at": u.at}
                   for u in moved]
        done = 0
        try:
            # Core statements, not the ORM's bulk paths: the same SQL with a fraction of the Python
            # work on the event loop per row (it showed in the AVL profile). In slices, each its
            # own short transaction: an alarm waiting for SQLite's one connection gets it after
            # one slice, not after a whole second's fixes (bench/README.md, AVL beside alarms).
            units = Unit.__table__
            # Before each slice the requests waiting for the writer go first (priority.py).
            for i in range(0, max(len(rows), len(updates)), FLUSH_SLICE):
                await self.priority.turn()
                async with self.sessions() as s, s.begin():
                    if rows[i:i + FLUSH_SLICE]:
                        await s.execute(insert(UnitPosition.__table__), rows[i:i + FLUSH_SLICE])
                    if updates[i:i + FLUSH_SLICE]:
                        await s.execute(update(units).where(units.c.id == bindparam("unit_id")).values(
                            lat=bindparam("lat"), lon=bindparam("lon"), accuracy_m=bindparam("accuracy_m"),
                            position_at=bindparam("position_at")), updates[i:i + FLUSH_SLICE])
                done = i + FLUSH_SLICE
        except Exception:
            # What was not written goes back; a unit's newest position is rewritten next time.
            self._pending[:0] = rows[done:]
            self._moved.update(u.id for u in moved[done:])
            raise
        for listener in self._listeners:
            await listener(moved)

    def recommend(self, lat: float, lon: float, limit: int = 5, exclude: set[int] = frozenset()) -> list[dict]:
        """Nearest available units with a fresh position, by straight-line distance."""
        cutoff = utcnow() - STALE_AFTER
        # Rank by a flat-earth distance (exact ordering at city scale), then measure the few kept.
        kx = math.cos(math.radians(lat))
        candidates = ((((u.lat - lat) ** 2 + ((u.lon - lon) * kx) ** 2), u) for u in self.units.values()
                      if u.status == AVAILABLE and u.at is not None and u.at >= cutoff
                      and u.id not in exclude)
        best = heapq.nsmallest(limit, candidates, key=lambda c: c[0])
        out = []
        for _, u in best:
            d = distance_m(lat, lon, u.lat, u.lon)
            out.append({"unit_id": u.id, "call_sign": u.call_sign, "kind": u.kind, "station_id": u.station_id,
                        "distance_m": round(d), "eta_s": eta_seconds(u.kind, d),
                        "position": {"lat": u.lat, "lon": u.lon, "accuracy_m": u.accuracy_m, "at": u.at}})
        return out
