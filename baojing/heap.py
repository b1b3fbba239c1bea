"""Garbage collection of a server holding thousands of sockets: full collections scan every live
object, so the long-lived ones are set aside, and a collection long enough to delay alarms is
logged. Used by the app (app.py) and by the benches' floor (bench/floor.py), so both are measured
with the same collector."""
from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

_gc_started = 0.0


def log_slow_gc(phase: str, info: dict) -> None:
    """A collection that stops the whole server long enough to delay alarms is worth a line in
    the log: every socket and request waits for it."""
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
    elif (ms := (time.perf_counter() - _gc_started) * 1000) > 100:
        log.warning("garbage collection of generation %d took %.0f ms (%d collected)",
                    info["generation"], ms, info["collected"])


async def settle_long_lived(every_s: float = 2, full_every: int = 300) -> None:
    """A full garbage collection stops the server for as long as it takes to scan the heap: with
    ten thousand officers' sockets open, 1.3 s every few seconds (bench/README.md, AVL). Objects
    that have lived 2 s (sockets, the app itself) are set aside from those scans; every ten
    minutes everything is scanned once, so cyclic garbage among them is still freed. Set aside
    after 20 s, 2,000 sockets that had just connected were scanned by four collections of
    135-159 ms in 15 s, and an alarm's p99 was 176 ms beside their fixes; after 2 s, 36-39 ms."""
    gc.freeze()
    rounds = 0
    while True:
        await asyncio.sleep(every_s)
        rounds += 1
        if rounds % full_every == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()
