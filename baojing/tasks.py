"""Stopping background tasks."""
from __future__ import annotations

import asyncio


async def stop(*tasks: asyncio.Task | None) -> None:
    """Cancel and wait until each has ended. A task only cancelled may still be inside a database
    call when the engine is disposed; left pending, it hangs whoever closes the event loop."""
    live = [t for t in tasks if t is not None]
    for t in live:
        t.cancel()
    await asyncio.gather(*live, return_exceptions=True)
