// Pure helpers for the administration page: jurisdiction text, CSV import problems, CSV export.
// No DOM here (runs under node too).

// ---- jurisdiction text "lat lon; lat lon; ..." -------------------------------------------------
// Pairs are separated by ";" or new lines; inside a pair the numbers by spaces or a comma.
// Returns {points: [[lat, lon], ...]} or {error: {key, i, p}} (i is 1-based).
export function parseRing(text) {
  const parts = String(text || "").split(/[;\n；]+/).map((s) => s.trim()).filter(Boolean);
  const points = [];
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    const nums = p.split(/[\s,，]+/).filter(Boolean);
    const vals = nums.map(Number);
    if (vals.length !== 2 || !vals.every(Number.isFinite)) return { error: { key: "j_bad_pair", i: k + 1, p } };
    const [lat, lon] = vals;
    if (Math.abs(lat) > 90 && Math.abs(lon) <= 90) return { error: { key: "j_swapped", i: k + 1, p } };
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return { error: { key: "j_out_of_range", i: k + 1, p } };
    points.push([lat, lon]);
  }
  // A ring written GeoJSON-style repeats its first point at the end: one copy is enough.
  if (points.length > 3) {
    const [a, b] = [points[0], points[points.length - 1]];
    if (a[0] === b[0] && a[1] === b[1]) points.pop();
  }
  return { points };
}

const six = (x) => (Math.round(x * 1e6) / 1e6).toString();

export function formatRing(points) {
  return (points || []).map(([lat, lon]) => `${six(lat)} ${six(lon)}`).join("; ");
}

// Ray casting; ring is [[lat, lon], ...].
export function insideRing(lat, lon, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [yi, xi] = ring[i], [yj, xj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// ---- import problems ---------------------------------------------------------------------------
// "jurisdiction.2.0" -> {column: "jurisdiction", point: 3}
export function fieldColumn(field) {
  const [column, idx] = String(field || "").split(".");
  return { column, point: idx !== undefined && /^\d+$/.test(idx) ? Number(idx) + 1 : null };
}

// Empty and whitespace-only lines, which the server's CSV reader skips without counting (its line
// numbers would then disagree with the text the administrator sees).
export function dropBlankLines(text) {
  const lines = String(text || "").replace(/\r\n?/g, "\n").split("\n");
  const kept = lines.filter((l) => l.trim() !== "");
  return { text: kept.join("\n") + (kept.length ? "\n" : ""), removed: lines.length - kept.length - (lines[lines.length - 1] === "" ? 1 : 0) };
}

// ---- export ------------------------------------------------------------------------------------
export function csvField(v) {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const row = (vals) => vals.map(csvField).join(",");

export const STATION_COLUMNS = ["code", "name_zh", "name_en", "lat", "lon", "address", "jurisdiction"];
export const UNIT_COLUMNS = ["call_sign", "kind", "station_code", "members"];

export function stationsCsv(stations) {
  const lines = [row(STATION_COLUMNS)];
  for (const s of stations) {
    const ring = (s.jurisdiction || []).map(([lat, lon]) => `${six(lat)} ${six(lon)}`).join(";");
    lines.push(row([s.code, s.name_zh, s.name_en, six(s.lat), six(s.lon), s.address || "", ring]));
  }
  return lines.join("\n") + "\n";
}

// usernames: Map<userId, username>; a member whose username is unknown is written as "#id".
export function unitsCsv(units, stationsById, usernames) {
  const lines = [row(UNIT_COLUMNS)];
  for (const u of units) {
    const st = stationsById.get(u.station_id);
    const members = (u.members || []).map((m) => usernames.get(m.id) || `#${m.id}`).join(" ");
    lines.push(row([u.call_sign, u.kind, st ? st.code : "", members]));
  }
  return lines.join("\n") + "\n";
}

// Distance in degrees from a point to a ring's edges (good enough to tell "on the shared border").
function distToRing(lat, lon, ring) {
  let best = Infinity;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [ay, ax] = ring[j], [by, bx] = ring[i];
    const dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
    const k = len ? Math.max(0, Math.min(1, ((lon - ax) * dx + (lat - ay) * dy) / len)) : 0;
    best = Math.min(best, Math.hypot(lon - (ax + k * dx), lat - (ay + k * dy)));
  }
  return best;
}

// Do two rings overlap? A vertex of one well inside the other (not on a shared border) says so;
// rings that cross without either holding a vertex of the other are not caught.
export function ringsOverlap(a, b, eps = 2e-5) {
  const strictlyIn = (p, ring) => insideRing(p[0], p[1], ring) && distToRing(p[0], p[1], ring) > eps;
  return a.some((p) => strictlyIn(p, b)) || b.some((p) => strictlyIn(p, a));
}
