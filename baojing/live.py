"""Live events over WebSocket: every event a client may see, in order, exactly once, across
reconnects. Protocol in docs/api.md.

One Hub per process listens on the bus and fans events out to connections. Each connection
registers with the hub *before* it reads its replay from the database, and then skips anything at
or below the last sequence it sent: nothing falls between replay and live, nothing comes twice."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field, replace

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import async_sessionmaker

from . import events
from .auth import roles
from .auth import service as auth
from .auth.service import AuditBuffer, Principal
from .calls.signalling import MAX_MESSAGE_BYTES, error
from .config import Settings
from .db import json_text
from .deps import SESSION_COOKIE
from .dispatch import avl
from .dispatch import repository as dispatch_repo
from .dispatch.board import Board
from .dispatch.schemas import PositionsMessage
from .events import Published
from .ratelimit import RateLimit
from .tasks import stop

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_SLOW, CLOSE_BAD_HELLO = 4401, 4403, 4008, 4400
GAP_WAIT = 0.05
# Call signalling per socket: a call's offer, answer and a few dozen ICE candidates fit easily; a
# client flooding the relay (and the other parties through it) is dropped message by message.
SIGNALS_PER_SECOND, SIGNALS_BURST = 20, 200
SIGNALS_DROPPED = json.dumps({"type": "error", "code": "rate_limited", "message_zh": "信令消息过于频繁，已丢弃",
                              "message_en": "Too many signalling messages: this one was dropped"}, ensure_ascii=False)
PING = ("ping",)  # queued by the hub for every socket once a period
# The period's pings and login checks go out a slice at a time: with ten thousand officers'
# sockets, pinging all of them in one loop iteration held every alarm for 0.3-0.6 s every 15 s,
# and checking all their logins in one transaction for 0.2 s more (bench/README.md, AVL).
PING_SLICES = 100  # a socket's slice comes round once a period
CHECK_SLICE = 500  # logins checked in one transaction, the loop's other work between two


def may_see(who: Principal, ev: Published) -> bool:
    if ev.scope == events.STAFF:
        return who.console
    if ev.scope == events.DEVICE:
        # Callers, and key-unit members following their own one-tap alarm's status.
        return who.device_id is not None and ev.device_id == who.device_id
    if ev.scope == events.UNIT:
        return who.unit_id is not None and ev.unit_id == who.unit_id
    if ev.scope == events.TRAFFIC:
        return who.kind == "staff" and who.role == roles.TRAFFIC_OFFICER
    return ev.scope == events.USER and who.user_id is not None and ev.user_id == who.user_id


def audience(who: Principal):
    """The same rule as may_see, as SQL, for replays. None when this principal has no feed."""
    E = events.Event
    clauses = []
    if who.console:
        clauses.append(E.scope == events.STAFF)
    if who.device_id is not None:
        clauses.append((E.scope == events.DEVICE) & (E.device_id == who.device_id))
    if who.unit_id is not None:
        clauses.append((E.scope == events.UNIT) & (E.unit_id == who.unit_id))
    if who.kind == "staff" and who.role == roles.TRAFFIC_OFFICER:
        clauses.append(E.scope == events.TRAFFIC)
    if not clauses and who.role != roles.KEYUNIT_MEMBER:  # members get bulletins (USER scope)
        return None
    if who.user_id is not None:
        clauses.append((E.scope == events.USER) & (E.user_id == who.user_id))
    return or_(*clauses)


def frame(ev: Published) -> str:
    return json_text({"type": "event", "seq": ev.seq, "name": ev.name, "data": ev.data})


def alarm_ids(ev: Published) -> list[int]:
    if ev.name == "incident.upserted":
        return [a["id"] for a in ev.data.get("alarms", ())]
    if ev.name == "alarm.position":
        return [ev.data["alarm_id"]]
    return []


@dataclass(eq=False)
class Connection:
    who: Principal
    limit: int
    # Characters of frames waiting (a str holds one to two bytes per character of these frames): a
    # console that stops reading holds at most this much, not 2,000 frames of every unit's position.
    limit_chars: int = 4 * 1024 * 1024
    session_hash: str | None = None  # a staff socket's login (hashed), to check it is still valid
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    queued_chars: int = 0
    overflowed: bool = False
    revoked: bool = False
    closed: bool = False
    ping_slice: int = 0  # which of the hub's PING_SLICES pings this socket

    def offer(self, ev: Published | None, text: str) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= self.limit or self.queued_chars + len(text) > self.limit_chars:
            # A client this far behind is dropped; it reconnects and catches up from the table.
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queued_chars += len(text)
        self.queue.put_nowait((ev, text))


class Hub:
    def __init__(self, sessions: async_sessionmaker, bus: events.Bus, settings: Settings, audit: AuditBuffer):
        self.sessions, self.bus, self.settings, self.audit = sessions, bus, settings, audit
        self.last = 0
        self.connections: set[Connection] = set()
        # The sockets by ping slice, filled in turn so each slice holds a hundredth of them
        # however they arrived (ten thousand phones reconnecting at once after a restart).
        self._ping_slices: list[set[Connection]] = [set() for _ in range(PING_SLICES)]
        self._placed = 0
        # Who is listening, by what they may hear: an event reaches its audience by a lookup, not
        # by asking each of ten thousand officers' sockets whether it is theirs.
        self._reach: dict[tuple, set[Connection]] = {}
        self.signal_limit = RateLimit(SIGNALS_PER_SECOND, SIGNALS_BURST)
        self._inbox: asyncio.Queue[Published] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._checker: asyncio.Task | None = None

    async def start(self) -> None:
        async with self.sessions() as s:
            self.last = await events.last_seq(s)
        self.bus.subscribe(self._receive)
        self._task = asyncio.create_task(self._pump())
        self._checker = asyncio.create_task(self._check_sessions())

    async def close(self) -> None:
        await stop(self._task, self._checker)

    async def _check_sessions(self) -> None:
        """Each socket is pinged and its login checked once a period, a slice of the sockets every
        period / PING_SLICES, on a fixed beat (the work of one slice does not push the next)."""
        loop = asyncio.get_running_loop()
        step = self.settings.ws_ping_seconds / PING_SLICES
        due = loop.time()
        while True:
            for part in self._ping_slices:
                due += step
                await asyncio.sleep(max(0.0, due - loop.time()))
                conns = list(part)
                for conn in conns:
                    conn.queue.put_nowait(PING)
                try:
                    await self.revalidate(conns)
                except Exception:
                    log.exception("checking sessions of open sockets failed")

    async def _receive(self, ev: Published) -> None:
        self._inbox.put_nowait(ev)

    async def _pump(self) -> None:
        # Transactions commit in sequence order but their coroutines publish in whatever order they
        # resume, so a gap usually closes within milliseconds: hold later events briefly, and only
        # when a gap outlives GAP_WAIT (a rolled-back sequence on PostgreSQL, another process's
        # event) ask the table, which has everything committed, in order.
        held: dict[int, Published] = {}
        gap_since = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                wait = None if not held else max(0.0, gap_since + GAP_WAIT - loop.time())
                try:
                    ev = await asyncio.wait_for(self._inbox.get(), wait)
                    if ev.seq > self.last:
                        held[ev.seq] = ev
                except asyncio.TimeoutError:
                    async with self.sessions() as s:
                        held.update((m.seq, m) for m in await events.events_after(s, self.last, limit=100_000))
                    for m in sorted(held.values(), key=lambda m: m.seq):
                        self._deliver(m)
                    held.clear()
                while self.last + 1 in held:
                    self._deliver(held.pop(self.last + 1))
                if held and not gap_since:
                    gap_since = loop.time()
                elif not held:
                    gap_since = 0.0
            except Exception:
                log.exception("event pump failed after seq %s", self.last)

    def _deliver(self, ev: Published) -> None:
        self.last = ev.seq
        if ev.name == "unit.upserted" and ev.scope == events.STAFF:
            self._follow_unit(ev.data)
        text = None
        for conn in self.reach(_audience_key(ev)):
            if may_see(conn.who, ev):
                text = text or frame(ev)
                conn.offer(ev, text)

    def reach(self, key: tuple) -> set[Connection]:
        """Connections of ("consoles",), ("device", id), ("unit", id) or ("user", id)."""
        return self._reach.get(key, _NOBODY)

    def present(self) -> set[tuple]:
        """Every device and user with an open socket."""
        return {k for k, conns in self._reach.items() if conns and k[0] in ("device", "user")}

    def broadcast(self, key: tuple, name: str, data: dict) -> None:
        """Send something current but not worth replaying (positions of moving units) to one
        audience. It carries no sequence number: a client that misses one gets the next, or
        reloads the snapshot."""
        conns = self.reach(key)
        if conns:
            text = json_text({"type": "live", "name": name, "data": data})
            for conn in conns:
                conn.offer(None, text)

    def send(self, text: str, key: tuple, to=None) -> int:
        """Send one ready-made frame (call signalling) to the connections of `key` that `to(who)`
        accepts; returns how many were reached."""
        n = 0
        for conn in self.reach(key):
            if to is None or to(conn.who):
                conn.offer(None, text)
                n += 1
        return n

    def register(self, who: Principal) -> Connection:
        conn = Connection(who, self.settings.ws_queue_limit, self.settings.ws_queue_chars,
                          ping_slice=self._placed % PING_SLICES)
        self._placed += 1
        self.connections.add(conn)
        self._ping_slices[conn.ping_slice].add(conn)
        self._index(conn)
        return conn

    def unregister(self, conn: Connection) -> None:
        self.connections.discard(conn)
        self._ping_slices[conn.ping_slice].discard(conn)
        self._unindex(conn)

    def rename(self, conn: Connection, who: Principal) -> None:
        """The rights behind an open socket changed (an officer moved to another unit)."""
        self._unindex(conn)
        conn.who = who
        self._index(conn)

    def _follow_unit(self, unit: dict) -> None:
        """A unit's members changed: its officers' open sockets follow at once, in event order, so
        the next event of the old unit no longer reaches an officer moved out of it (and the new
        unit's reach one moved in), however busy the socket is with position reports."""
        members = {m["id"] for m in unit["members"]}
        for conn in list(self.reach(("unit", unit["id"]))):
            if conn.who.user_id not in members:
                self.rename(conn, replace(conn.who, unit_id=None))
        for uid in members:
            for conn in list(self.reach(("user", uid))):
                if conn.who.kind == "staff" and conn.who.role == roles.OFFICER and conn.who.unit_id != unit["id"]:
                    self.rename(conn, replace(conn.who, unit_id=unit["id"]))

    def _index(self, conn: Connection) -> None:
        for key in _keys(conn.who):
            self._reach.setdefault(key, set()).add(conn)

    def _unindex(self, conn: Connection) -> None:
        for key in _keys(conn.who):
            conns = self._reach.get(key)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self._reach[key]

    async def revalidate(self, conns=None) -> None:
        """The logins of these staff sockets (all of them by default), a query per CHECK_SLICE
        sockets rather than one per socket: a revoked or expired session, or an account whose role
        changed, is closed within one ping period (at once after a logout elsewhere). An open socket
        is use: it keeps its session from going idle. Each slice is its own transaction, and the
        loop serves others between two, so ten thousand logins do not hold it for 0.2 s."""
        staff = [c for c in (self.connections if conns is None else conns) if c.session_hash]
        for i in range(0, len(staff), CHECK_SLICE):
            if i:
                await asyncio.sleep(0)
            part = staff[i:i + CHECK_SLICE]
            async with self.sessions() as s, s.begin():
                valid = await auth.live_sessions(s, {c.session_hash for c in part})
            for conn in part:
                if valid.get(conn.session_hash) != conn.who.role:
                    conn.revoked = True
                    conn.queue.put_nowait(None)


_NOBODY: frozenset = frozenset()


def _keys(who: Principal) -> list[tuple]:
    keys = []
    if who.console:
        keys.append(("consoles",))
    if who.device_id is not None:
        keys.append(("device", who.device_id))
    if who.unit_id is not None:
        keys.append(("unit", who.unit_id))
    if who.kind == "staff" and who.role == roles.TRAFFIC_OFFICER:
        keys.append(("traffic",))
    if who.user_id is not None:
        keys.append(("user", who.user_id))
    return keys


def _audience_key(ev: Published) -> tuple:
    if ev.scope == events.STAFF:
        return ("consoles",)
    if ev.scope == events.DEVICE:
        return ("device", ev.device_id)
    if ev.scope == events.UNIT:
        return ("unit", ev.unit_id)
    if ev.scope == events.TRAFFIC:
        return ("traffic",)
    return ("user", ev.user_id)


async def _principal(ws: WebSocket, hello: dict, sessions) -> Principal | None:
    async with sessions() as s:
        who = await _staff(ws, s)
        if who is not None and who.role == roles.KEYUNIT_MEMBER and isinstance(hello.get("device_token"), str):
            # A member's phone is also a caller's: its own alarms' status comes on the same socket.
            device = await auth.device_by_token(s, hello["device_token"])
            who = replace(who, device_id=device.id) if device else who
        if who is None and isinstance(hello.get("device_token"), str):
            device = await auth.device_by_token(s, hello["device_token"])
            who = auth.caller_principal(device) if device else None
    return who


async def _staff(ws: WebSocket, session) -> Principal | None:
    who = await auth.principal_for_session(session, ws.cookies.get(SESSION_COOKIE), ws.app.state.settings)
    if who is not None and who.role == roles.OFFICER:
        who = replace(who, unit_id=await dispatch_repo.unit_of_user(session, who.user_id))
    return who


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if origin is None:  # not a browser: the cookie or token still has to be right
        return True
    return origin.split("://", 1)[-1] == ws.headers.get("host")


async def _error(ws: WebSocket, code: str, zh: str, en: str, close_code: int) -> None:
    await ws.send_json({"type": "error", "code": code, "message_zh": zh, "message_en": en})
    await ws.close(close_code)


@router.websocket("/ws")
async def live(ws: WebSocket):
    app = ws.app
    hub: Hub = app.state.hub
    settings: Settings = app.state.settings
    if not _same_origin(ws):
        await ws.close(CLOSE_FORBIDDEN)
        return
    await ws.accept()
    try:
        hello = await asyncio.wait_for(ws.receive_json(), timeout=10)
    except (asyncio.TimeoutError, ValueError, WebSocketDisconnect):
        await ws.close(CLOSE_BAD_HELLO)
        return
    since = hello.get("since") if isinstance(hello, dict) else "bad"
    if not isinstance(hello, dict) or hello.get("type") != "hello" or not (since is None or (isinstance(since, int) and since >= 0)):
        await _error(ws, "bad_hello", "连接请求格式错误", "The first message must be a valid hello", CLOSE_BAD_HELLO)
        return
    who = await _principal(ws, hello, app.state.sessions)
    if who is None:
        await _error(ws, "unauthorized", "请先登录", "Log in or send a valid device token", CLOSE_UNAUTHORIZED)
        return
    if audience(who) is None:
        await _error(ws, "forbidden", "您的角色没有可订阅的实时信息", "Your role has no live feed", CLOSE_FORBIDDEN)
        return
    conn = hub.register(who)
    if who.kind == "staff":
        conn.session_hash = auth.token_hash(ws.cookies.get(SESSION_COOKIE))
    try:
        await _serve(ws, conn, since, hub, settings, app.state.board)
    except WebSocketDisconnect:
        pass
    finally:
        hub.unregister(conn)


async def _serve(ws: WebSocket, conn: Connection, since: int | None, hub: Hub, settings: Settings,
                 board: Board) -> None:
    who = conn.who
    async with hub.sessions() as s:
        head = await events.last_seq(s)
        replay: list[Published] = []
        if since is not None and since <= head:
            replay = await events.events_after(s, since, limit=settings.replay_limit + 1, audience=audience(who))
    await ws.send_json({"type": "ready", "seq": head, "principal": {"kind": who.kind, "role": who.role}})
    cursor = head if since is None else since
    if since is not None and (since > head or len(replay) > settings.replay_limit):
        await ws.send_json({"type": "resync", "seq": head})
        cursor, replay = head, []

    async def send(ev: Published, text: str) -> None:
        nonlocal cursor
        await ws.send_text(text)
        cursor = ev.seq
        if who.kind == "staff":
            for aid in alarm_ids(ev):
                hub.audit.saw(who, "alarm", aid)

    for ev in replay:
        await send(ev, frame(ev))
    receiver = asyncio.create_task(_incoming(ws, conn, board))
    try:
        while True:
            # No timer while waiting: the hub pings every socket each period (one task for all of
            # them, bench/README.md AVL). One timer per wake-up bounds the sends instead: a client
            # that stops reading is let go after ws_send_timeout_s, holding at most its queue.
            item = await conn.queue.get()
            async with asyncio.timeout(settings.ws_send_timeout_s):
                while True:
                    if item is PING:
                        if who.kind == "staff" and who.role == roles.OFFICER:
                            unit_id = board.unit_of_user.get(who.user_id)
                            if unit_id != who.unit_id:  # moved to another unit: follow the new rights
                                hub.rename(conn, replace(who, unit_id=unit_id))
                                who = conn.who
                        await ws.send_json({"type": "ping", "seq": cursor})
                    elif item is None:
                        if conn.closed:
                            return
                        if conn.revoked:
                            await _error(ws, "unauthorized", "登录已过期", "Your session has ended", CLOSE_UNAUTHORIZED)
                        else:
                            await ws.close(CLOSE_SLOW)
                        return
                    else:
                        ev, text = item
                        conn.queued_chars -= len(text)
                        if ev is None:
                            await ws.send_text(text)
                        elif ev.seq > cursor and may_see(conn.who, ev):  # today's rights, not those at connect
                            await send(ev, text)
                    if conn.queue.empty():
                        break
                    item = conn.queue.get_nowait()
    except TimeoutError:
        log.info("closing a socket of %s that took more than %s s to take its frames", who.label,
                 settings.ws_send_timeout_s)
    finally:
        receiver.cancel()


async def _incoming(ws: WebSocket, conn: Connection, board: Board) -> None:
    """Read what the client sends, so a closed socket is noticed at once. An officer's phone sends
    its AVL fixes here: one open socket costs far less than a request every few seconds. Parties
    of a video call send their WebRTC signalling here (calls/signalling.py). Each message is
    parsed once and routed by its `type` (INCOMING); anything else is answered with an error frame,
    never dropped in silence."""
    reply = lambda m: conn.offer(None, json.dumps(m, ensure_ascii=False))  # noqa: E731
    try:
        while True:
            text = await ws.receive_text()
            if len(text) > MAX_MESSAGE_BYTES:  # characters: at least as many bytes
                reply(error("too_big", "消息过大", f"Messages are limited to {MAX_MESSAGE_BYTES // 1024} KiB"))
                continue
            try:
                msg = json.loads(text)
            except ValueError:
                msg = None
            if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                reply(error("bad_message", "消息必须是带 type 的 JSON 对象",
                            "A message must be a JSON object with a type"))
                continue
            if msg["type"] in SIGNALLING and not ws.app.state.hub.signal_limit.allow(id(conn)):
                conn.offer(None, SIGNALS_DROPPED)
                continue
            if msg["type"] == "positions":
                # Fixes wait while requests are in flight; this socket is not read meanwhile (priority.py).
                await ws.app.state.priority.turn()
            route = INCOMING.get(msg["type"])
            if route is None:
                reply(error("unknown_type", "未知的消息类型", f"Unknown message type {msg['type'][:40]!r}", msg))
                continue
            out = await route(msg, conn, board, ws.app.state.calls.relay, reply)
            if out is not None:
                reply(out)
    except (WebSocketDisconnect, RuntimeError):
        # Wake the sender so the socket is let go at once, not at the next ping.
        conn.closed = True
        conn.queue.put_nowait(None)


async def _signal(msg: dict, conn: Connection, board: Board, relay, reply) -> None:
    await relay.receive(msg, conn.who, reply)


async def _positions(msg: dict, conn: Connection, board: Board, relay, reply) -> dict:
    if conn.who.unit_id is None:
        return error("no_unit", "只有出警单元的终端可以上报位置", "Only an officer's unit reports positions", msg)
    try:
        positions = PositionsMessage.model_validate(msg)
    except ValidationError as e:
        return error("bad_positions", "位置数据格式错误", f"Bad positions message: {e.errors()[0]['msg']}", msg)
    ack = avl.ingest(board, conn.who, positions.points)
    return {"type": "positions.ack", "id": positions.id, **ack}


async def _hello_again(msg: dict, conn: Connection, board: Board, relay, reply) -> dict:
    return error("already_started", "连接已建立，不需要再次问候", "This socket has already said hello", msg)


SIGNALLING = frozenset({"signal", "call.state"})
# What a client may send after its hello, by type (docs/api.md, "Live updates").
INCOMING = {"signal": _signal, "call.state": _signal, "positions": _positions, "hello": _hello_again}
