"""The key-unit registry: units, their rosters, floor plans and photos, and CSV/XLSX import."""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.service import Principal, audit
from ..config import Settings
from ..db import utcnow
from ..dispatch import repository as dispatch
from ..dispatch.models import Station
from ..errors import Conflict, Invalid, NotFound
from ..media.service import sniff
from .models import FLOOR_PLAN, KINDS, PHOTO, KeyUnit, KeyUnitFile, RosterEntry
from .schemas import KeyUnitIn, RosterEntryIn

PDF = "application/pdf"
FILE_KINDS = (FLOOR_PLAN, PHOTO)
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_IMPORT_BYTES = 5 * 1024 * 1024
KIND_BY_LABEL = {**{k: k for k in KINDS}, **{zh: k for k, (zh, _) in KINDS.items()},
                 **{en.lower(): k for k, (_, en) in KINDS.items()}}


def file_view(f: KeyUnitFile) -> dict:
    return {"id": f.id, "kind": f.kind, "mime": f.mime, "size": f.size, "name": f.name,
            "url": f"/api/keyunits/files/{f.id}"}


def unit_view(u: KeyUnit, stations: dict[int, Station], files: list[KeyUnitFile] = (),
              roster: list[RosterEntry] | None = None) -> dict:
    st = stations.get(u.station_id) if u.station_id else None
    zh, en = KINDS[u.kind]
    out = {"id": u.id, "name": u.name, "kind": u.kind, "kind_zh": zh, "kind_en": en, "address": u.address,
           "lat": u.lat, "lon": u.lon, "boundary": u.boundary, "station_id": u.station_id,
           "station_name_zh": st.name_zh if st else None, "station_name_en": st.name_en if st else None,
           "station_overridden": u.station_overridden, "contacts": u.contacts or [],
           "opening_hours": u.opening_hours, "files": [file_view(f) for f in files], "updated_at": u.updated_at}
    if roster is not None:
        out["roster"] = [{"id": r.id, "phone": r.phone, "name": r.name, "role": r.role} for r in roster]
    return out


async def _stations(session: AsyncSession) -> dict[int, Station]:
    return {s.id: s for s in await session.scalars(select(Station))}


async def get_unit(session: AsyncSession, unit_id: int) -> KeyUnit:
    u = await session.get(KeyUnit, unit_id)
    if u is None:
        raise NotFound("没有这个重点单位", f"No key unit {unit_id}")
    return u


async def views(session: AsyncSession, units: list[KeyUnit], *, roster: bool = False) -> list[dict]:
    ids = [u.id for u in units]
    files: dict[int, list] = {i: [] for i in ids}
    rosters: dict[int, list] = {i: [] for i in ids}
    if ids:
        for f in await session.scalars(select(KeyUnitFile).where(KeyUnitFile.unit_id.in_(ids)).order_by(KeyUnitFile.id)):
            files[f.unit_id].append(f)
        if roster:
            for r in await session.scalars(select(RosterEntry).where(RosterEntry.unit_id.in_(ids))
                                           .order_by(RosterEntry.id)):
                rosters[r.unit_id].append(r)
    stations = await _stations(session)
    return [unit_view(u, stations, files[u.id], rosters[u.id] if roster else None) for u in units]


async def profile(session: AsyncSession, unit_id: int) -> dict:
    (view,) = await views(session, [await get_unit(session, unit_id)])
    return view


async def list_units(session: AsyncSession, *, roster: bool = False) -> dict:
    units = list(await session.scalars(select(KeyUnit).order_by(KeyUnit.id)))
    return {"units": await views(session, units, roster=roster)}


async def _station_of(session: AsyncSession, data: KeyUnitIn) -> tuple[int | None, bool]:
    if data.station_id is not None:
        if await session.get(Station, data.station_id) is None:
            raise Invalid("没有这个派出所", f"No station {data.station_id}", code="unknown_station",
                          errors=[{"field": "station_id", "message_zh": "没有这个派出所", "message_en": "Unknown station"}])
        return data.station_id, True
    return await dispatch.station_for(session, data.lat, data.lon), False


async def save_unit(session: AsyncSession, data: KeyUnitIn, who: Principal, unit_id: int | None = None,
                    *, upsert: bool = False) -> tuple[KeyUnit, str]:
    unit = await get_unit(session, unit_id) if unit_id else None
    same_name = await session.scalar(select(KeyUnit).where(KeyUnit.name == data.name))
    if same_name is not None and (unit is None or same_name.id != unit.id):
        if not upsert:
            raise Conflict("已有同名的重点单位", f"A key unit named {data.name!r} already exists", code="duplicate_name")
        unit = same_name
    action = "updated" if unit else "created"
    station_id, overridden = await _station_of(session, data)
    if unit is None:
        unit = KeyUnit(created_at=utcnow())
        session.add(unit)
    unit.name, unit.kind, unit.address, unit.lat, unit.lon = data.name, data.kind, data.address, data.lat, data.lon
    unit.boundary, unit.station_id, unit.station_overridden = data.boundary, station_id, overridden
    unit.contacts = [c.model_dump() for c in data.contacts]
    unit.opening_hours, unit.updated_at = data.opening_hours or None, utcnow()
    await session.flush()
    await audit(session, who, f"keyunit.{action}", "key_unit", unit.id)
    return unit, action


async def set_roster(session: AsyncSession, unit_id: int, members: list[RosterEntryIn], who: Principal) -> list[str]:
    """Replace a unit's roster. Returns the phones taken off it (their sessions end at their next request)."""
    unit = await get_unit(session, unit_id)
    phones = [m.phone for m in members]
    dup = {p for p in phones if phones.count(p) > 1}
    if dup:
        raise Invalid(f"名单中号码重复：{', '.join(sorted(dup))}", f"Numbers listed twice: {', '.join(sorted(dup))}",
                      code="duplicate_phone")
    current = {r.phone: r for r in await session.scalars(select(RosterEntry).where(RosterEntry.unit_id == unit.id))}
    removed = [p for p in current if p not in phones]
    if removed:
        await session.execute(delete(RosterEntry).where(RosterEntry.unit_id == unit.id, RosterEntry.phone.in_(removed)))
    for m in members:
        r = current.get(m.phone)
        if r is None:
            session.add(RosterEntry(unit_id=unit.id, phone=m.phone, name=m.name, role=m.role))
        else:
            r.name, r.role = m.name, m.role
    unit.updated_at = utcnow()
    await session.flush()
    await audit(session, who, "keyunit.roster", "key_unit", unit.id, {"count": len(members), "removed": len(removed)})
    return removed


# ---- files -----------------------------------------------------------------------------------

def file_root(settings: Settings) -> Path:
    return Path(settings.media_dir) / "keyunits"


def kind_of_bytes(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return PDF
    mime = sniff(head)
    return mime if mime in ("image/jpeg", "image/png", "image/webp") else None


async def store_file(session: AsyncSession, settings: Settings, data: bytes, name: str | None, kind: str,
                     who_label: str, *, unit_id: int | None = None, bulletin_id: int | None = None,
                     alarm_id: int | None = None, images_only: bool = False) -> KeyUnitFile:
    """Store by content: the path is the SHA-256, so a rolled back request leaves at most an
    unreferenced copy of bytes, never a row without its file."""
    if kind not in FILE_KINDS:
        raise Invalid("文件类别只能是平面图或照片", "The kind must be floor_plan or photo", code="bad_file_kind")
    if not data:
        raise Invalid("文件是空的", "The file is empty", code="empty_file")
    if len(data) > MAX_FILE_BYTES:
        raise Invalid("文件太大（上限 10 MB）", "The file is too large (limit 10 MB)", code="file_too_large")
    mime = kind_of_bytes(data[:16])
    if mime is None or (images_only and mime == PDF):
        allowed_zh, allowed_en = ("JPEG、PNG 或 WebP 图片", "a JPEG, PNG or WebP image") if images_only else \
            ("JPEG、PNG、WebP 图片或 PDF", "a JPEG, PNG or WebP image, or a PDF")
        raise Invalid(f"只接受 {allowed_zh}", f"Only {allowed_en} is accepted", code="bad_file_type")
    digest = hashlib.sha256(data).hexdigest()
    rel = f"{digest[:2]}/{digest}{'.pdf' if mime == PDF else '.' + mime.split('/')[1]}"
    path = file_root(settings) / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    f = KeyUnitFile(unit_id=unit_id, bulletin_id=bulletin_id, alarm_id=alarm_id, kind=kind, mime=mime, size=len(data),
                    sha256=digest, path=rel, name=(name or "")[:200] or None, created_by=who_label)
    session.add(f)
    await session.flush()
    return f


async def remove_file(session: AsyncSession, file_id: int, who: Principal) -> None:
    f = await session.get(KeyUnitFile, file_id)
    if f is None or f.unit_id is None:
        raise NotFound("没有这个文件", f"No unit file {file_id}")
    await session.delete(f)
    await audit(session, who, "keyunit.file_removed", "key_unit", f.unit_id, {"file_id": file_id, "sha256": f.sha256})


async def file_for(session: AsyncSession, settings: Settings, file_id: int) -> tuple[Path, KeyUnitFile]:
    f = await session.get(KeyUnitFile, file_id)
    if f is None:
        raise NotFound("没有这个文件", f"No file {file_id}")
    return file_root(settings) / f.path, f


# ---- import ----------------------------------------------------------------------------------

UNIT_COLUMNS = ["name", "kind", "address", "lat", "lon"]
UNIT_OPTIONAL = ["station_code", "boundary", "opening_hours", "contacts"]
ROSTER_COLUMNS = ["unit", "phone", "name", "role"]
XLSX_MAGIC = b"PK\x03\x04"


def _table(data: bytes, filename: str) -> list[tuple[int, dict]]:
    """(row number as the user sees it, {column: text}) from a CSV or an XLSX file."""
    is_xlsx = filename.lower().endswith((".xlsx", ".xlsm"))
    if is_xlsx or data.startswith(XLSX_MAGIC):
        return _xlsx_rows(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
        except UnicodeDecodeError:
            raise Invalid("无法识别文件编码，请保存为 UTF-8 CSV 或 XLSX", "Unreadable encoding: save as UTF-8 CSV or XLSX",
                          code="bad_encoding") from None
    reader = csv.reader(io.StringIO(text))
    rows = []
    header = None
    for cells in reader:
        if header is None:
            header = [c.strip().lower() for c in cells]
            continue
        rows.append((reader.line_num, dict(zip(header, (c.strip() for c in cells)))))
    return _check_header(header, rows)


def _xlsx_rows(data: bytes) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise Invalid("这不是有效的 XLSX 文件（无法打开）", f"This is not a valid XLSX file ({type(e).__name__})",
                      code="not_xlsx") from None
    try:
        ws = wb.worksheets[0]
        header = None
        rows = []
        for n, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            texts = ["" if c is None else (str(int(c)) if isinstance(c, float) and c.is_integer() and c > 1e6 else str(c)).strip()
                     for c in cells]
            if header is None:
                header = [t.lower() for t in texts]
                continue
            if any(texts):
                rows.append((n, dict(zip(header, texts))))
    finally:
        wb.close()
    return _check_header(header, rows)


def _check_header(header, rows):
    if not header:
        raise Invalid("文件是空的", "The file is empty", code="empty_file")
    return [(n, {k: v for k, v in r.items() if k}) for n, r in rows], header


def _need(header: list[str], columns: list[str]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise Invalid(f"缺少列：{', '.join(missing)}（未导入任何内容）", f"Missing columns: {', '.join(missing)} (nothing imported)",
                      code="import_columns")


def _problem(line: int, field: str, zh: str, en: str) -> dict:
    return {"line": line, "field": field, "message_zh": zh, "message_en": en}


def _validation_problems(line: int, e: ValidationError) -> list[dict]:
    from ..errors import field_error

    return [{"line": line, **field_error(err)} for err in e.errors()]


def _refuse(problems: list[dict], total: int) -> None:
    if problems:
        lines = sorted({p["line"] for p in problems})
        raise Invalid(f"文件中有 {len(lines)} 行有错误（第 {', '.join(map(str, lines[:30]))} 行），未导入任何内容",
                      f"{len(lines)} of {total} rows have problems (rows {', '.join(map(str, lines[:30]))}); nothing was imported",
                      code="import_invalid", errors=problems)


def _pairs(text: str, line: int, field: str, problems: list) -> list | None:
    """"lat lon; lat lon; ..." -> [[lat, lon], ...]"""
    if not text:
        return None
    try:
        return [[float(v) for v in pair.replace(",", " ").split()] for pair in text.split(";") if pair.strip()]
    except ValueError:
        problems.append(_problem(line, field, "应为“纬度 经度; 纬度 经度; …”", 'Expected "lat lon; lat lon; ..."'))
        return None


def _contacts(text: str) -> list[dict]:
    """"姓名 电话 [职务]; ..." -> [{name, phone, title}]"""
    out = []
    for part in text.split(";"):
        bits = part.split()
        if bits:
            out.append({"name": bits[0], "phone": bits[1] if len(bits) > 1 else "", "title": " ".join(bits[2:]) or None})
    return out


async def import_units(session: AsyncSession, data: bytes, filename: str, who: Principal) -> dict:
    rows, header = _table(data, filename)
    _need(header, UNIT_COLUMNS)
    stations = dict((await session.execute(select(Station.code, Station.id))).all())
    parsed, problems, seen = [], [], {}
    for line, r in rows:
        before = len(problems)
        kind = KIND_BY_LABEL.get((r.get("kind") or "").strip().lower())
        if kind is None:
            problems.append(_problem(line, "kind", f"类型“{r.get('kind', '')}”不在 学校/幼儿园/企业/银行网点/医院/市场 之中",
                                     f"Type {r.get('kind', '')!r} is not one of {', '.join(KINDS)}"))
        code = r.get("station_code") or ""
        if code and code not in stations:
            problems.append(_problem(line, "station_code", f"没有代码为“{code}”的派出所", f"No station with code {code!r}"))
        name = r.get("name") or ""
        if name and name in seen:
            problems.append(_problem(line, "name", f"单位名称与第 {seen[name]} 行重复", f"Same name as row {seen[name]}"))
        seen.setdefault(name, line)
        boundary = _pairs(r.get("boundary") or "", line, "boundary", problems)
        try:
            item = KeyUnitIn(name=name, kind=kind or "school", address=r.get("address") or "", lat=r.get("lat") or "x",
                             lon=r.get("lon") or "x", boundary=boundary, station_id=stations.get(code),
                             contacts=_contacts(r.get("contacts") or ""), opening_hours=r.get("opening_hours") or None)
        except ValidationError as e:
            problems.extend(_validation_problems(line, e))
            continue
        if len(problems) == before:
            parsed.append((line, item))
    _refuse(problems, len(rows))
    report = []
    for line, item in parsed:
        unit, action = await save_unit(session, item, who, upsert=True)
        report.append({"line": line, "ok": True, "action": action, "name": unit.name})
    await audit(session, who, "keyunit.import", "key_unit", None, {"rows": len(report), "file": filename[:100]})
    return {"imported": len(report), "rows": report}


async def import_rosters(session: AsyncSession, data: bytes, filename: str, who: Principal) -> dict:
    """Rows of (unit name, phone, name, role) are added to (or update) the named units' rosters."""
    rows, header = _table(data, filename)
    _need(header, ROSTER_COLUMNS)
    units = dict((await session.execute(select(KeyUnit.name, KeyUnit.id))).all())
    parsed, problems, seen = [], [], {}
    for line, r in rows:
        before = len(problems)
        unit_id = units.get(r.get("unit") or "")
        if unit_id is None:
            problems.append(_problem(line, "unit", f"没有名为“{r.get('unit', '')}”的重点单位",
                                     f"No key unit named {r.get('unit', '')!r}"))
        try:
            item = RosterEntryIn(phone=r.get("phone") or "", name=r.get("name") or "", role=r.get("role") or "")
        except ValidationError as e:
            problems.extend(_validation_problems(line, e))
            continue
        key = (unit_id, item.phone)
        if unit_id is not None and key in seen:
            problems.append(_problem(line, "phone", f"与第 {seen[key]} 行重复", f"Same unit and number as row {seen[key]}"))
        seen.setdefault(key, line)
        if len(problems) == before:
            parsed.append((line, unit_id, item))
    _refuse(problems, len(rows))
    existing = {(r.unit_id, r.phone): r for r in await session.scalars(
        select(RosterEntry).where(RosterEntry.unit_id.in_({u for _, u, _ in parsed})))}
    report = []
    for line, unit_id, item in parsed:
        r = existing.get((unit_id, item.phone))
        if r is None:
            session.add(RosterEntry(unit_id=unit_id, phone=item.phone, name=item.name, role=item.role))
        else:
            r.name, r.role = item.name, item.role
        report.append({"line": line, "ok": True, "action": "updated" if r else "added", "name": item.name})
    await session.flush()
    await audit(session, who, "keyunit.roster_import", "key_unit", None, {"rows": len(report), "file": filename[:100]})
    return {"imported": len(report), "rows": report}


async def roster_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(RosterEntry))
