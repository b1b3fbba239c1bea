// Links that open the phone's navigation app at a destination, one per app, in the order that
// suits the platform. Pure (no DOM, no globals): unit-tested with `node --test navlinks.test.mjs`.
//
// The destination comes in WGS-84 (every coordinate the server sends is WGS-84) and is converted
// to the datum each app expects:
//   AMap (高德)        GCJ-02  (coordinate=gaode)
//   Baidu (百度)       BD-09   (coord_type=bd09ll)
//   Apple Maps         GCJ-02  (Apple's map data in mainland China is GCJ-02)
//   geo: URI (Android) WGS-84  (the intent's own datum; the app converts if it needs to)
import { wgs84ToGcj02, outOfChina } from "../shared/geo.js";

const X_PI = (Math.PI * 3000) / 180;

// GCJ-02 -> BD-09 (Baidu's extra offset on top of GCJ-02). Latitude first, as in shared/geo.js.
export function gcj02ToBd09(lat, lon) {
  const x = lon, y = lat;
  const z = Math.sqrt(x * x + y * y) + 0.00002 * Math.sin(y * X_PI);
  const theta = Math.atan2(y, x) + 0.000003 * Math.cos(x * X_PI);
  return [z * Math.sin(theta) + 0.006, z * Math.cos(theta) + 0.0065];
}

// "ios" | "android" | "other" from a user agent string (and maxTouchPoints: iPadOS says "Macintosh").
export function detectPlatform(userAgent = "", maxTouchPoints = 0) {
  const ua = String(userAgent);
  if (/iPhone|iPad|iPod/i.test(ua) || (/Macintosh/.test(ua) && maxTouchPoints > 1)) return "ios";
  if (/Android|HarmonyOS|OpenHarmony/i.test(ua)) return "android";
  return "other";
}

const f6 = (n) => Number(n).toFixed(6);
// encodeURIComponent leaves !'()* alone; a ")" in a name would end the geo: label early.
const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * @param {number} lat WGS-84 latitude of the destination
 * @param {number} lon WGS-84 longitude of the destination
 * @param {string} label what the destination is called in the navigation app
 * @param {"ios"|"android"|"other"} platform
 * @returns {{app: string, label_zh: string, label_en: string, href: string}[]}
 */
export function navLinks(lat, lon, label, platform) {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return [];
  const name = String(label ?? "").trim() || "目的地";
  const nameQ = enc(name);
  const [glat, glon] = wgs84ToGcj02(lat, lon);
  // Baidu's own offset only exists on top of GCJ-02; outside China both are WGS-84.
  const [blat, blon] = outOfChina(lat, lon) ? [lat, lon] : gcj02ToBd09(glat, glon);

  const links = {
    apple: {
      app: "apple", label_zh: "苹果地图", label_en: "Apple Maps",
      href: `https://maps.apple.com/?daddr=${f6(glat)},${f6(glon)}&dirflg=d`,
    },
    amap: {
      app: "amap", label_zh: "高德地图", label_en: "AMap",
      href: `https://uri.amap.com/marker?position=${f6(glon)},${f6(glat)}&name=${nameQ}`
        + "&src=baojing&coordinate=gaode&callnative=1",
    },
    baidu: {
      app: "baidu", label_zh: "百度地图", label_en: "Baidu Maps",
      href: `baidumap://map/direction?destination=latlng:${f6(blat)},${f6(blon)}|name:${nameQ}`
        + "&coord_type=bd09ll&mode=driving&src=baojing",
    },
    geo: {
      app: "geo", label_zh: "手机导航", label_en: "Phone navigation",
      href: `geo:${f6(lat)},${f6(lon)}?q=${f6(lat)},${f6(lon)}(${nameQ})`,
    },
  };
  const order = platform === "ios" ? ["apple", "amap", "baidu"]
    : platform === "android" ? ["amap", "baidu", "geo"]
      : ["geo", "amap", "baidu"];
  return order.map((k) => links[k]);
}
