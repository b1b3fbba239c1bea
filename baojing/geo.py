"""Datum conversions between WGS-84, GCJ-02 and BD-09, plus small geometry helpers.

Phones report WGS-84 (GPS), AMap/Tencent tiles are drawn in GCJ-02 and Baidu in
BD-09, so every position crossing that boundary must be converted or it lands
hundreds of metres off. Everything is ``(lat, lon)`` in degrees, latitude first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# GCJ-02 is defined on the Krasovsky 1940 ellipsoid, not on WGS-84's.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# Mean earth radius (IUGG); haversine error against the ellipsoid is ~0.5 %,
# which is fine for dispatch distances.
EARTH_RADIUS_M = 6371008.8

# Iterative inverses stop once a step moves less than this (~1 mm).
_INVERSE_TOLERANCE_DEG = 1e-8
_INVERSE_MAX_STEPS = 30

CRS_NAMES = ("wgs84", "gcj02", "bd09")


def out_of_china(lat: float, lon: float) -> bool:
    # The same coarse rectangle every public GCJ-02 implementation uses; being
    # "compatible" with AMap matters more than following the real border.
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    # The obfuscation polynomials are expressed relative to (105E, 35N).
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + dlat, lon + dlon


def _invert(forward, lat: float, lon: float) -> tuple[float, float]:
    # Neither offset has a closed-form inverse; the shift varies slowly, so a
    # fixed-point iteration converges to millimetres in a handful of steps.
    guess_lat, guess_lon = lat, lon
    for _ in range(_INVERSE_MAX_STEPS):
        fwd_lat, fwd_lon = forward(guess_lat, guess_lon)
        err_lat, err_lon = fwd_lat - lat, fwd_lon - lon
        guess_lat -= err_lat
        guess_lon -= err_lon
        if abs(err_lat) < _INVERSE_TOLERANCE_DEG and abs(err_lon) < _INVERSE_TOLERANCE_DEG:
            break
    return guess_lat, guess_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    if out_of_china(lat, lon):
        return lat, lon
    return _invert(wgs84_to_gcj02, lat, lon)


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    # Baidu's published closed-form inverse is only good to about a metre;
    # iterating on the exact forward keeps the round trip well inside that.
    return _invert(gcj02_to_bd09, lat, lon)


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


_TO_WGS84 = {
    "wgs84": lambda lat, lon: (lat, lon),
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84 = {
    "wgs84": lambda lat, lon: (lat, lon),
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def _lookup(table: dict, crs: str):
    try:
        return table[crs]
    except (KeyError, TypeError):
        raise ValueError(f"unknown coordinate system {crs!r}; expected one of {', '.join(CRS_NAMES)}") from None


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    return _lookup(_TO_WGS84, crs)(lat, lon)


def from_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    return _lookup(_FROM_WGS84, crs)(lat, lon)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    # min() guards asin against rounding just above 1 for antipodal points.
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def point_in_polygon(lat: float, lon: float, ring: Sequence[tuple[float, float]]) -> bool:
    # Planar ray casting is adequate for district-sized jurisdiction polygons
    # that do not cross the antimeridian. The wrap-around pair (last, first)
    # makes an explicitly closed ring harmless: it adds a zero-length edge.
    inside = False
    n = len(ring)
    for i in range(n):
        lat_a, lon_a = ring[i - 1]
        lat_b, lon_b = ring[i]
        # Half-open test (> on one end only) so a ray through a vertex counts once.
        if (lat_a > lat) != (lat_b > lat):
            crossing_lon = lon_a + (lat - lat_a) * (lon_b - lon_a) / (lat_b - lat_a)
            if lon < crossing_lon:
                inside = not inside
    return inside
