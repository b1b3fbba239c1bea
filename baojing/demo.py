"""Demo data: Chaoyang City (Liaoning), its two pilot districts, a few stations, one account per
role. Outlines are rough sketches for the demo map, marked approximate; station names are
invented. Running it twice changes nothing."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .auth import roles
from .auth import service as auth
from .auth.models import User
from .db import utcnow
from .dispatch.models import CAR, FOOT, MOTORBIKE, District, Station, Unit, UnitMember
from .keyunits import members as keyunit_members
from .keyunits.models import KeyUnit, RosterEntry

DEMO_PASSWORD = "baojing110"

DISTRICTS = [
    ("longcheng", "龙城区", "Longcheng District",
     [(41.66, 120.22), (41.665, 120.36), (41.63, 120.437), (41.57, 120.437), (41.52, 120.43),
      (41.46, 120.38), (41.47, 120.25)]),
    ("shuangta", "双塔区", "Shuangta District",
     [(41.63, 120.437), (41.70, 120.47), (41.72, 120.58), (41.64, 120.63), (41.54, 120.57),
      (41.52, 120.43), (41.57, 120.437)]),
]
STATIONS = [
    ("lc-center", "龙城区城区派出所（演示）", "Longcheng Central Station (demo)", "longcheng", 41.5772, 120.4035,
     [(41.66, 120.33), (41.665, 120.36), (41.63, 120.437), (41.57, 120.437), (41.52, 120.43), (41.46, 120.38),
      (41.465, 120.33)]),
    ("lc-west", "龙城区西郊派出所（演示）", "Longcheng West Station (demo)", "longcheng", 41.5650, 120.3000,
     [(41.66, 120.22), (41.66, 120.33), (41.465, 120.33), (41.47, 120.25)]),
    ("st-station", "双塔区站前派出所（演示）", "Shuangta Station Square Station (demo)", "shuangta", 41.5705, 120.4508,
     [(41.585, 120.437), (41.585, 120.60), (41.54, 120.57), (41.52, 120.43), (41.57, 120.437)]),
    ("st-north", "双塔区凌河派出所（演示）", "Shuangta Linghe Station (demo)", "shuangta", 41.6000, 120.4800,
     [(41.63, 120.437), (41.70, 120.47), (41.72, 120.58), (41.64, 120.63), (41.585, 120.60), (41.585, 120.437)]),
]
USERS = [
    ("calltaker", "接警员 王丽", roles.CALL_TAKER, "st-station"),
    ("calltaker2", "接警员 刘洋", roles.CALL_TAKER, "lc-center"),
    ("dispatcher", "指挥长 赵强", roles.DISPATCHER, None),
    ("officer", "民警 李明", roles.OFFICER, "st-station"),
    ("officer2", "民警 孙伟", roles.OFFICER, "st-station"),
    ("officer3", "民警 周杰", roles.OFFICER, "lc-center"),
    ("officer4", "民警 吴刚", roles.OFFICER, "st-north"),
    ("traffic", "交警 陈刚", roles.TRAFFIC_OFFICER, None),
    ("keyunit", "朝阳一中 保卫处 张老师", roles.KEYUNIT_MEMBER, None),
    ("admin", "系统管理员", roles.ADMIN, None),
]
# call sign, kind, station, officers
UNITS = [
    ("双塔21", CAR, "st-station", ["officer"]),
    ("双塔22", MOTORBIKE, "st-station", ["officer2"]),
    ("龙城11", CAR, "lc-center", ["officer3"]),
    ("双塔31", CAR, "st-north", ["officer4"]),
    ("龙城12", FOOT, "lc-center", []),
    ("龙城21", CAR, "lc-west", []),
]
# Streets of the demo city, (name, [(lat, lon), ...]) in WGS-84, sketched by hand like the outlines.
STREETS = {
    "朝阳大街": [(41.5760, 120.3700), (41.5765, 120.3950), (41.5772, 120.4200), (41.5770, 120.4450),
             (41.5765, 120.4700)],
    "友谊大街": [(41.5850, 120.3800), (41.5848, 120.4100), (41.5845, 120.4400), (41.5840, 120.4650)],
    "新华路": [(41.5550, 120.4430), (41.5650, 120.4440), (41.5760, 120.4450), (41.5900, 120.4460),
            (41.6050, 120.4480)],
    "龙山街": [(41.5600, 120.3900), (41.5700, 120.3920), (41.5800, 120.3950), (41.5950, 120.3980)],
}
# Units with no officer of their own that `baojing demo` leaves on duty, each on a street of the
# demo city (simulate.py drives them there), so "dispatch nearest" has units to offer at once.
PATROLS = {"龙城12": "龙山街", "龙城21": "朝阳大街"}

# Key units: name, type, address, position, small boundary half-width (degrees), opening hours,
# security contacts, roster (phone, name, role). The `keyunit` login is 13900000001's account.
KEYUNIT_PHONE = "13900000001"
KEY_UNITS = [
    ("朝阳市第一中学（演示）", "school", "双塔区新华路一段 88 号", 41.5745, 120.4525, 0.0012, "周一至周五 07:00–18:00",
     [("王建国", "13900000091", "保卫处处长")],
     [(KEYUNIT_PHONE, "张老师", "保卫处干事"), ("13900000003", "李校长", "校长")]),
    ("工商银行双塔支行（演示）", "bank", "双塔区朝阳大街三段 12 号", 41.5712, 120.4598, 0.0004, "每日 09:00–17:00",
     [("赵经理", "13900000092", "安保主管")],
     [("13900000002", "刘柜员", "大堂经理"), (KEYUNIT_PHONE, "张老师", "联络员")]),
    ("龙城区实验幼儿园（演示）", "kindergarten", "龙城区西大营子路 5 号", 41.5775, 120.4110, 0.0006,
     "周一至周五 07:30–17:30", [("孙园长", "13900000093", "园长")], [("13900000004", "孙园长", "园长")]),
    ("朝阳市中心医院（演示）", "hospital", "双塔区凌河街 2 号", 41.6010, 120.4880, 0.0015, "全天 24 小时",
     [("周主任", "13900000094", "保卫科主任")], [("13900000005", "周主任", "保卫科主任")]),
]


async def seed_key_units(session: AsyncSession, users: dict) -> None:
    from .dispatch.repository import station_for

    existing = {u.name: u for u in await session.scalars(select(KeyUnit))}
    for name, kind, address, lat, lon, half, hours, contacts, roster in KEY_UNITS:
        if name in existing:
            continue
        unit = KeyUnit(name=name, kind=kind, address=address, lat=lat, lon=lon,
                       boundary=[[lat - half, lon - half], [lat - half, lon + half], [lat + half, lon + half],
                                 [lat + half, lon - half]],
                       station_id=await station_for(session, lat, lon), opening_hours=hours,
                       contacts=[{"name": n, "phone": p, "title": t} for n, p, t in contacts])
        session.add(unit)
        await session.flush()
        for phone, person, role in roster:
            session.add(RosterEntry(unit_id=unit.id, phone=phone, name=person, role=role))
    await session.flush()
    await keyunit_members.link_account(session, users["keyunit"].id, KEYUNIT_PHONE)


async def seed(session: AsyncSession, patrols: bool = False) -> list[tuple[str, str, str]]:
    districts = {d.code: d for d in await session.scalars(select(District))}
    for code, zh, en, outline in DISTRICTS:
        if code not in districts:
            districts[code] = District(code=code, name_zh=zh, name_en=en, outline=[list(p) for p in outline],
                                       approximate=True)
            session.add(districts[code])
    await session.flush()
    stations = {s.code: s for s in await session.scalars(select(Station))}
    for code, zh, en, district, lat, lon, ring in STATIONS:
        if code not in stations:
            stations[code] = Station(code=code, name_zh=zh, name_en=en, district_id=districts[district].id,
                                     lat=lat, lon=lon)
            session.add(stations[code])
        stations[code].jurisdiction = stations[code].jurisdiction or [list(p) for p in ring]
    await session.flush()
    users = {u.username: u for u in await session.scalars(select(User))}
    for username, name, role, station in USERS:
        if username not in users:
            users[username] = await auth.create_user(session, username, DEMO_PASSWORD, role, name,
                                                     stations[station].id if station else None)
    existing_units = set(await session.scalars(select(Unit.call_sign)))
    for call_sign, kind, station, members in UNITS:
        if call_sign not in existing_units:
            unit = Unit(call_sign=call_sign, kind=kind, station_id=stations[station].id)
            session.add(unit)
            await session.flush()
            for m in members:
                session.add(UnitMember(user_id=users[m].id, unit_id=unit.id))
    await session.flush()
    if patrols:
        for unit in await session.scalars(select(Unit).where(Unit.call_sign.in_(list(PATROLS)))):
            unit.on_duty = True
            unit.lat, unit.lon = STREETS[PATROLS[unit.call_sign]][0]
            unit.accuracy_m, unit.position_at = 8.0, utcnow()
        await session.flush()
    await seed_key_units(session, users)
    return [(u, DEMO_PASSWORD, r) for u, _, r, _ in USERS]
