"""GET /api/config: what every page needs to draw a map and fill its pick lists. Public: it holds
nothing about any caller."""
from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from . import labels
from .auth import roles
from .config import Settings
from .deps import DbSession
from .dispatch import service as dispatch
from .incidents import catalog

router = APIRouter(prefix="/api", tags=["config"])

OSM = ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", ["a", "b", "c"], "© OpenStreetMap contributors", "wgs84")
# Tianditu's vec_w layer is drawn in CGCS2000, which matches WGS-84 to well under a metre.
TIANDITU = ("https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
            "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
            ["0", "1", "2", "3", "4", "5", "6", "7"], "© 天地图 Tianditu", "wgs84")
# AMap tiles are drawn in GCJ-02: positions are shifted before drawing.
AMAP = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        ["1", "2", "3", "4"], "© 高德地图 AMap", "gcj02")


def map_settings(settings: Settings) -> dict:
    source = {"osm": OSM, "tianditu": TIANDITU, "amap": AMAP}.get(settings.map_tiles)
    out = {"tiles": settings.map_tiles if source else "none", "url": None, "subdomains": [], "attribution": "",
           "crs": "wgs84", "center": list(settings.map_center), "zoom": settings.map_zoom}
    if source:
        url, subdomains, attribution, crs = source
        out.update(url=url.replace("{key}", settings.tianditu_key), subdomains=subdomains,
                   attribution=attribution, crs=crs)
    return out


@router.get("/config", summary="Map tiles, district outlines, the operators' pick lists, every code's words and each role's pages")
async def get_config(request: Request, session: AsyncSession = DbSession):
    settings: Settings = request.app.state.settings
    return {
        "map": map_settings(settings),
        "districts": await dispatch.districts_geojson(session),
        "stations": await dispatch.stations(session),
        "incident_types": catalog.as_options(catalog.TYPES),
        "priorities": catalog.as_options(catalog.PRIORITIES),
        "dispositions": catalog.as_options(catalog.DISPOSITIONS),
        "terms_version": settings.terms_version,
        "labels": labels.labels(),
        "role_pages": {role: list(pages) for role, pages in roles.PAGES.items()},
    }
