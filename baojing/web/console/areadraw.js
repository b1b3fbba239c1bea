// A bulletin's target area drawn on the console's Leaflet map: each click on the map adds a corner,
// "undo" takes the last one back, "clear" starts again; three corners make an area. Small on
// purpose (no drawing plugin): the bulletin form (keyunits.js) owns the buttons and sends the
// corners as target_area [[lat, lon], ...]. Also draws the bulletins' own areas on the map.

const DRAW_STYLE = { color: "#a855f7", weight: 3, dashArray: "6 4", fillOpacity: 0.12 };
const SHOWN_STYLE = { color: "#a855f7", weight: 2, dashArray: "4 6", fillOpacity: 0.05 };
const OPEN_STYLE = { color: "#c084fc", weight: 4, fillOpacity: 0.15 };

// Start taking clicks on `map`; onChange(points) after every change. stop() ends the clicks and
// keeps the shape shown until clear() or remove().
export function drawArea(map, L, onChange) {
  const points = [];
  const layer = L.layerGroup().addTo(map);
  let listening = false;

  function redraw() {
    layer.clearLayers();
    if (points.length >= 3) L.polygon(points, DRAW_STYLE).addTo(layer);
    else if (points.length === 2) L.polyline(points, DRAW_STYLE).addTo(layer);
    points.forEach((p, i) => L.circleMarker(p, { radius: i === points.length - 1 ? 6 : 4, color: "#a855f7",
                                                   fillColor: "#fff", fillOpacity: 1, weight: 2 }).addTo(layer));
    onChange(points.slice());
  }
  function click(e) {
    points.push([+e.latlng.lat.toFixed(6), +e.latlng.lng.toFixed(6)]);
    redraw();
  }
  function listen(on) {
    if (on === listening) return;
    listening = on;
    map[on ? "on" : "off"]("click", click);
    map.getContainer().style.cursor = on ? "crosshair" : "";
    // A double click adds two corners; it must not zoom the map under the pen as well.
    map.doubleClickZoom[on ? "disable" : "enable"]();
  }
  listen(true);
  return {
    points: () => points.slice(),
    drawing: () => listening,
    resume: () => listen(true),
    stop: () => listen(false),
    undo() { points.pop(); redraw(); },
    clear() { points.length = 0; redraw(); },
    remove() { listen(false); layer.remove(); },
  };
}

// The areas of the bulletins still open, dashed, the opened one (openId) bold; returns the layer
// group to pass back next time (it is replaced, not added to).
export function showAreas(map, L, old, bulletins, openId, label) {
  if (old) old.remove();
  const group = L.layerGroup();
  let opened = null;
  for (const b of bulletins) {
    if (!b.target_area || (b.status !== "open" && b.id !== openId)) continue;
    const shape = L.polygon(b.target_area, b.id === openId ? OPEN_STYLE : SHOWN_STYLE)
      .bindTooltip(label(b), { sticky: true }).addTo(group);
    if (b.id === openId) opened = shape;
  }
  group.addTo(map);
  return { group, opened };
}
