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
    tab_queue: "警情",
    tab_units: "警力",
    tab_calls: "视频/文字",
    tab_units_free: "空闲",
    units_all_stations: "全部派出所",
    units_show_off: "显示下班",
    units_empty: "没有符合条件的警力单元",
    units_summary: "空闲 {a} · 出警 {d} · 忙 {b} · 下班 {o}",
    units_no_members: "（未编入民警）",
    pos_ago: "位置 {t}前",
    pos_stale: "位置已过时：{t}前",
    pos_none: "无定位",
    ago_s: "{n} 秒",
    ago_m: "{n} 分钟",
    ago_h: "{n} 小时",
    ago_short_m: "{n}分",
    ago_short_h: "{n}时",
    mine_badge: "本所",
    mine_title: "本所辖区警情",
    abuse_badge: "疑似骚扰",
    abuse_title: "近 {m} 分钟：同一手机报警 {d} 次，同一网络地址 {a} 次",
    abuse_marked: "已被标记：{r}（优先级已降一级）",
    unrouted: "辖区未定",
    jurisdiction: "辖区",
    dispatch: "派警",
    dispatch_btn: "派警",
    dispatch_btn_n: "派警：{names}",
    dispatching: "派警中…",
    dispatch_done: "已派警：{names}",
    rec_title: "推荐警力（由近到远）",
    rec_loading: "正在计算推荐…",
    rec_none: "附近没有空闲且定位有效的警力单元",
    rec_no_position: "警情无定位，无法推荐 — 请先在地图上标定位置",
    rec_in_juris: "✓ 辖区",
    rec_in_juris_title: "该单元属于警情辖区派出所",
    eta_min: "约 {n} 分钟",
    eta_lt1: "1 分钟内",
    assigned_title: "已派单元",
    assigned_none: "尚未派警",
    cancel_assignment: "撤回",
    cancel_confirm: "确认撤回？",
    cancelled_done: "已撤回 {name}",
    declined_reason: "拒绝原因：{r}",
    backup_requested: "请求增援",
    t_received: "报警",
    t_dispatched: "派警",
    t_on_scene: "到场",
    t_waiting_accept: "等待接受",
    t_accepted: "已接受",
    t_en_route: "在途",
    overdue_banner: "{name} 派警后未接受，已等待",
    overdue_short: "未接受",
    overdue_propose: "建议加派 {name}（{d} · {eta}）",
    overdue_no_proposal: "附近暂无其他空闲警力",
    overdue_dispatch: "加派 {name}",
    overdue_sent: "已加派 {name}",
    overdue_open: "打开 #{id}",
    dismiss: "知道了",
    cti_banner: "来电 {phone}",
    cti_matched: "#{id} 网上报警记录已打开",
    cti_unmatched: "无网上报警记录",
    legend_units: "警力",
    legend_stale: "定位过时（虚线、淡化）",
    legend_juris: "派出所辖区",
    kind_car: "警车",
    kind_motorbike: "摩托",
    kind_foot: "步巡",
    go_to_incident: "打开 #{id}",
    locate_unit: "在地图上显示",
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
    tab_queue: "Incidents",
    tab_units: "Units",
    tab_calls: "Video/Text",
    tab_units_free: "free",
    units_all_stations: "All stations",
    units_show_off: "Show off duty",
    units_empty: "No units match",
    units_summary: "free {a} · out {d} · busy {b} · off {o}",
    units_no_members: "(no officers)",
    pos_ago: "position {t} ago",
    pos_stale: "Position out of date: {t} ago",
    pos_none: "No position",
    ago_s: "{n} s",
    ago_m: "{n} min",
    ago_h: "{n} h",
    ago_short_m: "{n}m",
    ago_short_h: "{n}h",
    mine_badge: "Mine",
    mine_title: "In my station's jurisdiction",
    abuse_badge: "Possible abuse",
    abuse_title: "Last {m} min: {d} alarms from this phone, {a} from this network address",
    abuse_marked: "Marked: {r} (one priority step lower)",
    unrouted: "No station",
    jurisdiction: "Jurisdiction",
    dispatch: "Dispatch",
    dispatch_btn: "Dispatch",
    dispatch_btn_n: "Dispatch: {names}",
    dispatching: "Dispatching…",
    dispatch_done: "Dispatched: {names}",
    rec_title: "Recommended units (nearest first)",
    rec_loading: "Finding units…",
    rec_none: "No available unit with a fresh position nearby",
    rec_no_position: "No position: set one on the map to get recommendations",
    rec_in_juris: "✓ jurisdiction",
    rec_in_juris_title: "The unit belongs to the incident's station",
    eta_min: "about {n} min",
    eta_lt1: "under 1 min",
    assigned_title: "Assigned units",
    assigned_none: "No unit dispatched yet",
    cancel_assignment: "Recall",
    cancel_confirm: "Really recall?",
    cancelled_done: "{name} recalled",
    declined_reason: "Reason: {r}",
    backup_requested: "Backup requested",
    t_received: "Received",
    t_dispatched: "Dispatched",
    t_on_scene: "On scene",
    t_waiting_accept: "Awaiting accept",
    t_accepted: "Accepted",
    t_en_route: "En route",
    overdue_banner: "{name} has not accepted; waiting",
    overdue_short: "not accepted",
    overdue_propose: "Next: {name} ({d} · {eta})",
    overdue_no_proposal: "No other available unit nearby",
    overdue_dispatch: "Dispatch {name}",
    overdue_sent: "{name} dispatched as well",
    overdue_open: "Open #{id}",
    dismiss: "OK",
    cti_banner: "Call from {phone}",
    cti_matched: "#{id} online alarm opened",
    cti_unmatched: "no online alarm on record",
    legend_units: "Units",
    legend_stale: "Position out of date (dashed, faded)",
    legend_juris: "Station jurisdiction",
    kind_car: "Car",
    kind_motorbike: "Motorbike",
    kind_foot: "Foot",
    go_to_incident: "Open #{id}",
    locate_unit: "Show on map",
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
  routed: ["确定管辖派出所", "Routed to a station"],
  rerouted: ["改派管辖派出所", "Re-routed to another station"],
  rated: ["报警人评价", "Caller rated"],
  dispatched: ["派警", "Unit dispatched"],
  dispatch_overdue: ["派警超时未接受", "Dispatch not accepted in time"],
  unit_accept: ["警力接受派警", "Unit accepted"],
  unit_decline: ["警力拒绝派警", "Unit declined"],
  unit_en_route: ["警力出发", "Unit en route"],
  unit_on_scene: ["警力到场", "Unit on scene"],
  unit_backup: ["请求增援", "Backup requested"],
  unit_clear: ["警力处置完毕", "Unit cleared"],
  unit_cancelled: ["撤回派警", "Dispatch recalled"],
  call_ringing: ["110 来电", "110 call ringing"],
};

const UNIT_STATUS = {
  available: ["空闲", "Available"], dispatched: ["已派警", "Dispatched"], en_route: ["在途", "En route"],
  on_scene: ["到场", "On scene"], busy: ["忙碌", "Busy"], off_duty: ["下班", "Off duty"],
};

const ASSIGN_STATUS = {
  dispatched: ["待接受", "Dispatched"], accepted: ["已接受", "Accepted"], en_route: ["在途", "En route"],
  on_scene: ["到场", "On scene"], cleared: ["已完毕", "Cleared"], declined: ["已拒绝", "Declined"],
  cancelled: ["已撤回", "Recalled"],
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
export const unitStatusLabel = (s) => pair(UNIT_STATUS, s || "");
export const assignStatusLabel = (s) => pair(ASSIGN_STATUS, s || "");
export const kindLabel = (k) => t(`kind_${k}`);

// "12 秒" / "3 分钟" / "2 小时": how long ago, for positions.
export function agoText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return t("ago_s", { n: s });
  if (s < 7200) return t("ago_m", { n: Math.floor(s / 60) });
  return t("ago_h", { n: Math.floor(s / 3600) });
}

// "3分" on a map label (short).
export function agoShort(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 7200 ? t("ago_short_m", { n: Math.floor(s / 60) }) : t("ago_short_h", { n: Math.floor(s / 3600) });
}

// 262 s -> "约 5 分钟"
export function etaText(s) {
  if (!Number.isFinite(s)) return "";
  return s < 60 ? t("eta_lt1") : t("eta_min", { n: Math.round(s / 60) });
}

// A station's short name for tight places: "双塔区站前派出所（演示）" -> "站前所".
export function stationShort(st) {
  if (!st) return "";
  if (lang === "zh") {
    let n = String(st.name_zh || st.name_en || "").replace(/[（(][^）)]*[）)]\s*$/, "").trim();
    const m = /^.{1,6}?[区县市](.+)$/.exec(n);
    if (m && m[1].length >= 2) n = m[1];
    return n.replace(/派出所$/, "所");
  }
  return String(st.name_en || st.name_zh || "").replace(/\s*\([^)]*\)\s*$/, "").replace(/\s+Station$/, "").trim();
}

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
