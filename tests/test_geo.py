import csv
import math
from pathlib import Path

import pytest

from baojing import geo

DATA = Path(__file__).parent / "data" / "datum-pairs.csv"


def _load_rows():
    with DATA.open(encoding="utf-8", newline="") as fh:
        rows = []
        for r in csv.DictReader(fh):
            rows.append(
                {
                    "place": r["place"],
                    "wgs84": (float(r["wgs84_lat"]), float(r["wgs84_lon"])),
                    "gcj02": (float(r["gcj02_lat"]), float(r["gcj02_lon"])),
                    "bd09": (float(r["bd09_lat"]), float(r["bd09_lon"])) if r["bd09_lat"] else None,
                }
            )
        return rows


ROWS = _load_rows()
BD09_ROWS = [r for r in ROWS if r["bd09"] is not None]


def _ids(rows):
    return [r["place"] for r in rows]


def test_the_datum_table_has_points_inside_and_outside_china():
    assert len(ROWS) >= 20
    assert any(geo.out_of_china(*r["wgs84"]) for r in ROWS)
    assert sum(not geo.out_of_china(*r["wgs84"]) for r in ROWS) >= 20


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_it_converts_wgs84_to_gcj02_within_a_millionth_of_a_degree(row):
    lat, lon = geo.wgs84_to_gcj02(*row["wgs84"])
    assert lat == pytest.approx(row["gcj02"][0], abs=1e-6)
    assert lon == pytest.approx(row["gcj02"][1], abs=1e-6)


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_it_converts_gcj02_back_to_wgs84_within_one_metre(row):
    lat, lon = geo.gcj02_to_wgs84(*row["gcj02"])
    assert geo.distance_m(lat, lon, *row["wgs84"]) < 1.0


@pytest.mark.parametrize("row", BD09_ROWS, ids=_ids(BD09_ROWS))
def test_it_converts_wgs84_to_bd09_within_a_millionth_of_a_degree(row):
    lat, lon = geo.wgs84_to_bd09(*row["wgs84"])
    assert lat == pytest.approx(row["bd09"][0], abs=1e-6)
    assert lon == pytest.approx(row["bd09"][1], abs=1e-6)


@pytest.mark.parametrize("row", BD09_ROWS, ids=_ids(BD09_ROWS))
def test_it_converts_bd09_back_to_wgs84_within_one_metre(row):
    lat, lon = geo.bd09_to_wgs84(*row["bd09"])
    assert geo.distance_m(lat, lon, *row["wgs84"]) < 1.0


@pytest.mark.parametrize("row", BD09_ROWS, ids=_ids(BD09_ROWS))
def test_it_converts_between_gcj02_and_bd09_both_ways(row):
    lat, lon = geo.gcj02_to_bd09(*row["gcj02"])
    assert geo.distance_m(lat, lon, *row["bd09"]) < 1.0
    lat, lon = geo.bd09_to_gcj02(*row["bd09"])
    assert geo.distance_m(lat, lon, *row["gcj02"]) < 1.0


def test_it_leaves_points_outside_china_unchanged_in_gcj02():
    paris = (48.8566, 2.3522)
    assert geo.out_of_china(*paris)
    assert geo.wgs84_to_gcj02(*paris) == paris
    assert geo.gcj02_to_wgs84(*paris) == paris


@pytest.mark.parametrize(
    ("lat", "lon", "outside"),
    [
        (41.576, 120.41, False),  # Chaoyang
        (39.9087, 116.3975, False),  # Beijing
        (48.8566, 2.3522, True),  # Paris
        (35.0, 139.7, True),  # Tokyo, east of the rectangle
        (-33.9, 151.2, True),  # Sydney, south of it
        (60.0, 100.0, True),  # Siberia, north of it
    ],
)
def test_it_tells_whether_a_point_is_out_of_china(lat, lon, outside):
    assert geo.out_of_china(lat, lon) is outside


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
@pytest.mark.parametrize("row", BD09_ROWS[:3], ids=_ids(BD09_ROWS[:3]))
def test_it_dispatches_to_and_from_wgs84_by_crs_name(row, crs):
    wgs = row["wgs84"]
    expected = row[crs]
    lat, lon = geo.from_wgs84(*wgs, crs)
    assert lat == pytest.approx(expected[0], abs=1e-6)
    assert lon == pytest.approx(expected[1], abs=1e-6)
    back = geo.to_wgs84(*expected, crs)
    assert geo.distance_m(*back, *wgs) < 1.0


def test_it_returns_wgs84_input_unchanged_for_wgs84_crs():
    assert geo.to_wgs84(41.576, 120.41, "wgs84") == (41.576, 120.41)
    assert geo.from_wgs84(41.576, 120.41, "wgs84") == (41.576, 120.41)


@pytest.mark.parametrize("crs", ["WGS-84", "epsg:4326", "", "GCJ02", None])
def test_it_rejects_an_unknown_crs(crs):
    with pytest.raises(ValueError):
        geo.to_wgs84(41.576, 120.41, crs)
    with pytest.raises(ValueError):
        geo.from_wgs84(41.576, 120.41, crs)


def test_it_measures_one_degree_of_latitude_as_about_111_195_metres():
    expected = 2 * math.pi * 6371008.8 / 360  # 111 195.08 m
    assert geo.distance_m(41.0, 120.0, 42.0, 120.0) == pytest.approx(expected, abs=1e-6)
    assert geo.distance_m(41.0, 120.0, 42.0, 120.0) == pytest.approx(111195, abs=1.0)


def test_it_measures_longcheng_to_shuangta_centres_as_about_3_8_km():
    d = geo.distance_m(41.576, 120.41, 41.566, 120.454)
    assert d == pytest.approx(3825.5, abs=1.0)


def test_it_measures_zero_distance_and_is_symmetric():
    assert geo.distance_m(41.576, 120.41, 41.576, 120.41) == 0.0
    a = geo.distance_m(39.9087, 116.3975, 31.24, 121.49)
    b = geo.distance_m(31.24, 121.49, 39.9087, 116.3975)
    assert a == pytest.approx(b)
    assert a == pytest.approx(1_067_000, rel=0.01)  # Beijing-Shanghai, ~1 067 km


SQUARE = [(41.0, 120.0), (41.0, 121.0), (42.0, 121.0), (42.0, 120.0)]
# A "U" opening to the north: the notch between the arms is outside.
U_SHAPE = [
    (41.0, 120.0),
    (41.0, 123.0),
    (44.0, 123.0),
    (44.0, 122.0),
    (42.0, 122.0),
    (42.0, 121.0),
    (44.0, 121.0),
    (44.0, 120.0),
]


def test_it_finds_a_point_inside_a_polygon():
    assert geo.point_in_polygon(41.5, 120.5, SQUARE)


def test_it_finds_a_point_outside_a_polygon():
    assert not geo.point_in_polygon(43.0, 120.5, SQUARE)
    assert not geo.point_in_polygon(41.5, 119.5, SQUARE)
    assert not geo.point_in_polygon(41.5, 121.5, SQUARE)


def test_it_accepts_a_ring_that_repeats_its_first_point():
    closed = SQUARE + [SQUARE[0]]
    assert geo.point_in_polygon(41.5, 120.5, closed)
    assert not geo.point_in_polygon(43.0, 120.5, closed)


def test_it_handles_a_concave_polygon():
    assert geo.point_in_polygon(43.0, 120.5, U_SHAPE)  # west arm
    assert geo.point_in_polygon(43.0, 122.5, U_SHAPE)  # east arm
    assert geo.point_in_polygon(41.5, 121.5, U_SHAPE)  # base
    assert not geo.point_in_polygon(43.0, 121.5, U_SHAPE)  # the notch
    # A ray from the notch's latitude passing through both arms crosses an even number of edges.
    assert not geo.point_in_polygon(43.0, 119.5, U_SHAPE)


def test_it_counts_a_ray_through_a_vertex_only_once():
    diamond = [(41.0, 120.0), (42.0, 121.0), (41.0, 122.0), (40.0, 121.0)]
    assert geo.point_in_polygon(41.0, 120.5, diamond)
    assert not geo.point_in_polygon(41.0, 119.5, diamond)
    assert not geo.point_in_polygon(41.0, 122.5, diamond)
