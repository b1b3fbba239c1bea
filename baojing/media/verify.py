"""`baojing evidence verify`: every evidence file hashed again and compared with the SHA-256 and
size taken when it was stored. A changed file or a vanished one is reported, never repaired."""
from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import MediaFile


@dataclass
class Report:
    checked: int = 0
    changed: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.changed and not self.missing


def _digest(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


async def verify(session: AsyncSession, media_dir: Path, batch: int = 500) -> Report:
    report, last_id = Report(), 0
    while True:
        rows = (await session.scalars(select(MediaFile).where(MediaFile.id > last_id)
                                      .order_by(MediaFile.id).limit(batch))).all()
        if not rows:
            return report
        for m in rows:
            last_id = m.id
            item = {"id": m.id, "incident_id": m.incident_id, "kind": m.kind, "path": m.path}
            path = media_dir / m.path
            report.checked += 1
            if not path.is_file():
                report.missing.append(item)
                continue
            digest, size = await asyncio.to_thread(_digest, path)  # big recordings: off the loop
            if digest != m.sha256 or size != m.size:
                report.changed.append({**item, "expected_sha256": m.sha256, "actual_sha256": digest,
                                       "expected_size": m.size, "actual_size": size})
