// Key units (重点单位) and the SMS outbox, for administrators: register units with their position
// and boundary drawn on the map, owning station (automatic from the jurisdictions, or chosen),
// security contacts, opening hours, roster, floor plans and photos; import units and rosters from
// CSV or XLSX with the row-by-row report; every text message with its delivery state, and sending
// a failed one again. Contract: docs/api.md ("Key units", "SMS").
//
// Hooks for tests: window.baojingKeyAdmin = {units, messages, draft(), ready}
// data-testid: ka-units (table), ka-unit-row (data-id), ka-new, ka-form, ka-f-* fields, ka-pos, ka-draw,
//   ka-clear, ka-save, ka-error, ka-file-kind, ka-file, ka-files, ka-import-units, ka-import-roster,
//   ka-import-report (data-state ok|error), ka-sms-table, ka-sms-row (data-status), ka-sms-retry
import { get, post, put, ApiError } from "/shared/api.js";
import { words, t, pick, errorText, setLang, getLang, applyStatic } from "/shared/i18n.js";
import { h, put as fill } from "/shared/dom.js";
import { addBaseTiles } from "/shared/basemap.js";

words({
  zh: {
    ka_title: "重点单位与短信", ka_units: "重点单位", ka_sms: "短信发件箱", ka_back: "← 系统管理", ka_new: "＋ 新增单位",
    ka_import_units: "导入单位（CSV/XLSX）", ka_import_roster: "导入人员名单", ka_sms_phone: "按手机号筛选",
    ka_all: "全部", ka_pending: "待发", ka_sent: "已发", ka_failed: "失败", ka_refresh: "刷新",
    ka_need_login: "请先在系统管理页以管理员身份登录。", ka_name: "单位名称", ka_kind: "类型", ka_address: "地址",
    ka_lat: "纬度", ka_lon: "经度", ka_station: "管辖派出所", ka_station_auto: "按位置自动（辖区）", ka_hours: "开放时间",
    ka_contacts: "安保联系人（每行：姓名 电话 职务）", ka_roster: "人员名单（每行：手机号 姓名 角色）",
    ka_pos: "在地图上点选位置", ka_draw: "在地图上画边界", ka_clear: "清除边界", ka_save: "保存", ka_cancel: "取消",
    ka_points: "边界 {n} 个点", ka_hint_pos: "点击地图设置单位位置", ka_hint_draw: "依次点击地图添加边界顶点，完成后点“保存”",
    ka_files: "平面图与照片", ka_floor_plan: "平面图", ka_photo: "照片", ka_upload: "上传", ka_members: "人员",
    ka_saved: "已保存", ka_report_ok: "已导入 {n} 行", ka_line: "第 {n} 行", ka_retry: "重发", ka_when: "时间",
    ka_phone: "手机号", ka_text: "内容", ka_status: "状态", ka_tries: "尝试", ka_counts: "待发 {p} · 已发 {s} · 失败 {f} · 网关 {g}",
    ka_purpose: "用途", ka_edit: "编辑", ka_remove: "删除",
    school: "学校", kindergarten: "幼儿园", company: "企业", bank: "银行网点", hospital: "医院", market: "市场",
  },
  en: {
    ka_title: "Key units and SMS", ka_units: "Key units", ka_sms: "SMS outbox", ka_back: "← Administration", ka_new: "＋ New unit",
    ka_import_units: "Import units (CSV/XLSX)", ka_import_roster: "Import rosters", ka_sms_phone: "Filter by number",
    ka_all: "All", ka_pending: "Pending", ka_sent: "Sent", ka_failed: "Failed", ka_refresh: "Refresh",
    ka_need_login: "Log in as an administrator on the administration page first.", ka_name: "Name", ka_kind: "Type",
    ka_address: "Address", ka_lat: "Latitude", ka_lon: "Longitude", ka_station: "Owning station",
    ka_station_auto: "Automatic (jurisdiction of the position)", ka_hours: "Opening hours",
    ka_contacts: "Security contacts (one per line: name phone title)", ka_roster: "Roster (one per line: mobile name role)",
    ka_pos: "Pick the position on the map", ka_draw: "Draw the boundary", ka_clear: "Clear boundary", ka_save: "Save",
    ka_cancel: "Cancel", ka_points: "Boundary: {n} points", ka_hint_pos: "Click the map to set the unit's position",
    ka_hint_draw: "Click the map to add boundary points, then Save", ka_files: "Floor plans and photos",
    ka_floor_plan: "Floor plan", ka_photo: "Photo", ka_upload: "Upload", ka_members: "Members", ka_saved: "Saved",
    ka_report_ok: "{n} rows imported", ka_line: "Row {n}", ka_retry: "Send again", ka_when: "Time", ka_phone: "Number",
    ka_text: "Text", ka_status: "Status", ka_tries: "Tries", ka_counts: "pending {p} · sent {s} · failed {f} · gateway {g}",
    ka_purpose: "Purpose", ka_edit: "Edit", ka_remove: "Remove",
    school: "School", kindergarten: "Kindergarten", company: "Company", bank: "Bank branch", hospital: "Hospital", market: "Market",
  },
});

const KINDS = ["school", "kindergarten", "company", "bank", "hospital", "market"];
const S = { units: [], config: null, map: null, layer: null, draft: null, mode: null, error: "", messages: [], ready: false };
const $ = (id) => document.getElementById(id);

async function upload(path, form) {
  const res = await fetch(path, { method: "POST", body: form, credentials: "same-origin", headers: { Accept: "application/json" } });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// ---- units ----

function unitsTable() {
  return h("table", { class: "ka-table" },
    h("tr", {}, h("th", {}, t("ka_name")), h("th", {}, t("ka_kind")), h("th", {}, t("ka_station")), h("th", {}, t("ka_members")), h("th", {})),
    ...S.units.map((u) => h("tr", { "data-testid": "ka-unit-row", "data-id": u.id, class: S.draft?.id === u.id ? "sel" : "" },
      h("td", {}, u.name), h("td", {}, t(u.kind)),
      h("td", {}, pick({ zh: u.station_name_zh, en: u.station_name_en }) || "—", u.station_overridden ? " *" : ""),
      h("td", {}, String((u.roster || []).length)),
      h("td", {}, h("button", { class: "btn btn-small", type: "button", onclick: () => edit(u) }, t("ka_edit"))))));
}

function edit(u) {
  S.draft = u ? { id: u.id, name: u.name, kind: u.kind, address: u.address, lat: u.lat, lon: u.lon,
                  boundary: (u.boundary || []).map((p) => [...p]), station_id: u.station_overridden ? u.station_id : null,
                  contacts: (u.contacts || []).map((c) => [c.name, c.phone, c.title || ""].join(" ").trim()).join("\n"),
                  roster: (u.roster || []).map((m) => `${m.phone} ${m.name} ${m.role}`).join("\n"),
                  opening_hours: u.opening_hours || "", files: u.files || [] }
               : { id: null, name: "", kind: "school", address: "", lat: null, lon: null, boundary: [], station_id: null,
                   contacts: "", roster: "", opening_hours: "", files: [] };
  S.mode = null;
  S.error = "";
  render();
}

function readForm() {
  const d = S.draft;
  const f = $("unit-form");
  for (const el of f.querySelectorAll("[name]")) d[el.name] = el.value;
}

function formView() {
  const d = S.draft;
  const stations = S.config?.stations || [];
  const inp = (name, label, attrs = {}) => h("label", {}, label, h("input", { name, value: d[name] ?? "", "data-testid": `ka-f-${name}`, ...attrs }));
  return [
    inp("name", t("ka_name"), { maxlength: 100 }),
    h("div", { class: "ka-row" },
      h("label", {}, t("ka_kind"), h("select", { name: "kind", "data-testid": "ka-f-kind" },
        ...KINDS.map((k) => h("option", { value: k, selected: d.kind === k }, t(k))))),
      h("label", {}, t("ka_station"), h("select", { name: "station_id", "data-testid": "ka-f-station" },
        h("option", { value: "" }, t("ka_station_auto")),
        ...stations.map((s) => h("option", { value: s.id, selected: d.station_id === s.id }, pick(s)))))),
    inp("address", t("ka_address"), { maxlength: 200 }),
    h("div", { class: "ka-row" }, inp("lat", t("ka_lat"), { inputmode: "decimal" }), inp("lon", t("ka_lon"), { inputmode: "decimal" })),
    h("div", { class: "ka-row" },
      h("button", { class: `btn${S.mode === "pos" ? " active" : ""}`, type: "button", "data-testid": "ka-pos", onclick: () => setMode("pos") }, t("ka_pos")),
      h("button", { class: `btn${S.mode === "draw" ? " active" : ""}`, type: "button", "data-testid": "ka-draw", onclick: () => setMode("draw") }, t("ka_draw")),
      h("button", { class: "btn", type: "button", "data-testid": "ka-clear", onclick: () => { readForm(); d.boundary = []; render(); } }, t("ka_clear"))),
    h("p", { class: "muted", "data-testid": "ka-points", "data-count": d.boundary.length }, t("ka_points", { n: d.boundary.length })),
    inp("opening_hours", t("ka_hours"), { maxlength: 200 }),
    h("label", {}, t("ka_contacts"), h("textarea", { name: "contacts", "data-testid": "ka-f-contacts", value: d.contacts })),
    h("label", {}, t("ka_roster"), h("textarea", { name: "roster", "data-testid": "ka-f-roster", value: d.roster })),
    S.error ? h("p", { class: "ka-error", role: "alert", "data-testid": "ka-error" }, S.error) : null,
    h("div", { class: "ka-row" },
      h("button", { class: "btn btn-primary", type: "button", "data-testid": "ka-save", onclick: save }, t("ka_save")),
      h("button", { class: "btn", type: "button", onclick: () => { S.draft = null; S.mode = null; render(); } }, t("ka_cancel"))),
    d.id ? h("div", { class: "ka-files", "data-testid": "ka-files" }, h("b", {}, t("ka_files") + "："),
      ...d.files.map((f) => h("span", {}, h("a", { href: f.url, target: "_blank", rel: "noopener" }, `${f.kind === "floor_plan" ? t("ka_floor_plan") : t("ka_photo")} ${f.name || f.id}`),
        h("button", { class: "btn btn-small", type: "button", onclick: () => removeFile(f) }, t("ka_remove")))),
      h("div", { class: "ka-row" },
        h("select", { id: "file-kind", "data-testid": "ka-file-kind" }, h("option", { value: "floor_plan" }, t("ka_floor_plan")), h("option", { value: "photo" }, t("ka_photo"))),
        h("input", { type: "file", id: "file-input", accept: "image/jpeg,image/png,image/webp,application/pdf", "data-testid": "ka-file", onchange: addFile }))) : null,
  ];
}

function setMode(m) {
  readForm();
  S.mode = S.mode === m ? null : m;
  render();
}

function lines(text) {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => l.split(/\s+/));
}

async function save() {
  readForm();
  const d = S.draft;
  const body = {
    name: d.name.trim(), kind: d.kind, address: d.address.trim(), lat: Number(d.lat), lon: Number(d.lon),
    boundary: d.boundary.length ? d.boundary : null, station_id: d.station_id ? Number(d.station_id) : null,
    opening_hours: d.opening_hours.trim() || null,
    contacts: lines(d.contacts).map(([name, phone, ...title]) => ({ name, phone: phone || "", title: title.join(" ") || null })),
  };
  try {
    const u = d.id ? await put(`/api/keyunits/${d.id}`, body) : await post("/api/keyunits", body);
    const members = lines(d.roster).map(([phone, name, ...role]) => ({ phone, name: name || "", role: role.join(" ") || "" }));
    await put(`/api/keyunits/${u.id}/roster`, { members });
    S.error = "";
    await load();
    edit(S.units.find((x) => x.id === u.id));
  } catch (e) {
    S.error = errorText(e);
    render();
  }
}

async function addFile(ev) {
  const file = ev.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("kind", $("file-kind").value);
  form.append("file", file);
  try {
    const u = await upload(`/api/keyunits/${S.draft.id}/files`, form);
    S.draft.files = u.files;
    S.error = "";
  } catch (e) { S.error = errorText(e); }
  render();
}

async function removeFile(f) {
  await fetch(`/api/keyunits/files/${f.id}`, { method: "DELETE", credentials: "same-origin" });
  S.draft.files = S.draft.files.filter((x) => x.id !== f.id);
  render();
}

async function importFile(kind, input) {
  const file = input.files[0];
  input.value = "";
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  const box = $("import-report");
  box.hidden = false;
  try {
    const r = await upload(kind === "units" ? "/api/keyunits/import" : "/api/keyunits/roster/import", form);
    box.className = "ka-report ok";
    box.dataset.state = "ok";
    fill(box, h("p", {}, t("ka_report_ok", { n: r.imported })), h("ul", {}, ...r.rows.map((row) => h("li", {}, `${t("ka_line", { n: row.line })} ✓ ${row.name || ""} (${row.action})`))));
    await load();
  } catch (e) {
    box.className = "ka-report bad";
    box.dataset.state = "error";
    const msg = getLang() === "en" ? e.message_en : e.message_zh;
    fill(box, h("p", { class: "ka-error" }, msg || errorText(e)),
      h("ul", {}, ...(e.errors || []).map((p) => h("li", { "data-testid": "ka-import-problem", "data-line": p.line ?? "" },
        `${p.line ? t("ka_line", { n: p.line }) + " " : ""}${p.field || ""}：${getLang() === "en" ? p.message_en : p.message_zh}`))));
  }
}

// ---- map ----

function drawMap() {
  if (!S.map) return;
  S.layer.clearLayers();
  for (const u of S.units) {
    if (S.draft?.id === u.id) continue;
    if (u.boundary) L.polygon(u.boundary, { color: "#f59e0b", weight: 2, fillOpacity: 0.1 }).addTo(S.layer);
    L.circleMarker([u.lat, u.lon], { radius: 6, color: "#f59e0b", weight: 3 }).bindTooltip(u.name).addTo(S.layer)
      .on("click", () => edit(u));
  }
  const d = S.draft;
  if (d) {
    if (d.boundary.length) L.polygon(d.boundary, { color: "#38bdf8", weight: 3, dashArray: "6 4", fillOpacity: 0.15 }).addTo(S.layer);
    if (d.lat && d.lon) L.circleMarker([Number(d.lat), Number(d.lon)], { radius: 8, color: "#38bdf8", weight: 4 }).addTo(S.layer);
  }
  const hint = $("draw-hint");
  hint.hidden = !S.mode;
  hint.textContent = S.mode === "pos" ? t("ka_hint_pos") : S.mode === "draw" ? t("ka_hint_draw") : "";
}

function onMapClick(e) {
  if (!S.draft || !S.mode) return;
  readForm();
  const p = [+e.latlng.lat.toFixed(6), +e.latlng.lng.toFixed(6)];
  if (S.mode === "pos") { S.draft.lat = p[0]; S.draft.lon = p[1]; S.mode = null; } else S.draft.boundary.push(p);
  render();
}

// ---- sms ----

async function loadSms() {
  const q = new URLSearchParams();
  if ($("sms-phone").value.trim()) q.set("phone", $("sms-phone").value.trim());
  if ($("sms-status").value) q.set("status", $("sms-status").value);
  try {
    const r = await get(`/api/admin/sms?${q}`);
    S.messages = r.messages;
    $("sms-counts").textContent = t("ka_counts", { p: r.counts.pending, s: r.counts.sent, f: r.counts.failed, g: r.gateway });
    fill($("sms-table"), h("table", { class: "ka-table" },
      h("tr", {}, ...["ka_when", "ka_phone", "ka_purpose", "ka_text", "ka_status", "ka_tries"].map((k) => h("th", {}, t(k))), h("th", {})),
      ...r.messages.map((m) => h("tr", { "data-testid": "ka-sms-row", "data-status": m.status },
        h("td", {}, new Date(m.created_at).toLocaleString(getLang() === "en" ? "en-GB" : "zh-CN")), h("td", {}, m.phone),
        h("td", {}, m.purpose), h("td", { class: "text" }, m.text),
        h("td", {}, t(`ka_${m.status}`), m.last_error ? h("div", { class: "ka-error" }, m.last_error) : null),
        h("td", {}, String(m.attempts)),
        h("td", {}, m.status !== "sent" ? h("button", { class: "btn btn-small", type: "button", "data-testid": "ka-sms-retry",
          onclick: async () => { await post(`/api/admin/sms/${m.id}/retry`); loadSms(); } }, t("ka_retry")) : null)))));
  } catch (e) {
    fill($("sms-table"), h("p", { class: "ka-error" }, errorText(e)));
  }
}

function showTab(tab) {
  $("units-view").hidden = tab !== "units";
  $("sms-view").hidden = tab !== "sms";
  $("tab-units").classList.toggle("active", tab === "units");
  $("tab-sms").classList.toggle("active", tab === "sms");
  if (tab === "sms") loadSms();
  else if (S.map) S.map.invalidateSize();
}

function render() {
  applyStatic();
  $("lang").textContent = getLang() === "en" ? "中文" : "EN";
  fill($("units-table"), unitsTable());
  const form = $("unit-form");
  form.hidden = !S.draft;
  if (S.draft) fill(form, ...formView().filter(Boolean));
  drawMap();
}

async function load() {
  const r = await get("/api/keyunits?roster=true");
  S.units = r.units;
}

async function start() {
  $("lang").addEventListener("click", () => { setLang(getLang() === "en" ? "zh" : "en"); render(); if (!$("sms-view").hidden) loadSms(); });
  $("tab-units").addEventListener("click", () => { history.replaceState(null, "", "#units"); showTab("units"); });
  $("tab-sms").addEventListener("click", () => { history.replaceState(null, "", "#sms"); showTab("sms"); });
  $("unit-new").addEventListener("click", () => edit(null));
  $("import-units").addEventListener("change", (e) => importFile("units", e.target));
  $("import-roster").addEventListener("change", (e) => importFile("roster", e.target));
  $("sms-refresh").addEventListener("click", loadSms);
  $("sms-phone").addEventListener("change", loadSms);
  $("sms-status").addEventListener("change", loadSms);
  applyStatic();
  try {
    const me = await get("/api/auth/me");
    if (me.user.role !== "admin") throw new Error("not admin");
    [S.config] = await Promise.all([get("/api/config"), load()]);
  } catch {
    $("units-view").hidden = true;
    const need = $("need-login");
    need.hidden = false;
    fill(need, t("ka_need_login"), " ", h("a", { href: "/admin/" }, "/admin/"));
    return;
  }
  S.map = L.map("map", { zoomControl: true }).setView(S.config.map.center, S.config.map.zoom);
  addBaseTiles(S.map, S.config.map);
  S.layer = L.layerGroup().addTo(S.map);
  S.map.on("click", onMapClick);
  render();
  showTab(location.hash === "#sms" ? "sms" : "units");
  window.addEventListener("hashchange", () => showTab(location.hash === "#sms" ? "sms" : "units"));
  S.ready = true;
}

// Only in a browser: the words test (tests/js/page-words.test.mjs) imports this module in node.
if (typeof document !== "undefined") {
  window.baojingKeyAdmin = { get units() { return S.units; }, get messages() { return S.messages; }, draft: () => S.draft, get ready() { return S.ready; } };
  start();
}
