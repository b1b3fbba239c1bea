"""A living demo: the demo's patrol units drive along a few streets of Chaoyang and an alarm comes
in now and then, through the same services a phone and a caller use (the AVL board's ingest, the
alarm intake), so a newcomer's console moves and "dispatch nearest" has units to offer.

Only with `baojing serve --simulate` (or BAOJING_SIMULATE=true); never in a real deployment. The
streets are hand-drawn approximations of real roads, like the demo's district outlines."""
from __future__ import annotations

import asyncio
import logging
import random
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from .alarms import service as alarms
from .alarms.schemas import AlarmIn, LocationIn
from .auth.service import Principal
from .db import utcnow
from .demo import PATROLS, STREETS
from .deps import unit_of_work
from .dispatch import repository as dispatch_repository
from .dispatch import service as dispatch
from .dispatch.models import DISPATCHED, EN_ROUTE, ON_SCENE, Unit
from .dispatch.status import AVAILABLE, SPEED_MPS
from .geo import distance_m
from .incidents import service as incidents
from .tasks import stop

log = logging.getLogger(__name__)

STEP_S = 2.0
ALARM_EVERY_S = 120.0
# A simulated crew answers its dispatch after this long, stays on scene this long, then clears:
# without them "dispatch nearest" in the demo ended in "not accepted" alerts (no officer rides in them).
ACCEPT_AFTER_S = 8.0
ON_SCENE_S = 60.0
ARRIVED_M = 30.0
PLACES = ["小区门口有人打架", "商店被盗", "路口两车相撞", "有人晕倒在路边", "楼道里有烟味"]


@dataclass
class Driver:
    unit_id: int
    street: list[tuple[float, float]]
    speed_mps: float
    leg: int = 0          # driving from street[leg] to street[leg + step]
    step: int = 1
    done_m: float = 0.0   # along the current leg
    call_sign: str = ""
    waited_s: float = 0.0  # in the assignment's current step
    back_to: tuple[float, float] | None = None  # after a job: driving back to its round first

    def advance(self, seconds: float) -> tuple[float, float]:
        """Drive on for `seconds`; at either end of the street, turn round."""
        left = self.speed_mps * seconds
        while True:
            a, b = self.street[self.leg], self.street[self.leg + self.step]
            length = distance_m(*a, *b)
            if self.done_m + left < length:
                self.done_m += left
                k = self.done_m / length
                return a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k
            left -= length - self.done_m
            self.leg, self.done_m = self.leg + self.step, 0.0
            if not 0 <= self.leg + self.step < len(self.street):
                self.step = -self.step


@dataclass(frozen=True)
class Crew(Principal):
    """A simulated patrol's crew: its actor label is its name ("龙城21（演示）"), never a user's or a
    caller's."""

    @property
    def label(self) -> str:
        return self.display_name


def _towards(a: tuple[float, float], b: tuple[float, float], metres: float) -> tuple[float, float]:
    """`metres` from a towards b, or b when it is that close."""
    gap = distance_m(*a, *b)
    if gap <= metres:
        return b
    k = metres / gap
    return a[0] + (b[0] - a[0]) * k, a[1] + (b[1] - a[1]) * k


def point_on(street: list[tuple[float, float]], rng: random.Random) -> tuple[float, float]:
    i = rng.randrange(len(street) - 1)
    (alat, alon), (blat, blon), k = street[i], street[i + 1], rng.random()
    return alat + (blat - alat) * k, alon + (blon - alon) * k


class Simulator:
    def __init__(self, state, rng: random.Random | None = None, alarm_every_s: float = ALARM_EVERY_S):
        self.state, self.rng, self.alarm_every_s = state, rng or random.Random(), alarm_every_s
        self.drivers: dict[int, Driver] = {}
        self.next_alarm_in = alarm_every_s / 2
        self._task: asyncio.Task | None = None

    async def load(self) -> None:
        async with self.state.sessions() as s:
            units = list(await s.scalars(select(Unit).where(Unit.call_sign.in_(list(PATROLS)))))
        for u in units:
            street = STREETS[PATROLS[u.call_sign]]
            self.drivers[u.id] = Driver(u.id, street, SPEED_MPS[u.kind] * 0.8, call_sign=u.call_sign)

    async def step(self, seconds: float = STEP_S, alarm: bool | None = None) -> dict:
        """Move every free patrol on; raise an alarm when one is due (or when told to)."""
        board, moved = self.state.board, 0
        for d in self.drivers.values():
            u = board.units.get(d.unit_id)
            if u is None or u.status == "off_duty":
                continue
            if u.status == AVAILABLE:
                lat, lon = self._patrol(d, u, seconds)
            else:  # sent somewhere: the crew answers, drives there, stays, clears
                lat, lon = await self._crew(d, u, seconds)
            if lat is None:
                continue
            board.ingest(d.unit_id, [{"lat": lat, "lon": lon, "accuracy_m": 8.0, "at": utcnow()}])
            moved += 1
        self.next_alarm_in -= seconds
        raised = None
        if alarm or (alarm is None and self.next_alarm_in <= 0):
            self.next_alarm_in = self.alarm_every_s * (0.5 + self.rng.random())
            raised = await self.raise_alarm()
        return {"moved": moved, "alarm": raised}

    def _patrol(self, d: Driver, u, seconds: float) -> tuple[float, float]:
        # Back from a job (cleared or recalled): drive to where the round was left, no jump.
        if d.back_to is None and u.lat is not None and distance_m(u.lat, u.lon, *d.advance(0.0)) > ARRIVED_M:
            d.back_to = d.advance(0.0)
        if d.back_to is None:
            return d.advance(seconds)
        lat, lon = _towards((u.lat, u.lon), d.back_to, d.speed_mps * seconds)
        if (lat, lon) == d.back_to:
            d.back_to = None
        return lat, lon

    async def _crew(self, d: Driver, u, seconds: float) -> tuple[float | None, float | None]:
        here = (u.lat, u.lon)
        async with unit_of_work(self.state) as s:
            a = await dispatch_repository.active_assignment(s, d.unit_id)
            if a is None:
                return here
            crew = Crew(kind="staff", role="officer", display_name=f"{d.call_sign}（演示）", unit_id=d.unit_id)
            d.waited_s += seconds
            if a.status == DISPATCHED and d.waited_s >= ACCEPT_AFTER_S:
                await dispatch.crew_step(s, a.id, "en_route", crew)
                d.waited_s = 0.0
            elif a.status == EN_ROUTE:
                where = await incidents.position_of(s, a.incident_id)
                if where is None or here[0] is None:
                    return here
                here = _towards(here, (where["lat"], where["lon"]), d.speed_mps * 1.5 * seconds)
                if distance_m(*here, where["lat"], where["lon"]) <= ARRIVED_M:
                    await dispatch.crew_step(s, a.id, "on_scene", crew)
                    d.waited_s = 0.0
            elif a.status == ON_SCENE and d.waited_s >= ON_SCENE_S:
                await dispatch.crew_step(s, a.id, "clear", crew, disposition="resolved")
                d.waited_s = 0.0
        return here

    async def raise_alarm(self) -> dict:
        lat, lon = point_on(self.rng.choice(list(STREETS.values())), self.rng)
        data = AlarmIn(idempotency_key=f"sim-{uuid.uuid4().hex}", phone=f"1390000{self.rng.randrange(10000):04d}",
                       name="模拟报警人", place_text=f"（演示）{self.rng.choice(PLACES)}",
                       location=LocationIn(lat=round(lat, 6), lon=round(lon, 6), accuracy_m=15.0, crs="wgs84"))
        async with unit_of_work(self.state) as s:
            view, _ = await alarms.raise_alarm(s, data, None)
        return view

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        await self.load()
        log.warning("demo simulation on: %d patrol units drive, an alarm every ~%.0f s", len(self.drivers),
                    self.alarm_every_s)
        while True:
            await asyncio.sleep(STEP_S)
            try:
                await self.step()
            except Exception:
                log.exception("demo simulation step failed")

    async def close(self) -> None:
        await stop(self._task)
