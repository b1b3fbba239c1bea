"""Evidence files: list an incident's, play one (every playback audited)."""
from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.service import Principal
from ..bodylimit import BodyLimit
from ..deps import DbSession, require
from ..fields import Id
from . import service
from .schemas import IncidentMedia

router = APIRouter(prefix="/api", tags=["media"])
console = require(roles.CONSOLE)
# Officers too, for the incident they are sent to (the service checks which).
viewers = require(roles.CONSOLE | {roles.OFFICER})


@router.get("/incidents/{incident_id}/media", response_model=IncidentMedia,
            summary="Evidence files of an incident (and of incidents merged into it), oldest first")
async def incident_media(incident_id: Id, session: AsyncSession = DbSession, who: Principal = Depends(console)):
    return await service.of_incident(session, incident_id, who)


@router.get("/media/{media_id}", summary="Play or download an evidence file (Range supported; audited)",
            response_class=FileResponse)
async def play(media_id: Id, request: Request, session: AsyncSession = DbSession,
               who: Principal = Depends(viewers), range: str | None = Header(default=None, max_length=200)):
    path, m = await service.for_playback(session, request.app.state.settings, media_id, who, range)
    return FileResponse(path, media_type=m.mime, headers={"X-Content-SHA256": m.sha256,
                                                          "Cache-Control": "private, no-store"})


# Routes that take a file, and the most any of them accepts (a 20 MB clip plus the multipart
# envelope). Each route then holds its own, smaller limit per kind of file.
UPLOAD_PATHS = re.compile(r"^/api/(calls/\d+/(attachments|snapshots)|assignments/\d+/photos|traffic/uploads/\w+"
                          r"|keyunits/(\d+/files|import|roster/import)|member/alarms/\d+/photos|bulletins/\d+/photos)$")
UPLOAD_MAX_BYTES = 21 * 1024 * 1024
# The longest a piece of an upload's body waits for the alarms in flight (priority.py): long
# enough for an alarm's transaction to finish on a loop no longer parsing megabytes, short enough
# that uploads still move under a steady stream of alarms (about 64-256 KB per wait).
UPLOAD_YIELD_S = 0.1


class UploadBodyLimit:
    """The app's body limit, with the larger one for the upload routes. An upload's body is read
    after the requests in flight (alarms first): reading, parsing and spooling a 20 MB body at
    loopback speed kept the event loop busy, and alarms beside it waited (bench/README.md, uploads).
    A body that is not read is not received either (uvicorn stops reading the socket), so TCP slows
    the phone down meanwhile."""

    def __init__(self, app, max_bytes: int):
        self.small = BodyLimit(app, max_bytes)
        self.large = BodyLimit(app, UPLOAD_MAX_BYTES)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and UPLOAD_PATHS.match(scope["path"]):
            priority = scope["app"].state.priority

            async def after_requests():
                try:
                    async with asyncio.timeout(UPLOAD_YIELD_S):  # no task per piece, as wait_for would make
                        await priority.turn()
                except TimeoutError:
                    pass
                return await receive()

            return await self.large(scope, after_requests, send)
        return await self.small(scope, receive, send)
