"""Engine, sessions and the declarative Base: SQLite (WAL) by default, PostgreSQL by URL."""
from __future__ import annotations

import time
import weakref
from datetime import datetime, timezone

from pydantic_core import to_json
from sqlalchemy import DateTime, MetaData, event, make_url
from sqlalchemy import util as sa_util
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from . import sqlite_inline

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and hands back aware UTC, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UTCDateTime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# A connection that finished a request this recently is not pinged again: under load the ping was
# one round trip in every request's fifteen (9 % of the server's CPU per alarm on PostgreSQL; each
# round trip is a socket write and read here). A connection that died within it fails its request
# 503 like any statement in an outage (errors.py), and is replaced.
FRESH_S = 1.0
_checked_in: "weakref.WeakKeyDictionary[object, float]" = weakref.WeakKeyDictionary()  # asyncpg connection -> when


def _bounded_ping(timeout_s: float):
    """asyncpg's pre-ping opens a transaction and rolls it back: in a partition, two full command
    timeouts. One round trip bounded by timeout_s tells a live connection from a dead one."""
    await_ = getattr(sa_util, "await_", None) or sa_util.await_only

    def ping(dbapi_conn) -> bool:
        if time.monotonic() - _checked_in.get(dbapi_conn._connection, float("-inf")) < FRESH_S:
            return True
        try:
            await_(dbapi_conn._connection.fetchrow(";", timeout=timeout_s))
        except Exception as e:
            dbapi_conn._handle_exception(e)
        return True

    return ping


def _remember_checkin(dbapi_conn, _record) -> None:
    if dbapi_conn is not None:  # None: the connection was invalidated on its way back
        _checked_in[dbapi_conn._connection] = time.monotonic()


def json_text(value) -> str:
    """JSON columns (every event's data) as text, by pydantic's serializer: the standard library's
    took 3 % of the server's time at 200 alarms/s (bench/README.md, intake). UTF-8, not escaped."""
    return to_json(value).decode()


def make_engine(url: str, timeout_s: float = 10.0, connect_timeout_s: float = 1.5,
                pool_timeout_s: float = 5.0, busy_timeout_s: float = 5.0, ping_timeout_s: float = 0.5) -> AsyncEngine:
    """The server's engine. timeout_s bounds one PostgreSQL statement: a backstop only, since a
    partition is noticed within about 2 s by the watch (dbwatch.py) whatever a statement's
    length; batch commands pass a longer one (cli.py). busy_timeout_s is how long SQLite waits
    for another process's write lock before the request is answered 503."""
    if not is_sqlite(url):
        # Packets that vanish (a partition) would hold a request for asyncpg's 60 s connect timeout,
        # forever on a query, then 30 s in the pool: bounded, the request fails fast and is answered
        # 503 + Retry-After (errors.py). Measured in RELIABILITY.md.
        engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=pool_timeout_s,
                                     json_serializer=json_text,
                                     connect_args={"timeout": connect_timeout_s, "command_timeout": timeout_s})
        # A pooled connection's ping is one round trip (a millisecond): half a second is generous,
        # and a ping that loses only costs a new connection (bounded by the connect timeout).
        engine.dialect.do_ping = _bounded_ping(ping_timeout_s)
        event.listen(engine.sync_engine.pool, "checkin", _remember_checkin)
        # An invalidated connection is closed politely for up to 2 s first: through a partition
        # nobody answers, so drop the socket at once.
        engine.dialect.do_terminate = lambda dbapi_conn: dbapi_conn._connection.terminate()
        return engine
    # One connection: SQLite has one writer anyway, and waiting in the pool's queue is first come,
    # first served, where SQLite's busy handler sleeps and retries with no order (seconds-long
    # tails under load, measured in bench/README.md).
    # Its statements run on the loop's thread, with no hop to a worker (sqlite_inline.py).
    path = make_url(url).database
    engine = create_async_engine(url, async_creator=lambda: sqlite_inline.connect(path, busy_timeout_s),
                                 json_serializer=json_text,
                                 pool_size=1, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Take over transaction control from pysqlite so that "begin" below decides the mode.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Another process's write (a backup, a batch command) rarely holds the lock for seconds:
        # the connection waits for it without blocking the loop, up to busy_timeout_s; past that a
        # 503 the caller's outbox retries beats a request hanging behind it (it was 30 s, longer
        # than anyone waits on a phone). Batch commands wait longer (cli.py).
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: no deadlock when a reader later writes, and the
        # event sequence is allocated in commit order (see events.py).
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_probe_engine(url: str, timeout_s: float) -> AsyncEngine | None:
    """PostgreSQL: one connection of its own, outside the pool, so that whether the database
    answers is one round trip bounded by timeout_s, even when every pooled connection is stuck in
    a statement (dbwatch.py). Kept open: a fresh connection costs a server process and 0.2-0.3 s
    on a loaded machine, a round trip a millisecond. Closing it never waits for a server that
    may be gone. SQLite has no network to lose: None (the watch probes through the pool)."""
    if is_sqlite(url):
        return None
    # Autocommit and no reset on return: a probe that timed out must not then wait again for a
    # ROLLBACK nobody will answer.
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=timeout_s, isolation_level="AUTOCOMMIT",
                                 pool_reset_on_return=None,
                                 connect_args={"timeout": timeout_s, "command_timeout": timeout_s})
    engine.dialect.do_terminate = engine.dialect.do_close = lambda dbapi_conn: dbapi_conn._connection.terminate()
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
