// Console texts, Simplified Chinese first, English on the 中/EN switch (kept in localStorage).

const KEY = "baojing.console.lang";

const STR = {
  zh: {
    app_title: "报警 · 110 指挥台",
    doc_title: "报警指挥台",
    doc_title_new: "新警情",
    login_title: "指挥台登录",
    login_hint: "接警员、指挥员请使用本人账号登录",
    username: "用户名",
    password: "密码",
    login: "登录",
    logging_in: "正在登录…",
    logout: "退出",
    session_expired: "登录已过期，请重新登录",
    role_forbidden: "您的账号角色无权使用指挥台",
    conn_live: "实时",
    conn_connecting: "连接中…",
    conn_offline: "重连中…",
    conn_syncing: "同步中…",
    conn_unauthorized: "未登录",
    conn_error: "连接错误",
    stale_banner: "实时连接中断，正在重连 — 画面可能不是最新的",
    stale_since: "最后更新",
    sound_on: "声音已开启",
    sound_off: "声音未开启",
    sound_enable: "启用声音",
    sound_unsupported: "浏览器不支持声音",
    sound_test: "试听",
    sound_banner: "声音未开启：新报警不会响铃。点击此处启用声音",
    queue_title: "警情队列",
    queue_empty: "暂无待处理警情",
    queue_empty_hint: "新报警会在此出现并响铃",
    count_new: "待接警",
    count_claimed: "已接警",
    recently_closed: "近 2 小时已结案",
    none: "无",
    claim: "接警",
    claiming: "接警中…",
    claimed_by_me: "您已接警",
    claimed_by: "接警人",
    no_name: "（未留姓名）",
    no_position: "无定位",
    unverified: "未核实",
    verified: "已核实",
    unclassified: "未分类",
    age_received: "已等待",
    received_at: "报警时间",
    priority: "优先级",
    type: "警情类型",
    status: "状态",
    phone: "电话",
    name: "姓名",
    place_text: "报警人输入的地点",
    detail_close: "关闭详情",
    detail_loading: "正在加载…",
    callers: "报警人",
    position: "位置",
    accuracy: "精度",
    accuracy_m: "±{m} 米",
    position_at: "定位时间",
    locked: "已锁定",
    locked_hint: "接警员标定的位置，不会被自动定位覆盖",
    set_position: "在地图上标定位置",
    correct_position: "在地图上修正位置",
    pick_banner: "请在地图上点击报警人的实际位置：{who}",
    pick_cancel: "取消",
    position_set: "位置已标定并锁定",
    trail_points: "轨迹 {n} 个点",
    trail_flagged: "（{n} 个异常点未绘出）",
    classify: "分类",
    classify_save: "保存分类",
    choose_type: "— 选择类型 —",
    notes: "备注",
    note_placeholder: "输入备注（Ctrl+Enter 提交）",
    note_add: "添加备注",
    notes_none: "暂无备注",
    merge: "合并重复警情",
    merge_hint: "勾选与本警情重复的其他警情，合并后它们并入 #{id}",
    merge_none: "没有其他可合并的处理中警情",
    merge_submit: "合并到 #{id}",
    merge_done: "已合并 {n} 条警情到 #{id}",
    same_phone: "同一号码",
    away: "相距 {d}",
    close_incident: "结案",
    disposition: "处置结果",
    choose_disposition: "— 选择处置结果 —",
    close_note: "结案说明（可选）",
    close_submit: "结案",
    close_confirm: "确认结案 #{id}？",
    timeline: "处理记录",
    merged_into: "该警情已合并到 #{id}",
    open_incident: "打开 #{id}",
    closed_info: "已结案：{d}",
    legend_title: "图例",
    fit_all: "显示全部报警位置",
    legend_district: "辖区边界（示意）",
    legend_trail: "移动轨迹",
    legend_station: "派出所",
    legend_new: "待接警（闪烁）",
    district_approx: "示意",
    no_basemap: "未加载底图（仅显示边界与报警位置）",
    err_network: "网络错误，无法连接服务器",
    err_generic: "操作失败",
    saved: "已保存",
    note_added: "备注已添加",
    closed_done: "#{id} 已结案",
    claimed_done: "已接警 #{id}",
    cancel: "取消",
    km: "{n} 公里",
    m: "{n} 米",
    lang_switch: "EN",
    lang_switch_title: "Switch to English",
    you: "我",
    role_call_taker: "接警员",
    role_dispatcher: "指挥员",
    role_admin: "管理员",
  },
  en: {
    app_title: "Baojing · 110 Command",
    doc_title: "Baojing console",
    doc_title_new: "NEW ALARM",
    login_title: "Console login",
    login_hint: "Call-takers and dispatchers: log in with your own account",
    username: "Username",
    password: "Password",
    login: "Log in",
    logging_in: "Logging in…",
    logout: "Log out",
    session_expired: "Your session has ended; please log in again",
    role_forbidden: "Your account's role may not use the console",
    conn_live: "Live",
    conn_connecting: "Connecting…",
    conn_offline: "Reconnecting…",
    conn_syncing: "Syncing…",
    conn_unauthorized: "Logged out",
    conn_error: "Connection error",
    stale_banner: "Live connection lost, reconnecting — this screen may be out of date",
    stale_since: "last update",
    sound_on: "Sound on",
    sound_off: "Sound OFF",
    sound_enable: "Enable sound",
    sound_unsupported: "No sound in this browser",
    sound_test: "Test",
    sound_banner: "Sound is OFF: new alarms will not ring. Click here to enable sound",
    queue_title: "Incident queue",
    queue_empty: "No open incidents",
    queue_empty_hint: "New alarms appear here with a siren",
    count_new: "New",
    count_claimed: "Claimed",
    recently_closed: "Closed in the last 2 h",
    none: "None",
    claim: "Claim",
    claiming: "Claiming…",
    claimed_by_me: "Claimed by you",
    claimed_by: "Claimed by",
    no_name: "(no name given)",
    no_position: "No position",
    unverified: "unverified",
    verified: "verified",
    unclassified: "Unclassified",
    age_received: "Waiting",
    received_at: "Received",
    priority: "Priority",
    type: "Type",
    status: "Status",
    phone: "Phone",
    name: "Name",
    place_text: "Place typed by caller",
    detail_close: "Close details",
    detail_loading: "Loading…",
    callers: "Callers",
    position: "Position",
    accuracy: "Accuracy",
    accuracy_m: "±{m} m",
    position_at: "Fix time",
    locked: "Locked",
    locked_hint: "Set by an operator; automatic fixes will not replace it",
    set_position: "Set position on map",
    correct_position: "Correct position on map",
    pick_banner: "Click the caller's real position on the map: {who}",
    pick_cancel: "Cancel",
    position_set: "Position set and locked",
    trail_points: "Trail points: {n}",
    trail_flagged: " ({n} implausible points not drawn)",
    classify: "Classify",
    classify_save: "Save classification",
    choose_type: "— choose a type —",
    notes: "Notes",
    note_placeholder: "Type a note (Ctrl+Enter to add)",
    note_add: "Add note",
    notes_none: "No notes yet",
    merge: "Merge duplicates",
    merge_hint: "Tick the incidents that duplicate this one; they are merged into #{id}",
    merge_none: "No other open incidents to merge",
    merge_submit: "Merge into #{id}",
    merge_done: "Merged {n} incident(s) into #{id}",
    same_phone: "same number",
    away: "{d} away",
    close_incident: "Close incident",
    disposition: "Disposition",
    choose_disposition: "— choose a disposition —",
    close_note: "Closing note (optional)",
    close_submit: "Close incident",
    close_confirm: "Close incident #{id}?",
    timeline: "Timeline",
    merged_into: "This incident was merged into #{id}",
    open_incident: "Open #{id}",
    closed_info: "Closed: {d}",
    legend_title: "Legend",
    fit_all: "Show all alarm positions",
    legend_district: "District outline (approximate)",
    legend_trail: "Movement trail",
    legend_station: "Police station",
    legend_new: "New, unclaimed (pulsing)",
    district_approx: "approximate",
    no_basemap: "No base map loaded (outlines and positions only)",
    err_network: "Network error: cannot reach the server",
    err_generic: "The action failed",
    saved: "Saved",
    note_added: "Note added",
    closed_done: "#{id} closed",
    claimed_done: "Claimed #{id}",
    cancel: "Cancel",
    km: "{n} km",
    m: "{n} m",
    lang_switch: "中",
    lang_switch_title: "切换到中文",
    you: "me",
    role_call_taker: "Call-taker",
    role_dispatcher: "Dispatcher",
    role_admin: "Admin",
  },
};

const STATUS = {
  new: ["待接警", "New"], claimed: ["已接警", "Claimed"], closed: ["已结案", "Closed"], merged: ["已合并", "Merged"],
};

const SOURCE = {
  gps: ["卫星定位", "GPS"],
  network: ["网络定位（基站/WiFi）", "Network (cell/Wi-Fi)"],
  typed: ["文字地址定位", "Typed address"],
  picked: ["报警人地图选点", "Picked by caller"],
  operator: ["接警员标定", "Set by operator"],
};

const ACTIONS = {
  received: ["收到报警", "Alarm received"],
  claimed: ["接警", "Claimed"],
  classified: ["分类", "Classified"],
  note: ["添加备注", "Note added"],
  merged: ["并入重复警情", "Duplicates merged in"],
  merged_away: ["被合并", "Merged into another"],
  closed: ["结案", "Closed"],
  operator_position: ["接警员标定位置", "Operator set position"],
  caller_picked_position: ["报警人地图选点", "Caller picked a position"],
  caller_typed_place: ["报警人输入地点", "Caller typed a place"],
  rated: ["报警人评价", "Caller rated"],
};

export let lang = (() => {
  try {
    const v = localStorage.getItem(KEY);
    return v === "en" ? "en" : "zh";
  } catch {
    return "zh";
  }
})();

export function setLang(l) {
  lang = l === "en" ? "en" : "zh";
  try { localStorage.setItem(KEY, lang); } catch { /* private mode: not remembered */ }
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function t(key, vars) {
  let s = STR[lang][key] ?? STR.zh[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, v);
  return s;
}

const pair = (table, key) => (table[key] ? table[key][lang === "zh" ? 0 : 1] : key);
export const statusLabel = (s) => pair(STATUS, s);
export const sourceLabel = (s) => pair(SOURCE, s || "");
export const actionLabel = (s) => pair(ACTIONS, s || "");

// {zh, en} options from /api/config, or {name_zh, name_en} district/station properties.
export function pick(o) {
  if (!o) return "";
  if ("zh" in o || "en" in o) return lang === "zh" ? o.zh ?? o.en : o.en ?? o.zh;
  return lang === "zh" ? o.name_zh ?? o.name_en : o.name_en ?? o.name_zh;
}

export function errorText(err) {
  if (!err) return "";
  const main = (lang === "zh" ? err.message_zh : err.message_en) || err.message || t("err_generic");
  const fields = (err.errors || []).map((e) => (lang === "zh" ? e.message_zh : e.message_en)).filter(Boolean);
  if (!fields.length) return main;
  return lang === "zh" ? `${main}：${fields.join("；")}` : `${main}: ${fields.join("; ")}`;
}

export function distanceText(m) {
  return m >= 1000 ? t("km", { n: (m / 1000).toFixed(m >= 10000 ? 0 : 1) }) : t("m", { n: Math.round(m) });
}

// Static texts: [data-i18n] sets textContent, [data-i18n-ph] placeholder, [data-i18n-title] title.
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-ph]")) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
