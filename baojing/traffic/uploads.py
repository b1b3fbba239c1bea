"""Resumable photo uploads: our own chunked offsets, shaped like tus's core protocol.

POST creates an upload for one checklist slot with the photo's total size; PATCH sends the bytes
from `Upload-Offset` on, in chunks; GET tells how many bytes the server holds, which is where an
interrupted upload resumes. The bytes so far are a file under media_dir/tmp whose length *is* the
offset, so a chunk costs no database write, and a chunk's request holds no transaction while its
body trickles in over a slow link. When the last byte arrives the file is checked (an image by its
bytes, not its name; not too many pixels), hashed, and becomes the slot's photo.

Why not tus itself (tus-js-client + a Python tus server): the client library alone outweighs the
driver's whole page, and a tus server stores files its own way, where ours must hash, check and
move a photo into the evidence store in the same transaction that records it. The protocol here is
three requests; tests/test_traffic_uploads.py holds it to its word.
"""
from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import Device
from ..config import Settings
from ..db import utcnow
from ..errors import Conflict, Invalid, NotFound
from ..media import service as media
from . import service, views
from .models import DRAFT, MORE_PHOTOS, TrafficPhoto, TrafficUpload

MIME_OF = {"JPEG": media.JPEG, "PNG": media.PNG, "WEBP": media.WEBP}

media.PATH_COLUMNS.append(TrafficPhoto.path)


def _mb(n: int) -> int:
    return n // (1024 * 1024)


def tmp_path(settings: Settings, upload_id: str) -> Path:
    d = settings.media_dir / media.TMP
    d.mkdir(parents=True, exist_ok=True)
    return d / f"{upload_id}.upload"


async def start(session: AsyncSession, settings: Settings, case_id: int, slot: int, size: int,
                device: Device) -> dict:
    case, parties, _ = await service.for_device(session, case_id, device)
    if case.status == MORE_PHOTOS:
        if slot not in (case.retake_slots or []):
            raise Invalid("这张照片不需要重拍", "This photo was not asked for again", code="not_asked")
    elif case.status != DRAFT:
        raise Conflict("案件已提交，不能再换照片", "The case is submitted; photos can no longer change", code="wrong_status")
    if not 0 <= slot < len(case.checklist):
        raise Invalid("没有这一项照片", f"No photo slot {slot}", code="bad_slot")
    if size > settings.traffic_photo_max_bytes:
        raise Invalid(f"照片过大（上限 {_mb(settings.traffic_photo_max_bytes)} MB）",
                      f"The photo is too large (limit {_mb(settings.traffic_photo_max_bytes)} MB)",
                      code="file_too_large")
    upload = TrafficUpload(id=secrets.token_hex(16), case_id=case.id, slot=slot, size=size, device_id=device.id)
    session.add(upload)
    await session.flush()
    tmp_path(settings, upload.id).touch()
    return {"id": upload.id, "offset": 0, "size": size, "chunk_bytes": settings.traffic_chunk_bytes}


async def _own(session: AsyncSession, upload_id: str, device: Device) -> TrafficUpload:
    upload = await session.get(TrafficUpload, upload_id)
    if upload is None or upload.device_id != device.id:
        raise NotFound("没有这个上传", "No such upload", code="no_upload")
    return upload


async def status(session: AsyncSession, settings: Settings, upload_id: str, device: Device) -> dict:
    upload = await _own(session, upload_id, device)
    path = tmp_path(settings, upload.id)
    offset = upload.size if upload.photo_id else (path.stat().st_size if path.exists() else 0)
    out = {"id": upload.id, "offset": offset, "size": upload.size, "done": upload.photo_id is not None}
    if upload.photo_id:
        out["photo"] = views.photo(await session.get_one(TrafficPhoto, upload.photo_id), False)
    return out


def _write(path: Path, offset: int, data: bytes, size: int) -> int:
    """Append a chunk at `offset`, which must be where the file ends now. Returns the new length.
    The lock keeps two retries of one chunk (the first answer lost) from interleaving."""
    with open(path, "r+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        held = os.fstat(f.fileno()).st_size
        if offset != held:
            raise Conflict("上传位置不一致，请从服务器已有的位置继续", f"Offset mismatch: the server holds {held} bytes",
                           code="offset_mismatch", errors=[{"field": "offset", "offset": held,
                                                            "message_zh": f"服务器已有 {held} 字节",
                                                            "message_en": f"server holds {held} bytes"}])
        if offset + len(data) > size:
            raise Invalid("数据超出声明的大小", "More bytes than the upload declared", code="too_many_bytes")
        f.seek(offset)
        f.write(data)
        f.truncate()
        return offset + len(data)


@dataclass
class Checked:
    mime: str
    width: int
    height: int
    sha256: str
    size: int


def inspect(path: Path, max_pixels: int) -> Checked:
    """The photo as the server will keep it: an image by its bytes (JPEG, PNG or WebP, whatever its
    name), no more pixels than max_pixels (a small file that unpacks to gigabytes is refused before
    it is decoded), and decodable."""
    from PIL import Image, UnidentifiedImageError

    with open(path, "rb") as f:
        head = f.read(16)
    if media.sniff(head) not in media.IMAGES:
        raise Invalid("这不是图片文件（只接受 JPEG、PNG、WebP 照片）",
                      "This file is not an image (JPEG, PNG or WebP photos only), whatever its name",
                      code="not_an_image")
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check the pixels ourselves
    try:
        with Image.open(path) as im:
            w, h = im.size
            fmt = im.format
            if w * h > max_pixels:
                raise _Bomb(w, h)
            if fmt == "JPEG":
                im.draft("RGB", (max(1, w // 8), max(1, h // 8)))  # decode at 1/8: proves the stream, costs little
                im.load()
            else:
                im.verify()
    except _Bomb as b:
        raise Invalid(f"图片像素过多（{b.w}×{b.h}），无法处理", f"The image has too many pixels ({b.w}×{b.h})",
                      code="too_many_pixels") from None
    except Image.DecompressionBombError:
        raise Invalid("图片像素过多，无法处理", "The image has too many pixels", code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid("图片已损坏或不完整", "The image is damaged or incomplete", code="bad_image") from None
    if fmt not in MIME_OF:
        raise Invalid("这不是图片文件（只接受 JPEG、PNG、WebP 照片）", "Not a JPEG, PNG or WebP image",
                      code="not_an_image")
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(media.CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return Checked(MIME_OF[fmt], w, h, digest.hexdigest(), size)


class _Bomb(Exception):
    def __init__(self, w: int, h: int):
        self.w, self.h = w, h


async def write_chunk(state, upload_id: str, offset: int, data: bytes, token: str | None) -> dict:
    """Store one chunk; on the last one, check the photo and record it. The body was read before
    this runs; the database is touched only briefly, never while bytes are on the wire."""
    from ..auth import service as auth
    from ..deps import unit_of_work

    settings: Settings = state.settings
    async with state.sessions() as s:
        device = await auth.device_by_token(s, token)
        if device is None:
            raise NotFound("没有这个上传", "No such upload", code="no_upload")
        upload = await _own(s, upload_id, device)
        size, done, device_id = upload.size, upload.photo_id is not None, device.id
        await s.rollback()
    path = tmp_path(settings, upload_id)
    if done:
        return {"offset": size, "size": size, "done": True}
    if not path.exists():
        raise NotFound("上传已失效，请重新上传这张照片", "This upload has expired; send the photo again", code="no_upload")
    held = await asyncio.to_thread(_write, path, offset, data, size)
    if held < size:
        return {"offset": held, "size": size, "done": False}
    try:
        checked = await asyncio.to_thread(inspect, path, settings.traffic_max_pixels)
    except Invalid:
        path.unlink(missing_ok=True)  # nothing half-kept: the driver takes the photo again
        raise
    async with unit_of_work(state) as session:
        device = await session.get_one(Device, device_id)
        return await _record(session, settings, upload_id, checked, path, device)


async def _record(session: AsyncSession, settings: Settings, upload_id: str, checked: Checked, path: Path,
                  device: Device) -> dict:
    upload = await session.get_one(TrafficUpload, upload_id)
    case, parties, mine = await service.for_device(session, upload.case_id, device)
    if upload.photo_id is not None:
        return {"offset": upload.size, "size": upload.size, "done": True}
    if case.status == MORE_PHOTOS:
        if upload.slot not in (case.retake_slots or []):
            raise Invalid("这张照片不需要重拍", "This photo was not asked for again", code="not_asked")
    elif case.status != DRAFT:
        raise Conflict("案件已提交，不能再换照片", "The case is submitted; photos can no longer change", code="wrong_status")
    await session.execute(update(TrafficPhoto).where(TrafficPhoto.case_id == case.id, TrafficPhoto.slot == upload.slot,
                                                     TrafficPhoto.superseded.is_(False)).values(superseded=True))
    rel = media.final_relpath(upload.id, checked.mime, utcnow())
    photo = TrafficPhoto(case_id=case.id, slot=upload.slot, mime=checked.mime, size=checked.size,
                         sha256=checked.sha256, width=checked.width, height=checked.height, path=rel,
                         device_id=device.id)
    session.add(photo)
    await session.flush()
    upload.photo_id = photo.id
    media.keep_on_commit(session, settings, path, rel)
    view = await service.announce(session, case, parties, None, mine=mine)
    return {"offset": upload.size, "size": upload.size, "done": True, "photo": views.photo(photo, False),
            "case": view}


async def superseded(session: AsyncSession, case_id: int) -> list[TrafficPhoto]:
    return list(await session.scalars(select(TrafficPhoto).where(TrafficPhoto.case_id == case_id,
                                                                 TrafficPhoto.superseded.is_(True))
                                      .order_by(TrafficPhoto.id)))
