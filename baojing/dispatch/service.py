"""Districts and police stations (read side; their admin pages come with dispatch)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import District, Station


async def districts_geojson(session: AsyncSession) -> dict:
    rows = await session.scalars(select(District).order_by(District.id))
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "approximate": d.approximate},
        # GeoJSON is lon-lat; we keep lat-lon everywhere else.
        "geometry": {"type": "Polygon", "coordinates": [[[lon, lat] for lat, lon in d.outline]]},
    } for d in rows]}


async def stations(session: AsyncSession) -> list[dict]:
    rows = await session.scalars(select(Station).order_by(Station.id))
    return [{"id": s.id, "code": s.code, "name_zh": s.name_zh, "name_en": s.name_en,
             "lat": s.lat, "lon": s.lon, "address": s.address} for s in rows]
