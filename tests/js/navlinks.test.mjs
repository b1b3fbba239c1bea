// node --test tests/js/navlinks.test.mjs (the officer page's navigation links)
// Datum of every navigation link, checked against a known pair:
// WGS-84 41.576,120.41 -> GCJ-02 41.5783373,120.4157703 -> BD-09 41.5839854,120.4223936.
import test from "node:test";
import assert from "node:assert/strict";
import { navLinks, gcj02ToBd09, detectPlatform } from "../../baojing/web/officer/navlinks.js";
import { datumPairs } from "./datum-pairs.mjs";

const WGS = [41.576, 120.41];
const GCJ = [41.5783373, 120.4157703];
const BD = [41.5839854, 120.4223936];
const TOL = 1e-5;

function near(actual, expected, what) {
  assert.ok(Math.abs(actual - expected) < TOL, `${what}: ${actual} is not within ${TOL} of ${expected}`);
}

const byApp = (links) => Object.fromEntries(links.map((l) => [l.app, l]));

test("gcj02ToBd09 matches the known pair", () => {
  const [lat, lon] = gcj02ToBd09(GCJ[0], GCJ[1]);
  near(lat, BD[0], "bd lat");
  near(lon, BD[1], "bd lon");
});

test("order per platform", () => {
  assert.deepEqual(navLinks(...WGS, "x", "ios").map((l) => l.app), ["apple", "amap", "baidu"]);
  assert.deepEqual(navLinks(...WGS, "x", "android").map((l) => l.app), ["amap", "baidu", "geo"]);
  assert.deepEqual(navLinks(...WGS, "x", "other").map((l) => l.app), ["geo", "amap", "baidu"]);
  assert.deepEqual(navLinks(...WGS, "x", undefined).map((l) => l.app), ["geo", "amap", "baidu"]);
});

test("every link has both labels and an href", () => {
  for (const p of ["ios", "android", "other"]) {
    for (const l of navLinks(...WGS, "报警人", p)) {
      assert.ok(l.label_zh && l.label_en && l.href, JSON.stringify(l));
    }
  }
});

test("AMap gets GCJ-02, longitude first", () => {
  const { amap } = byApp(navLinks(...WGS, "报警人 #5", "android"));
  const u = new URL(amap.href);
  assert.equal(u.origin + u.pathname, "https://uri.amap.com/marker");
  const [lon, lat] = u.searchParams.get("position").split(",").map(Number);
  near(lat, GCJ[0], "amap lat");
  near(lon, GCJ[1], "amap lon");
  assert.equal(u.searchParams.get("coordinate"), "gaode");
  assert.equal(u.searchParams.get("callnative"), "1");
  assert.equal(u.searchParams.get("name"), "报警人 #5");
});

test("Baidu gets BD-09 with coord_type bd09ll", () => {
  const { baidu } = byApp(navLinks(...WGS, "报警人", "android"));
  assert.ok(baidu.href.startsWith("baidumap://map/direction?"), baidu.href);
  const m = /destination=latlng:([-\d.]+),([-\d.]+)\|name:([^&]*)/.exec(baidu.href);
  assert.ok(m, baidu.href);
  near(Number(m[1]), BD[0], "baidu lat");
  near(Number(m[2]), BD[1], "baidu lon");
  assert.equal(decodeURIComponent(m[3]), "报警人");
  const q = new URLSearchParams(baidu.href.split("?")[1]);
  assert.equal(q.get("coord_type"), "bd09ll");
  assert.equal(q.get("mode"), "driving");
  assert.equal(q.get("src"), "baojing");
});

test("Apple Maps gets GCJ-02 (its China data is GCJ-02)", () => {
  const { apple } = byApp(navLinks(...WGS, "报警人", "ios"));
  const u = new URL(apple.href);
  assert.equal(u.host, "maps.apple.com");
  const [lat, lon] = u.searchParams.get("daddr").split(",").map(Number);
  near(lat, GCJ[0], "apple lat");
  near(lon, GCJ[1], "apple lon");
  assert.equal(u.searchParams.get("dirflg"), "d");
});

test("geo: URI gets WGS-84 and the label", () => {
  const { geo } = byApp(navLinks(...WGS, "报警人 (张三)", "other"));
  const m = /^geo:([-\d.]+),([-\d.]+)\?q=([-\d.]+),([-\d.]+)\((.*)\)$/.exec(geo.href);
  assert.ok(m, geo.href);
  for (const i of [1, 3]) near(Number(m[i]), WGS[0], "geo lat");
  for (const i of [2, 4]) near(Number(m[i]), WGS[1], "geo lon");
  assert.equal(decodeURIComponent(m[5]), "报警人 (张三)");
  assert.ok(!/[()]/.test(m[5]), "brackets in the label are escaped");
});

test("labels cannot break out of their parameter", () => {
  const links = byApp(navLinks(...WGS, "a&b=c|name:x#y", "android"));
  assert.equal(new URL(links.amap.href).searchParams.get("name"), "a&b=c|name:x#y");
  assert.ok(!links.baidu.href.includes("a&b"), links.baidu.href);
  assert.ok(!links.geo.href.includes("#"), links.geo.href);
});

test("outside China every app gets the plain coordinates", () => {
  const links = byApp(navLinks(48.8584, 2.2945, "Paris", "ios"));
  assert.ok(links.apple.href.includes("daddr=48.858400,2.294500"), links.apple.href);
  assert.ok(links.baidu.href.includes("latlng:48.858400,2.294500"), links.baidu.href);
});

test("no position, no links", () => {
  assert.deepEqual(navLinks(null, undefined, "x", "ios"), []);
  assert.deepEqual(navLinks(NaN, 120, "x", "android"), []);
});

test("platform detection", () => {
  assert.equal(detectPlatform("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"), "ios");
  assert.equal(detectPlatform("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", 5), "ios");
  assert.equal(detectPlatform("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", 0), "other");
  assert.equal(detectPlatform("Mozilla/5.0 (Linux; Android 14; Pixel 8)"), "android");
  assert.equal(detectPlatform("Mozilla/5.0 (X11; Linux x86_64)"), "other");
});

// The project's reference pairs (tests/data/datum-pairs.csv, also used by tests/test_geo.py).
test("every link's datum against tests/data/datum-pairs.csv", () => {
  const rows = datumPairs()
    .map((r) => [r.wgs.lat, r.wgs.lon, r.gcj.lat, r.gcj.lon, r.bd ? r.bd.lat : null, r.bd ? r.bd.lon : null]);
  assert.ok(rows.length >= 10);
  let bdChecked = 0;
  for (const [wlat, wlon, glat, glon, blat, blon] of rows) {
    const links = byApp([...navLinks(wlat, wlon, "x", "ios"), ...navLinks(wlat, wlon, "x", "other")]);
    const [alat, alon] = new URL(links.apple.href).searchParams.get("daddr").split(",").map(Number);
    near(alat, glat, `apple lat ${wlat},${wlon}`);
    near(alon, glon, `apple lon ${wlat},${wlon}`);
    const [mlon, mlat] = new URL(links.amap.href).searchParams.get("position").split(",").map(Number);
    near(mlat, glat, `amap lat ${wlat},${wlon}`);
    near(mlon, glon, `amap lon ${wlat},${wlon}`);
    if (blat !== null) {
      const m = /latlng:([-\d.]+),([-\d.]+)/.exec(links.baidu.href);
      near(Number(m[1]), blat, `baidu lat ${wlat},${wlon}`);
      near(Number(m[2]), blon, `baidu lon ${wlat},${wlon}`);
      bdChecked += 1;
    }
  }
  assert.ok(bdChecked >= 5, `only ${bdChecked} BD-09 pairs checked`);
});
