"""Stations and units, by hand or from CSV. An import is checked whole first: one bad row and
nothing is saved, with every bad row named."""
from __future__ import annotations

import csv
import io

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .. import events
from ..auth import roles
from ..auth.models import User
from ..auth.service import Principal, audit
from ..errors import Conflict, Invalid, NotFound, field_error
from . import service
from .units import announce_unit
from .models import Station, Unit, UnitMember
from .schemas import StationIn, UnitIn

STATION_COLUMNS = ["code", "name_zh", "name_en", "lat", "lon", "address", "jurisdiction"]
UNIT_COLUMNS = ["call_sign", "kind", "station_code", "members"]


async def save_station(session: AsyncSession, data: StationIn, who: Principal, station_id: int | None = None,
                       upsert: bool = False) -> dict:
    """Add (station_id None), change (station_id) or, for imports, add-or-change by code."""
    same_code = await session.scalar(select(Station).where(Station.code == data.code))
    if station_id is None:
        if same_code is not None and not upsert:
            raise Conflict(f"已有代码为 {data.code} 的派出所", f"A station with code {data.code} exists",
                           code="duplicate_code")
        st = same_code or Station(code=data.code)
    else:
        st = await session.get(Station, station_id)
        if st is None:
            raise NotFound("没有这个派出所", f"No station {station_id}")
        if same_code is not None and same_code.id != st.id:
            raise Conflict(f"代码 {data.code} 已被其他派出所使用", f"Code {data.code} belongs to another station",
                           code="duplicate_code")
    for field in ("code", "name_zh", "name_en", "lat", "lon", "address"):
        setattr(st, field, getattr(data, field))
    st.jurisdiction = [list(p) for p in data.jurisdiction] if data.jurisdiction else None
    session.add(st)
    await session.flush()
    await audit(session, who, "station.save", "station", st.id)
    return service.station_view(st)


async def save_unit(session: AsyncSession, data: UnitIn, who: Principal, unit_id: int | None = None,
                    upsert: bool = False) -> dict:
    await events.lock_sequence(session)
    if await session.get(Station, data.station_id) is None:
        raise Invalid("没有这个派出所", f"No station {data.station_id}", code="unknown_station")
    same_sign = await session.scalar(select(Unit).where(Unit.call_sign == data.call_sign))
    if unit_id is None:
        if same_sign is not None and not upsert:
            raise Conflict(f"已有呼号为 {data.call_sign} 的单元", f"A unit with call sign {data.call_sign} exists",
                           code="duplicate_call_sign")
        unit = same_sign or Unit(call_sign=data.call_sign)
    else:
        unit = await session.get(Unit, unit_id)
        if unit is None:
            raise NotFound("没有这个警力单元", f"No unit {unit_id}")
        if same_sign is not None and same_sign.id != unit.id:
            raise Conflict(f"呼号 {data.call_sign} 已被其他单元使用", f"Call sign {data.call_sign} belongs to another unit",
                           code="duplicate_call_sign")
    unit.call_sign, unit.kind, unit.station_id = data.call_sign, data.kind, data.station_id
    session.add(unit)
    await session.flush()
    await _set_members(session, unit, data.member_ids)
    await audit(session, who, "unit.save", "unit", unit.id)
    return await announce_unit(session, unit, None, who)


async def _set_members(session: AsyncSession, unit: Unit, user_ids: list[int]) -> None:
    if user_ids:
        users = list(await session.scalars(select(User).where(User.id.in_(user_ids))))
        if len(users) != len(set(user_ids)) or any(u.role != roles.OFFICER for u in users):
            raise Invalid("成员必须是民警账号", "Members must be officer accounts", code="bad_members")
    await session.execute(delete(UnitMember).where((UnitMember.unit_id == unit.id) | UnitMember.user_id.in_(user_ids)))
    for uid in user_ids:
        session.add(UnitMember(user_id=uid, unit_id=unit.id))
    await session.flush()


def _rows(text: str, columns: list[str]) -> list[tuple[int, dict]]:
    """(line number in the file, row) pairs; blank lines keep the numbering true."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise Invalid(f"CSV 缺少列：{', '.join(missing)}", f"The CSV lacks columns: {', '.join(missing)}",
                      code="csv_columns")
    return [(reader.line_num, row) for row in reader]


class _Bad(Exception):
    """One problem in one cell of a CSV row, said in both languages."""

    def __init__(self, field: str, zh: str, en: str):
        super().__init__(field, zh, en)
        self.field, self.zh, self.en = field, zh, en


def _number(row: dict, column: str) -> float:
    raw = (row[column] or "").strip()
    try:
        return float(raw)
    except ValueError:
        if not raw:
            raise _Bad(column, "不能为空，必须是数字", "Must not be empty: a number is needed") from None
        raise _Bad(column, f"“{raw}”不是数字", f"{raw!r} is not a number") from None


def _ring(text: str) -> list[list[float]] | None:
    if not text.strip():
        return None
    ring = []
    for i, pair in enumerate((p for p in text.split(";") if p.strip()), 1):
        try:
            lat, lon = (float(v) for v in pair.replace(",", " ").split())
        except ValueError:
            raise _Bad(f"jurisdiction.{i - 1}", f"第 {i} 个点“{pair.strip()}”应为“纬度 经度”两个数",
                       f"point {i} {pair.strip()!r} should be two numbers, 'lat lon'") from None
        ring.append([lat, lon])
    return ring


def _problems(line: int, exc: Exception) -> list[dict]:
    if isinstance(exc, ValidationError):
        # The same sentences, in both languages, as any bad request gets (errors.py).
        return [{"line": line, **field_error(e)} for e in exc.errors()]
    return [{"line": line, "field": exc.field, "message_zh": exc.zh, "message_en": exc.en}]


def _repeated(seen: dict[str, int], key: str, line: int, column: str, zh_name: str, en_name: str) -> None:
    """A code twice in one file would save the second row over the first: name both lines."""
    first = seen.setdefault(key, line)
    if first != line:
        raise _Bad(column, f"{zh_name}“{key}”与第 {first} 行重复（第 {first} 行和第 {line} 行）",
                   f"{en_name} {key!r} repeats line {first} (lines {first} and {line})")


def _refuse(problems: list[dict]) -> None:
    if problems:
        zh = "；".join(f"第 {p['line']} 行 {p['field']}：{p['message_zh']}" for p in problems[:20])
        en = "; ".join(f"line {p['line']} {p['field']}: {p['message_en']}" for p in problems[:20])
        raise Invalid(f"CSV 有 {len(problems)} 处错误，未导入任何内容：{zh}",
                      f"The CSV has {len(problems)} problem(s); nothing was imported: {en}", code="csv_invalid",
                      errors=problems)


async def import_stations(session: AsyncSession, text: str, who: Principal) -> dict:
    parsed, problems = [], []
    seen: dict[str, int] = {}
    for line, row in _rows(text, STATION_COLUMNS):
        try:
            _repeated(seen, row["code"], line, "code", "代码", "code")
            parsed.append(StationIn(code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"],
                                    lat=_number(row, "lat"), lon=_number(row, "lon"), address=row["address"] or None,
                                    jurisdiction=_ring(row["jurisdiction"])))
        except (_Bad, ValidationError) as e:
            problems.extend(_problems(line, e))
    _refuse(problems)
    for data in parsed:
        await save_station(session, data, who, upsert=True)
    return {"imported": len(parsed), "keys": [d.code for d in parsed]}


async def import_units(session: AsyncSession, text: str, who: Principal) -> dict:
    stations = dict((await session.execute(select(Station.code, Station.id))).all())
    users = dict((await session.execute(select(User.username, User.id))).all())
    parsed, problems = [], []
    seen: dict[str, int] = {}
    for line, row in _rows(text, UNIT_COLUMNS):
        try:
            _repeated(seen, row["call_sign"], line, "call_sign", "呼号", "call sign")
            if row["station_code"] not in stations:
                raise _Bad("station_code", f"没有代码为“{row['station_code']}”的派出所",
                           f"no station with code {row['station_code']!r}")
            names = row["members"].replace(";", " ").split()
            unknown = [n for n in names if n not in users]
            if unknown:
                raise _Bad("members", f"没有这些账号：{'、'.join(unknown)}", f"no such accounts: {', '.join(unknown)}")
            parsed.append(UnitIn(call_sign=row["call_sign"], kind=row["kind"], station_id=stations[row["station_code"]],
                                 member_ids=[users[n] for n in names]))
        except (_Bad, ValidationError) as e:
            problems.extend(_problems(line, e))
    _refuse(problems)
    for data in parsed:
        await save_unit(session, data, who, upsert=True)
    return {"imported": len(parsed), "keys": [d.call_sign for d in parsed]}
