"""Evidence files: stored once with their SHA-256, linked to an incident, every playback audited.

A file is first written under `<media_dir>/tmp/` and moved to its final place only after the
row naming it commits; a rollback removes it. So there is never a row without its file in the
normal run, and a crash between the commit and the move is repaired at the next start
(`recover`), which also clears temp files that no row names.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import AsyncIterator

from fastapi import File, Request, UploadFile
from sqlalchemy import event, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..auth import service as auth
from ..auth.service import Principal
from ..config import Settings
from ..db import utcnow
from ..dispatch import repository as dispatch
from ..errors import Forbidden, Invalid, NotFound
from ..incidents.models import Incident
from .models import MediaFile

log = logging.getLogger(__name__)

TMP = "tmp"
CHUNK = 256 * 1024
# A temp file no row names is left over from a crash (or a recording that could not be stored,
# kept this long for someone to rescue by hand).
STALE_TMP = timedelta(days=1)

JPEG, PNG, WEBP, MP4, WEBM = "image/jpeg", "image/png", "image/webp", "video/mp4", "video/webm"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", WEBP: ".webp", MP4: ".mp4", WEBM: ".webm",
              "audio/mp4": ".m4a", "video/quicktime": ".mov"}
IMAGES = (JPEG, PNG, WEBP)
CLIPS = (MP4, WEBM, "video/quicktime")


def sniff(head: bytes) -> str | None:
    """The type by magic bytes: what the bytes are, whatever the name or the browser says."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM
    return None


@dataclass
class Staged:
    """A file written under tmp/, hashed, not yet anyone's evidence."""

    tmp: Path
    size: int
    sha256: str
    mime: str | None
    name: str  # uuid, shared by the temp and the final file
    original_name: str | None = None
    duration_s: float | None = None  # a clip's, probed while staging

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


def _tmp_dir(settings: Settings) -> Path:
    d = settings.media_dir / TMP
    d.mkdir(parents=True, exist_ok=True)
    return d


def new_tmp(settings: Settings, suffix: str) -> tuple[Path, str]:
    name = uuid.uuid4().hex
    return _tmp_dir(settings) / f"{name}{suffix}.part", name


async def stage_upload(settings: Settings, upload, max_bytes: int, what_zh: str, what_en: str) -> Staged:
    """Copy an upload to tmp/ while hashing it, in a worker thread; refuse it past max_bytes or empty."""
    staged = await asyncio.to_thread(_stage, settings, upload.file, max_bytes, what_zh, what_en)
    staged.original_name = upload.filename
    return staged


def too_large(max_bytes: int, what_zh: str, what_en: str) -> Invalid:
    return Invalid(f"{what_zh}过大（上限 {max_bytes // (1024 * 1024)} MB）",
                   f"The {what_en} is too large (limit {max_bytes // (1024 * 1024)} MB)", code="file_too_large")


def _stage(settings: Settings, src, max_bytes: int, what_zh: str, what_en: str) -> Staged:
    path, name = new_tmp(settings, "")
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        src.seek(0)
        with open(path, "wb") as out:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes, what_zh, what_en)
                if len(head) < 16:
                    head += chunk[:16 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise Invalid("文件是空的", "The file is empty", code="empty_file")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(path, size, digest.hexdigest(), sniff(head), name)


def staged_upload(max_bytes: int, what_zh: str, what_en: str):
    """A route dependency for the uploaded `file`, declared before the request's session: the file
    is copied, hashed and (a clip) probed before the transaction begins, so neither SQLite's write
    lock nor PostgreSQL's sequence lock is held across megabytes of disk work, and alarms arriving
    meanwhile do not wait for it (bench/README.md, uploads). The temp file is gone after the
    request unless its row committed and moved it into place."""

    async def dependency(request: Request, file: UploadFile = File(...)) -> AsyncIterator[Staged]:
        staged = await stage_upload(request.app.state.settings, file, max_bytes, what_zh, what_en)
        try:
            if staged.mime in CLIPS:
                staged.duration_s = await asyncio.to_thread(clip_duration, staged.tmp)
            yield staged
        finally:
            staged.discard()

    # Read by uploadgate.py: a body declared larger than this file's limit plus its envelope is
    # refused before a byte of it is read.
    dependency.max_bytes = max_bytes
    dependency.too_large = lambda: too_large(max_bytes, what_zh, what_en)
    return dependency


def stage_file(path: Path, name: str, mime: str) -> Staged:
    """A file the server wrote itself under tmp/ (a recording): hash it in place."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return Staged(path, size, digest.hexdigest(), mime, name)


def clip_duration(path: Path) -> float | None:
    """Seconds of video in a clip, read by PyAV (the container header, else the last packet);
    None when it holds no readable video stream."""
    import av

    try:
        with av.open(str(path)) as c:
            video = next((s for s in c.streams if s.type == "video"), None)
            if video is None:
                return None
            if c.duration is not None and c.duration > 0:
                return c.duration / av.time_base
            # Browsers' MediaRecorder WebM often has no duration in its header: walk the packets.
            end = 0.0
            for packet in c.demux(video):
                if packet.pts is not None and packet.time_base is not None:
                    end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
            return end
    except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError):
        return None


def final_relpath(name: str, mime: str, at: datetime) -> str:
    return f"{at:%Y/%m/%d}/{name}{EXTENSIONS.get(mime, '.bin')}"


# Columns of every table that names evidence files under media_dir (traffic photos keep their own
# rows): recover() finishes the moves a crash interrupted for any of them.
PATH_COLUMNS = [MediaFile.path]


def _after_outcome(session: AsyncSession, on_commit, on_rollback) -> None:
    """Run on_commit once this session's transaction commits, on_rollback if it rolls back."""
    pending = session.info.get("media_outcomes")
    if pending is None:
        pending = session.info["media_outcomes"] = []
        sync = session.sync_session

        def committed(s):
            for commit, _ in s.info.pop("media_outcomes", []):
                try:
                    commit()
                except OSError:
                    log.exception("moving an evidence file into place failed; recover() retries at start")

        def rolled_back(s, _previous):
            for _, rollback in s.info.pop("media_outcomes", []):
                rollback()

        event.listen(sync, "after_commit", committed)
        event.listen(sync, "after_soft_rollback", rolled_back)
    pending.append((on_commit, on_rollback))


async def store(session: AsyncSession, settings: Settings, staged: Staged, *, incident_id: int,
                call_id: int | None, kind: str, created_by: str, duration_s: float | None = None,
                track: str | None = None, original_name: str | None = None,
                started_at: datetime | None = None) -> MediaFile:
    """The row for a staged file; the file moves into place when the row commits."""
    mime = staged.mime or "application/octet-stream"
    rel = final_relpath(staged.name, mime, utcnow())
    m = MediaFile(incident_id=incident_id, call_id=call_id, kind=kind, track=track, mime=mime, size=staged.size,
                  sha256=staged.sha256, duration_s=duration_s, path=rel, created_by=created_by,
                  original_name=(original_name or None) and original_name[:200], started_at=started_at)
    session.add(m)
    try:
        await session.flush()
    except BaseException:
        staged.discard()
        raise
    keep_on_commit(session, settings, staged.tmp, rel)
    return m


def keep_on_commit(session: AsyncSession, settings: Settings, tmp: Path, rel: str) -> None:
    """Move a temp file to media_dir/rel once the session's transaction commits; delete it if the
    transaction rolls back."""
    final = settings.media_dir / rel

    def move():
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)

    _after_outcome(session, move, lambda: tmp.unlink(missing_ok=True))


async def adopt(session: AsyncSession, settings: Settings, source: Path, *, incident_id: int, kind: str, mime: str,
                size: int, sha256: str, created_by: str, original_name: str | None = None) -> MediaFile:
    """Evidence already kept under media_dir by another table (a traffic case's photo) becomes an
    incident's too: a hard link under a new name (a copy where links cannot be made), same bytes,
    same hash."""
    path, name = new_tmp(settings, "")
    try:
        os.link(source, path)
    except OSError:
        shutil.copyfile(source, path)
    return await store(session, settings, Staged(path, size, sha256, mime, name), incident_id=incident_id,
                       call_id=None, kind=kind, created_by=created_by, original_name=original_name)


def view(m: MediaFile) -> dict:
    return {"id": m.id, "incident_id": m.incident_id, "call_id": m.call_id, "kind": m.kind, "track": m.track,
            "mime": m.mime, "size": m.size, "sha256": m.sha256, "duration_s": m.duration_s,
            "original_name": m.original_name, "created_at": m.created_at, "started_at": m.started_at,
            "created_by": m.created_by, "url": f"/api/media/{m.id}"}


async def announce(session: AsyncSession, m: MediaFile, action: str, actor: str | None) -> dict:
    """Consoles (and the incident's timeline) hear of new evidence."""
    data = view(m)
    await events.emit(session, "media.added", data, incident_id=m.incident_id, actor=actor, action=action)
    return data


async def of_incident(session: AsyncSession, incident_id: int, who: Principal) -> dict:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("没有这个警情", f"No incident {incident_id}")
    # Evidence follows a merge: the survivor lists the files of the incidents merged into it.
    merged = list(await session.scalars(select(Incident.id).where(Incident.merged_into == incident_id)))
    rows = await session.scalars(select(MediaFile).where(MediaFile.incident_id.in_([incident_id, *merged]))
                                 .order_by(MediaFile.id))
    return {"incident_id": incident_id, "media": [view(m) for m in rows]}


async def count_of_call(session: AsyncSession, call_id: int, kind: str) -> int:
    return await session.scalar(select(func.count()).select_from(MediaFile)
                                .where(MediaFile.call_id == call_id, MediaFile.kind == kind)) or 0


async def count_by(session: AsyncSession, incident_id: int, kind: str, created_by: str) -> int:
    return await session.scalar(select(func.count()).select_from(MediaFile).where(
        MediaFile.incident_id == incident_id, MediaFile.kind == kind, MediaFile.created_by == created_by)) or 0


async def for_playback(session: AsyncSession, settings: Settings, media_id: int, who: Principal,
                       range_header: str | None) -> tuple[Path, MediaFile]:
    m = await session.get(MediaFile, media_id)
    if m is None:
        raise NotFound("没有这个文件", f"No media file {media_id}")
    if not who.console:
        # An officer sees the evidence of the incident they are sent to (a merged one's, too).
        survivor = await session.scalar(select(Incident.merged_into).where(Incident.id == m.incident_id))
        if not any([await dispatch.responds_to(session, who.user_id, i) for i in (m.incident_id, survivor) if i]):
            raise Forbidden("您无权查看这个文件", "You may not see this file", code="not_your_incident",
                            audit=(who, "media.refused", "media", m.id))
    path = settings.media_dir / m.path
    if not path.is_file():
        raise NotFound("文件暂不可用，请稍后再试", "The file is not in place yet; try again shortly",
                       code="media_missing")
    # A player fetches a video in many ranges; one playback is the request that starts at 0.
    if not range_header or range_header.replace(" ", "").startswith("bytes=0-"):
        await auth.audit(session, who, "media.play", "media", m.id, {"incident_id": m.incident_id, "kind": m.kind})
    return path, m


def recover(settings: Settings, known_paths: set[str]) -> None:
    """At start: finish moves a crash interrupted, and delete temp files no row names."""
    tmp = settings.media_dir / TMP
    if not tmp.is_dir():
        return
    by_name = {Path(p).stem: p for p in known_paths}
    cutoff = (utcnow() - STALE_TMP).timestamp()
    for f in tmp.iterdir():
        name = f.name.split(".", 1)[0]
        if name in by_name:
            final = settings.media_dir / by_name[name]
            if not final.exists():
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(f, final)
                log.warning("recovered evidence file %s", final)
        elif f.stat().st_mtime < cutoff:
            f.unlink(missing_ok=True)


async def recover_at_start(state) -> None:
    tmp = state.settings.media_dir / TMP
    if not tmp.is_dir() or not any(tmp.iterdir()):
        return
    async with state.sessions() as s:
        names = {f.name.split(".", 1)[0] for f in tmp.iterdir()}
        known = set()
        for column in PATH_COLUMNS:
            known.update(await s.scalars(select(column).where(or_(*(column.like(f"%/{n}.%") for n in names)))))
    await asyncio.to_thread(recover, state.settings, known)

