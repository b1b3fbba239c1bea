"""Evidence files: list an incident's, play one (every playback audited)."""
from __future__ import annotations

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


class UploadBodyLimit:
    """The app's body limit, with the larger one for the upload routes."""

    def __init__(self, app, max_bytes: int):
        self.small = BodyLimit(app, max_bytes)
        self.large = BodyLimit(app, UPLOAD_MAX_BYTES)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and UPLOAD_PATHS.match(scope["path"]):
            return await self.large(scope, receive, send)
        return await self.small(scope, receive, send)
