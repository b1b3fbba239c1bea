// tests/data/datum-pairs.csv (also read by tests/test_geo.py) as
// [{place, wgs: {lat, lon}, gcj: {lat, lon}, bd: {lat, lon} | null}].
import { readFileSync } from "node:fs";

export function datumPairs() {
  const lines = readFileSync(new URL("../data/datum-pairs.csv", import.meta.url), "utf8").trim().split("\n");
  return lines.slice(1).map((line) => {
    // Place names are quoted and may hold commas; the numbers never are.
    const cells = line.match(/("[^"]*"|[^,]*)(,|$)/g).map((c) => c.replace(/,$/, "").replace(/^"|"$/g, ""));
    const n = cells.slice(1, 7).map((c) => (c === "" ? null : Number(c)));
    const at = (i) => (n[i] === null ? null : { lat: n[i], lon: n[i + 1] });
    return { place: cells[0], wgs: at(0), gcj: at(2), bd: at(4) };
  });
}
