// WGS-84 <-> GCJ-02, the same algorithm as baojing/geo.py. AMap tiles are
// drawn in GCJ-02; GPS positions drawn on them raw land hundreds of metres off.
// All functions take and return latitude first. Distances are in distance.js (the caller's page
// needs them without the datum code).
const A = 6378245, EE = 0.00669342162296594323, PI = Math.PI;
const { sin, sqrt, abs, cos } = Math;

// The coarse rectangle every GCJ-02 implementation uses (AMap compatibility).
export function outOfChina(lat, lon) {
  return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
}

function tLat(x, y) {
  return -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
    + (20 * sin(6 * x * PI) + 20 * sin(2 * x * PI)) * 2 / 3
    + (20 * sin(y * PI) + 40 * sin(y / 3 * PI)) * 2 / 3
    + (160 * sin(y / 12 * PI) + 320 * sin(y * PI / 30)) * 2 / 3;
}

function tLon(x, y) {
  return 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
    + (20 * sin(6 * x * PI) + 20 * sin(2 * x * PI)) * 2 / 3
    + (20 * sin(x * PI) + 40 * sin(x / 3 * PI)) * 2 / 3
    + (150 * sin(x / 12 * PI) + 300 * sin(x / 30 * PI)) * 2 / 3;
}

export function wgs84ToGcj02(lat, lon) {
  if (outOfChina(lat, lon)) return [lat, lon];
  const r = lat / 180 * PI, m = 1 - EE * sin(r) ** 2, sm = sqrt(m);
  return [
    lat + tLat(lon - 105, lat - 35) * 180 / (A * (1 - EE) / (m * sm) * PI),
    lon + tLon(lon - 105, lat - 35) * 180 / (A / sm * cos(r) * PI),
  ];
}

// No closed-form inverse: fixed-point iteration reaches millimetres quickly.
export function gcj02ToWgs84(lat, lon) {
  if (outOfChina(lat, lon)) return [lat, lon];
  let y = lat, x = lon;
  for (let i = 0; i < 30; i++) {
    const [gy, gx] = wgs84ToGcj02(y, x), dy = gy - lat, dx = gx - lon;
    y -= dy; x -= dx;
    if (abs(dy) < 1e-8 && abs(dx) < 1e-8) break;
  }
  return [y, x];
}
