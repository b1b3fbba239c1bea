"""The calls' live side in one process: the roster the signalling relay checks against, the
recorder, and presence (a party whose socket is gone for call_party_grace_s has left).

Presence is read from the hub's open connections, not from a table: it is what the relay can
reach. With several app instances behind a balancer, signalling and presence would need the bus
(or sticky sessions for /ws); one instance is what runs today (docs/video.md).
"""
from __future__ import annotations

import asyncio
import logging

from .. import events
from ..deps import unit_of_work
from ..events import STAFF, Published
from ..media import service as media
from . import service
from .models import CALLER, ENDED, TEXT
from .recorder import Recorder
from .signalling import Relay, Roster, RosterParty
from ..tasks import stop

log = logging.getLogger(__name__)

SWEEP_EVERY_S = 1.0


def _key(p: RosterParty) -> tuple[str, int | None]:
    return ("device", p.device_id) if p.role == CALLER else ("user", p.user_id)


class CallsRuntime:
    def __init__(self, state) -> None:
        self.state, self.settings = state, state.settings
        self.roster = Roster()
        self.recorder = Recorder(state)
        self.relay = Relay(self.roster, state.hub, self.recorder, self.settings)
        # party id -> loop time it was first seen without a socket / first seen invited
        self.absent_since: dict[int, float] = {}
        self.invited_since: dict[int, float] = {}
        self._task: asyncio.Task | None = None
        self._jobs: set[asyncio.Task] = set()

    async def start(self) -> None:
        await media.recover_at_start(self.state)
        # Listen first, then load: whatever commits in between arrives as an event, and the
        # roster keeps the newer of the two by seq.
        self.state.bus.subscribe(self.on_event)
        async with self.state.sessions() as s:
            seq = await events.last_seq(s)
            views = await service.open_views(s, self.settings)
        for v in views:
            self.roster.apply(v, seq)
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        await stop(self._task)
        # Recordings end and are stored before the database goes away.
        await self.recorder.close()
        if self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)

    async def on_event(self, ev: Published) -> None:
        # Called by the bus inside a publisher's request: change memory, defer anything slow.
        self.roster.on_event(ev)
        if ev.scope != STAFF:
            return
        if ev.name == "call.upserted" and ev.data["status"] == ENDED:
            self._spawn(self.recorder.stop(ev.data["id"]))
        elif ev.name == "incident.upserted" and ev.data.get("status") == "closed" and self.roster.calls:
            self._spawn(self._incident_closed(ev.data["id"]))
        elif ev.name == "incident.upserted" and ev.data.get("status") == "merged":
            # The call moved with its alarm to the surviving incident: say so to everyone watching.
            moved = [c.id for c in self.roster.calls.values() if c.incident_id == ev.data["id"]]
            if moved:
                self._spawn(self._reannounce(moved))

    async def _incident_closed(self, incident_id: int) -> None:
        try:
            async with unit_of_work(self.state) as s:
                await service.end_for_incident(s, self.settings, incident_id)
        except Exception:
            log.exception("ending the calls of closed incident %s failed", incident_id)

    async def _reannounce(self, call_ids: list[int]) -> None:
        try:
            async with unit_of_work(self.state) as s:
                await service.reannounce(s, self.settings, call_ids)
        except Exception:
            log.exception("announcing merged calls %s failed", call_ids)

    def present(self) -> set[tuple[str, int | None]]:
        return self.state.hub.present()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY_S)
            try:
                await self.sweep()
            except Exception:
                log.exception("call presence sweep failed")

    async def sweep(self, now: float | None = None) -> int:
        """Mark gone the parties whose socket has been closed for the grace period, and the
        invitees who did not join in time; the call follows (service._leave). Returns how many."""
        now = asyncio.get_running_loop().time() if now is None else now
        present = self.present()
        gone: list[tuple[int, int, str]] = []
        absent, invited = set(), set()
        for call in list(self.roster.calls.values()):
            for p in call.parties.values():
                if not p.joined:
                    invited.add(p.id)
                    if now - self.invited_since.setdefault(p.id, now) >= self.settings.call_invite_timeout_s:
                        gone.append((call.id, p.id, "no_answer"))
                    continue
                # A text chat is stored and replayed: the caller's closed page does not end it.
                if (call.kind == TEXT and p.role == CALLER) or _key(p) in present:
                    continue
                absent.add(p.id)
                if now - self.absent_since.setdefault(p.id, now) >= self.settings.call_party_grace_s:
                    gone.append((call.id, p.id, "vanished"))
        for call_id in [c for c in self.recorder.calls if c not in self.roster.calls]:
            self._spawn(self.recorder.stop(call_id))  # its end event was missed: a recorder never outlives its call
        self.absent_since = {k: v for k, v in self.absent_since.items() if k in absent}
        self.invited_since = {k: v for k, v in self.invited_since.items() if k in invited}
        done = 0
        for call_id, party_id, reason in gone:
            try:
                async with unit_of_work(self.state) as s:
                    done += await service.party_gone(s, self.settings, call_id, party_id, reason)
            except Exception:
                log.exception("party %s of call %s: marking it gone failed", party_id, call_id)
            self.absent_since.pop(party_id, None)
            self.invited_since.pop(party_id, None)
        return done
