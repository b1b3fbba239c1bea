from __future__ import annotations

from fastapi import APIRouter, Body, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import roles
from ..auth.service import Principal
from ..deps import DbSession, require
from ..fields import Id
from . import admin, service
from .schemas import ImportOut, StationIn, UnitIn, UnitList, UnitOut

router = APIRouter(prefix="/api/admin", tags=["admin"])
admin_only = require(frozenset({roles.ADMIN}))
CSV_BODY = Body(..., media_type="text/csv", max_length=60_000)


@router.get("/stations", summary="All stations with their jurisdictions")
async def stations(session: AsyncSession = DbSession, who: Principal = Depends(admin_only)):
    return {"stations": await service.stations(session)}


@router.post("/stations", summary="Add a station (or update the one with this code)")
async def add_station(data: StationIn, session: AsyncSession = DbSession, who: Principal = Depends(admin_only)):
    return await admin.save_station(session, data, who)


@router.put("/stations/{station_id}", summary="Change a station")
async def edit_station(station_id: Id, data: StationIn, session: AsyncSession = DbSession,
                       who: Principal = Depends(admin_only)):
    return await admin.save_station(session, data, who, station_id)


@router.post("/stations/import", response_model=ImportOut, summary="CSV: code,name_zh,name_en,lat,lon,address,jurisdiction ('lat lon;lat lon;...')")
async def import_stations(text: str = CSV_BODY, session: AsyncSession = DbSession,
                          who: Principal = Depends(admin_only)):
    return await admin.import_stations(session, text, who)


@router.get("/units", response_model=UnitList, summary="All units")
async def units(session: AsyncSession = DbSession, who: Principal = Depends(admin_only)):
    return await service.units_snapshot(session)


@router.post("/units", response_model=UnitOut, summary="Add a unit (or update the one with this call sign)")
async def add_unit(data: UnitIn, session: AsyncSession = DbSession, who: Principal = Depends(admin_only)):
    return await admin.save_unit(session, data, who)


@router.put("/units/{unit_id}", response_model=UnitOut, summary="Change a unit and its members")
async def edit_unit(unit_id: Id, data: UnitIn, session: AsyncSession = DbSession,
                    who: Principal = Depends(admin_only)):
    return await admin.save_unit(session, data, who, unit_id)


@router.post("/units/import", response_model=ImportOut, summary="CSV: call_sign,kind,station_code,members (usernames, space-separated)")
async def import_units(text: str = CSV_BODY, session: AsyncSession = DbSession,
                       who: Principal = Depends(admin_only)):
    return await admin.import_units(session, text, who)
