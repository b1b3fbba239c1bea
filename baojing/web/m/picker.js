// Pick a position on a map. Loaded only when the caller opens it, with Leaflet, so the first load
// stays small. The point is sent in the map's own crs (gcj02 tiles give gcj02 points): no conversion here.

import { t, words } from "../shared/lang.js";
import { addBaseTiles } from "../shared/basemap.js";
import { api } from "./net.js";

words({
  zh: {
    mapTitle: "拖动地图，把十字对准您的位置",
    mapConfirm: "就是这里，发送",
    mapCancel: "取消",
    mapNoTiles: "地图底图不可用，只能按坐标选择",
  },
  en: {
    mapTitle: "Move the map until the cross is on you",
    mapConfirm: "Here, send it",
    mapCancel: "Cancel",
    mapNoTiles: "No map background available: pick by coordinates",
  },
});

let loading = null;

function loadLeaflet() {
  if (window.L) return Promise.resolve(window.L);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/vendor/leaflet/leaflet.css";
      document.head.appendChild(css);
      const s = document.createElement("script");
      s.src = "/vendor/leaflet/leaflet.js";
      s.onload = () => (window.L ? resolve(window.L) : reject(new Error("leaflet")));
      s.onerror = () => {
        loading = null;
        s.remove();
        reject(new Error("leaflet"));
      };
      document.head.appendChild(s);
    });
  }
  return loading;
}

const DEFAULT_MAP = { tiles: "none", url: null, subdomains: [], attribution: "", crs: "wgs84", center: [41.57, 120.43], zoom: 13 };
let mapConfig = null;

// The map's tiles and datum (GET /api/config), or a plain grid when it cannot be read.
async function mapSettings() {
  if (!mapConfig) {
    const r = await api("GET", "/api/config", undefined, 8000);
    if (r.ok && r.data && r.data.map) mapConfig = Object.assign({}, DEFAULT_MAP, r.data.map);
  }
  return mapConfig || DEFAULT_MAP;
}

// near: the last known position {lat, lon}, if any; onPick({lat, lon, crs}) when confirmed.
export async function openPicker({ near, onPick }) {
  const cfg = await mapSettings();
  const start = near ? [near.lat, near.lon] : cfg.center;
  const zoom = near ? 16 : cfg.zoom;
  const wrap = document.createElement("div");
  wrap.className = "picker";
  wrap.setAttribute("role", "dialog");
  wrap.setAttribute("aria-modal", "true");
  wrap.dataset.testid = "map-picker";
  wrap.innerHTML = `<p class="pk-title"></p>
<div class="pk-area"><div class="pk-map"></div><div class="pk-cross" aria-hidden="true"></div></div>
<div class="pk-bar"><p class="pk-coords" data-testid="map-coords"></p><p class="pk-note note" hidden></p>
<div class="pk-btns"><button type="button" class="btn ghost" data-testid="map-cancel"></button>
<button type="button" class="btn primary" data-testid="map-confirm"></button></div></div>`;
  const q = (sel) => wrap.querySelector(sel);
  q(".pk-title").textContent = t("mapTitle");
  q("[data-testid=map-cancel]").textContent = t("mapCancel");
  const confirm = q("[data-testid=map-confirm]");
  confirm.textContent = t("mapConfirm");
  confirm.disabled = true;
  q(".pk-coords").textContent = t("loading");
  document.body.appendChild(wrap);
  document.body.classList.add("picking");
  let map = null;
  const close = () => {
    if (map) map.remove();
    wrap.remove();
    document.body.classList.remove("picking");
  };
  q("[data-testid=map-cancel]").addEventListener("click", close);

  let L;
  try {
    L = await loadLeaflet();
  } catch (e) {
    close();
    throw e;
  }
  map = L.map(q(".pk-map"), { zoomControl: true, attributionControl: !!cfg.url, maxZoom: 19 })
    .setView(start, zoom || cfg.zoom || 13);
  if (!addBaseTiles(map, cfg)) {
    // No background: a plain grid, so that dragging visibly moves the map.
    const Grid = L.GridLayer.extend({
      createTile() {
        const d = document.createElement("div");
        d.className = "pk-tile";
        return d;
      },
    });
    new Grid().addTo(map);
    const note = q(".pk-note");
    note.textContent = t("mapNoTiles");
    note.hidden = false;
  }
  const coords = q(".pk-coords");
  const show = () => {
    const c = map.getCenter();
    coords.textContent = `${c.lat.toFixed(5)}, ${c.lng.toFixed(5)}`;
  };
  map.on("move", show);
  show();
  confirm.disabled = false;
  confirm.addEventListener("click", () => {
    const c = map.getCenter().wrap();
    onPick({ lat: Math.round(c.lat * 1e6) / 1e6, lon: Math.round(c.lng * 1e6) / 1e6, crs: cfg.crs || "wgs84" });
    close();
  });
  setTimeout(() => map && map.invalidateSize(), 50);
}
