"""The registry: units by hand, CSV and XLSX import with a row-by-row report (all or nothing),
floor plans and photos."""
from __future__ import annotations

import io

from openpyxl import Workbook
from sqlalchemy import func, select

from baojing.keyunits.models import KeyUnit, RosterEntry

HEADER = ["name", "kind", "address", "lat", "lon", "station_code", "boundary", "opening_hours", "contacts"]


def xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def count(app, model) -> int:
    async with app.state.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model))


async def test_a_unit_takes_the_station_of_its_position_unless_one_is_chosen(staff):
    admin = await staff("admin")
    r = await admin.post("/api/keyunits", json={"name": "测试超市", "kind": "market", "address": "双塔区 1 号",
                                                "lat": 41.571, "lon": 120.455,
                                                "boundary": [[41.570, 120.454], [41.570, 120.456], [41.572, 120.456], [41.570, 120.454]],
                                                "contacts": [{"name": "甲", "phone": "139 0000 1111"}]})
    assert r.status_code == 201, r.text
    u = r.json()
    assert u["station_name_zh"] == "双塔区站前派出所（演示）" and not u["station_overridden"]
    assert u["boundary"] == [[41.570, 120.454], [41.570, 120.456], [41.572, 120.456]], "stored open"
    assert u["contacts"][0]["phone"] == "13900001111"
    other = next(s for s in (await admin.get("/api/config")).json()["stations"] if s["code"] == "lc-west")
    r = await admin.put(f"/api/keyunits/{u['id']}", json={"name": "测试超市", "kind": "market", "address": "双塔区 1 号",
                                                         "lat": 41.571, "lon": 120.455, "station_id": other["id"]})
    assert r.json()["station_id"] == other["id"] and r.json()["station_overridden"]
    r = await admin.post("/api/keyunits", json={"name": "测试超市", "kind": "market", "address": "x", "lat": 41, "lon": 120})
    assert r.status_code == 409 and r.json()["code"] == "duplicate_name"
    r = await admin.post("/api/keyunits", json={"name": "坏", "kind": "casino", "address": "x", "lat": 41, "lon": 120})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"


async def test_units_import_from_xlsx_with_a_report(app, staff):
    admin = await staff("admin")
    data = xlsx([HEADER,
                 ["新华小学", "学校", "双塔区新华路 3 号", 41.573, 120.451, "", "", "07:30–17:00", "王五 13900005555 门卫"],
                 ["建设银行龙城支行", "bank", "龙城区 9 号", 41.578, 120.405, "lc-center", "41.577 120.404; 41.577 120.406; 41.579 120.406", "", ""]])
    r = await admin.post("/api/keyunits/import", files={"file": ("units.xlsx", data)})
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 2 and [row["line"] for row in r.json()["rows"]] == [2, 3]
    units = {u["name"]: u for u in (await admin.get("/api/keyunits")).json()["units"]}
    assert units["新华小学"]["kind"] == "school" and units["新华小学"]["contacts"][0]["title"] == "门卫"
    assert len(units["建设银行龙城支行"]["boundary"]) == 3


async def test_a_file_with_any_bad_row_imports_nothing_and_names_every_bad_row(app, staff):
    admin = await staff("admin")
    before = await count(app, KeyUnit)
    csv = ("name,kind,address,lat,lon,station_code\n"
           "好单位,school,双塔区 1 号,41.57,120.45,\n"
           "坏类型,casino,双塔区 2 号,41.57,120.45,\n"
           "坏坐标,bank,双塔区 3 号,abc,120.45,\n"
           "坏派出所,bank,双塔区 4 号,41.57,120.45,nowhere\n"
           "好单位,market,双塔区 5 号,41.57,120.45,\n").encode()
    r = await admin.post("/api/keyunits/import", files={"file": ("units.csv", csv)})
    assert r.status_code == 422 and r.json()["code"] == "import_invalid"
    body = r.json()
    assert sorted({e["line"] for e in body["errors"]}) == [3, 4, 5, 6]
    assert all(e["message_zh"] and e["message_en"] for e in body["errors"])
    fields = {(e["line"], e["field"]) for e in body["errors"]}
    assert {(3, "kind"), (4, "lat"), (5, "station_code"), (6, "name")} <= fields
    assert "未导入任何内容" in body["message_zh"] and "nothing was imported" in body["message_en"]
    assert await count(app, KeyUnit) == before


async def test_a_file_that_is_not_an_xlsx_is_refused_in_both_languages(app, staff):
    admin = await staff("admin")
    r = await admin.post("/api/keyunits/import", files={"file": ("units.xlsx", b"PK\x03\x04 this is not a workbook")})
    assert r.status_code == 422 and r.json()["code"] == "not_xlsx"
    assert r.json()["message_zh"] and r.json()["message_en"]
    r = await admin.post("/api/keyunits/roster/import", files={"file": ("roster.xlsx", b"hello")})
    assert r.status_code == 422 and r.json()["code"] == "not_xlsx"


async def test_rosters_import_all_or_nothing(app, staff):
    admin = await staff("admin")
    before = await count(app, RosterEntry)
    good = xlsx([["unit", "phone", "name", "role"],
                 ["工商银行双塔支行（演示）", "13900007777", "新柜员", "柜员"],
                 ["朝阳市第一中学（演示）", "139-0000-8888", "新老师", "班主任"]])
    r = await admin.post("/api/keyunits/roster/import", files={"file": ("roster.xlsx", good)})
    assert r.status_code == 200 and r.json()["imported"] == 2, r.text
    bad = ("unit,phone,name,role\n"
           "工商银行双塔支行（演示）,13900006666,甲,柜员\n"
           "不存在的单位,13900006667,乙,柜员\n"
           "工商银行双塔支行（演示）,12345,丙,柜员\n").encode()
    r = await admin.post("/api/keyunits/roster/import", files={"file": ("roster.csv", bad)})
    assert r.status_code == 422 and sorted({e["line"] for e in r.json()["errors"]}) == [3, 4]
    assert await count(app, RosterEntry) == before + 2


async def test_floor_plans_and_photos_are_stored_and_shown_to_consoles_but_not_other_files(app, staff):
    admin = await staff("admin")
    unit = (await admin.get("/api/keyunits")).json()["units"][0]
    pdf = b"%PDF-1.4\n" + b"1 0 obj\n" * 10
    r = await admin.post(f"/api/keyunits/{unit['id']}/files", data={"kind": "floor_plan"},
                         files={"file": ("plan.pdf", pdf, "application/pdf")})
    assert r.status_code == 201, r.text
    (f,) = r.json()["files"]
    assert f["mime"] == "application/pdf" and f["kind"] == "floor_plan"
    desk = await staff("calltaker")
    got = await desk.get(f["url"])
    assert got.status_code == 200 and got.content == pdf
    r = await admin.post(f"/api/keyunits/{unit['id']}/files", data={"kind": "photo"},
                         files={"file": ("x.exe", b"MZ\x90\x00", "image/png")})
    assert r.status_code == 422 and r.json()["code"] == "bad_file_type"
    assert (await (await staff("officer")).get(f["url"])).status_code == 403
