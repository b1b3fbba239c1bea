// The geo modules of every page (baojing/web/shared/geo.js, distance.js) against the datum pairs that
// tests/test_geo.py checks the server's baojing/geo.py with.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gcj02ToWgs84, outOfChina, wgs84ToGcj02 } from "../../baojing/web/shared/geo.js";
import { distanceM } from "../../baojing/web/shared/distance.js";
import { datumPairs } from "./datum-pairs.mjs";

const ROWS = datumPairs();

test("the table has at least 20 points inside China and some outside", () => {
  assert.ok(ROWS.filter((r) => !outOfChina(r.wgs.lat, r.wgs.lon)).length >= 20);
  assert.ok(ROWS.some((r) => outOfChina(r.wgs.lat, r.wgs.lon)));
});

for (const r of ROWS) {
  test(`WGS-84 -> GCJ-02 within a millionth of a degree, and back within a metre: ${r.place}`, () => {
    const [lat, lon] = wgs84ToGcj02(r.wgs.lat, r.wgs.lon);
    assert.ok(Math.abs(lat - r.gcj.lat) < 1e-6 && Math.abs(lon - r.gcj.lon) < 1e-6, `${lat},${lon}`);
    const [blat, blon] = gcj02ToWgs84(r.gcj.lat, r.gcj.lon);
    assert.ok(distanceM({ lat: blat, lon: blon }, r.wgs) < 1.0);
  });
}

test("the datum shift in Chaoyang is the 300-600 m the pages must correct", () => {
  const centre = ROWS.find((r) => r.place.startsWith("Chaoyang, Longcheng"));
  const shift = distanceM(centre.wgs, centre.gcj);
  assert.ok(shift > 300 && shift < 700, String(shift));
});

// The same figures as tests/test_geo.py asserts for baojing/geo.py distance_m: one formula.
test("distances agree with the server's haversine", () => {
  assert.ok(Math.abs(distanceM({ lat: 41, lon: 120 }, { lat: 42, lon: 120 }) - (2 * Math.PI * 6371008.8) / 360) < 1e-6);
  assert.ok(Math.abs(distanceM({ lat: 41.576, lon: 120.41 }, { lat: 41.566, lon: 120.454 }) - 3825.479163777738) < 1e-6);
  assert.ok(Math.abs(distanceM({ lat: 39.9087, lon: 116.3975 }, { lat: 31.24, lon: 121.49 }) - 1067796.9217862668) < 1e-4);
  assert.equal(distanceM({ lat: 41.576, lon: 120.41 }, { lat: 41.576, lon: 120.41 }), 0);
  assert.ok(distanceM({ lat: 0, lon: 0 }, { lat: 0, lon: 180 }) > 2e7); // antipodes: no NaN
});
