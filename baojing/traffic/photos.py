"""Serving a case's photos: the original bytes to the desk (audited), and to the drivers a copy
re-encoded from the pixels, which carries no EXIF and so no location or phone model."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth
from ..auth.models import Device
from ..auth.service import Principal
from ..config import Settings
from ..errors import NotFound
from . import service
from .models import TrafficPhoto

SIZES = {"full": 2560, "thumb": 480}


async def _photo(session: AsyncSession, settings: Settings, photo_id: int) -> tuple[TrafficPhoto, Path]:
    p = await session.get(TrafficPhoto, photo_id)
    if p is None:
        raise NotFound("没有这张照片", f"No photo {photo_id}")
    path = settings.media_dir / p.path
    if not path.is_file():
        raise NotFound("文件暂不可用，请稍后再试", "The file is not in place yet; try again shortly", code="media_missing")
    return p, path


async def original(session: AsyncSession, settings: Settings, photo_id: int, who: Principal):
    p, path = await _photo(session, settings, photo_id)
    await auth.audit(session, who, "traffic.photo", "traffic_photo", p.id, {"case_id": p.case_id})
    return p, path


def _reencode(src: Path, dest: Path, px: int) -> None:
    from PIL import Image, ImageOps

    with Image.open(src) as im:
        im = ImageOps.exif_transpose(im)  # turn it upright before the orientation tag is dropped
        im.thumbnail((px, px))
        tmp = dest.with_suffix(".part")
        im.convert("RGB").save(tmp, "JPEG", quality=85, optimize=True)  # no exif= given: none written
    os.replace(tmp, dest)


async def copy_for(session: AsyncSession, settings: Settings, photo_id: int, size: str, *,
                   device: Device | None = None, who: Principal | None = None) -> Path:
    p, path = await _photo(session, settings, photo_id)
    if who is None:
        await service.for_device(session, p.case_id, device, lock=False)  # a driver of this case, or not found
    return await asyncio.to_thread(derived, settings, p, size)


def derived(settings: Settings, p: TrafficPhoto, size: str) -> Path:
    """The re-encoded copy of a photo at a size (made once, kept under media_dir/derived)."""
    dest = settings.media_dir / "derived" / f"{p.sha256}-{size}.jpg"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        _reencode(settings.media_dir / p.path, dest, SIZES[size])
    return dest
