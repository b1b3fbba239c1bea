// The phone's own position: one watch, the freshest fix, and why there is none.

const WATCH = { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 };
const round6 = (x) => Math.round(x * 1e6) / 1e6; // about 0.1 m: finer is noise

// A fix as the API takes it (LocationIn), for every alarm and position sent.
export const fixBody = (fix) => (fix ? {
  lat: round6(fix.lat), lon: round6(fix.lon), accuracy_m: Math.round(fix.acc * 10) / 10, crs: "wgs84", source: "device",
} : null);

// onFix({lat, lon, acc, ts}); onError(denied | unavailable | timeout | unsupported).
export function createLocator(onFix, onError) {
  const geo = navigator.geolocation;
  let watchId = null;
  let last = null;
  let error = null;

  function take(p) {
    const c = p.coords;
    let ts = Number(p.timestamp) || Date.now();
    if (Math.abs(ts - Date.now()) > 86400000) ts = Date.now(); // some webviews give odd clocks
    last = { lat: c.latitude, lon: c.longitude, acc: Math.min(100000, Math.max(0, c.accuracy || 0)), ts, seen: Date.now() };
    error = null;
    onFix(last);
  }

  function fail(e) {
    const kind = e && e.code === 1 ? "denied" : e && e.code === 3 ? "timeout" : "unavailable";
    if (kind === "denied") stop();
    // A slow fix after a good one is nothing to tell the caller about.
    if (kind === "denied" || !last || Date.now() - last.seen > 60000) error = kind;
    onError(error);
  }

  function start() {
    if (!geo) {
      error = "unsupported";
      onError(error);
      return;
    }
    if (watchId === null) {
      try { watchId = geo.watchPosition(take, fail, WATCH); } catch (e) { fail(null); }
    }
  }

  function stop() {
    if (watchId !== null && geo) geo.clearWatch(watchId);
    watchId = null;
  }

  function once(maximumAge, timeout) {
    if (!geo) return start();
    try { geo.getCurrentPosition(take, fail, { enableHighAccuracy: true, maximumAge, timeout }); } catch (e) { fail(null); }
  }

  return {
    start, stop, once,
    get last() { return last; },
    get error() { return error; },
    get watching() { return watchId !== null; },
  };
}
