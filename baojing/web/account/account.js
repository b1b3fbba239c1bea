// Account and security (账号与安全), for every staff role: my sessions (end one, or all others),
// my authenticator (enrol or replace it; the backup codes shown once). docs/security.md.
// testids: login-*, who, logout, totp-state, totp-start, totp-enrol, totp-qr, totp-secret,
//   totp-code, totp-confirm, backup-codes, sessions, session-end, end-others, lang-toggle

import { get, post, setUnauthorizedHandler } from "/shared/api.js";
import { h, put } from "/shared/dom.js";
import { applyStatic, errorText, getLang, onLang, setLang, t, words } from "/shared/i18n.js";
import { loginSteps } from "/shared/login.js";
import { dateTimeText } from "/shared/time.js";

words({
  zh: {
    acc_title: "账号与安全", acc_lang: "EN", acc_login_hint: "工作人员请用本人账号登录，查看和结束登录会话、绑定手机验证器。",
    acc_username: "用户名", acc_password: "密码", acc_login: "登录", acc_logout: "退出",
    acc_totp: "手机验证器（动态验证码）", acc_totp_on: "已绑定：登录时需要输入动态验证码。",
    acc_totp_off: "未绑定。绑定后，登录需要密码和手机上的动态验证码。", acc_totp_bind: "绑定验证器", acc_totp_replace: "更换手机",
    acc_totp_steps: "用手机验证器应用（如腾讯身份验证器、Google Authenticator）扫描二维码或输入密钥，再输入它显示的 6 位验证码。",
    acc_totp_key: "密钥", acc_totp_code: "验证器上的 6 位验证码", acc_totp_confirm: "确认绑定",
    acc_backup_text: "备用码：手机丢失时，每个可代替动态验证码用一次。只显示这一次，请抄下保存。",
    acc_sessions: "登录会话", acc_sessions_hint: "30 分钟无操作自动结束；打开并连接着的指挥台或民警页面算作在用。",
    acc_this: "本机", acc_end: "结束", acc_end_others: "结束其他所有会话", acc_ended: "已结束 {n} 个会话",
    acc_since: "登录于 {t}", acc_seen: "最近使用 {t}",
  },
  en: {
    acc_title: "Account & security", acc_lang: "中", acc_login_hint: "Staff: log in with your own account to see and end your sessions and set up your authenticator.",
    acc_username: "Username", acc_password: "Password", acc_login: "Log in", acc_logout: "Log out",
    acc_totp: "Authenticator (second factor)", acc_totp_on: "Set up: logging in needs the code from your phone.",
    acc_totp_off: "Not set up. Once set up, logging in needs your password and the code on your phone.",
    acc_totp_bind: "Set up authenticator", acc_totp_replace: "Move to a new phone",
    acc_totp_steps: "Scan the QR code (or type in the key) with an authenticator app (e.g. Tencent Authenticator, Google Authenticator), then enter the 6-digit code it shows.",
    acc_totp_key: "Key", acc_totp_code: "6-digit code from the app", acc_totp_confirm: "Confirm",
    acc_backup_text: "Backup codes: if you lose your phone, each works once in place of the code. Shown only now: write them down.",
    acc_sessions: "Sessions", acc_sessions_hint: "A session ends after 30 minutes without use; an open, connected console or officer page counts as use.",
    acc_this: "this one", acc_end: "End", acc_end_others: "End all other sessions", acc_ended: "{n} sessions ended",
    acc_since: "logged in {t}", acc_seen: "last used {t}",
  },
});

const $ = (id) => document.getElementById(id);
let me = null;

function showError(el, err) {
  el.textContent = err ? errorText(err) : "";
  el.hidden = !err;
}

function render() {
  applyStatic();
  document.title = `报警 · ${t("acc_title")}`;
  if (!me) return;
  $("who").textContent = `${me.display_name}（${me.username}）`;
  $("totp-state").textContent = t(me.second_factor ? "acc_totp_on" : "acc_totp_off");
  $("totp-start").textContent = t(me.second_factor ? "acc_totp_replace" : "acc_totp_bind");
}

// Which browser on which system, as a person tells their own sessions apart ("Chrome 120 · Android");
// the raw user-agent, cut at 60 characters, read "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, l".
const BROWSERS = [["MicroMessenger", "WeChat"], ["Edg", "Edge"], ["Firefox", "Firefox"], ["Chrome", "Chrome"],
  ["Version", "Safari"]];
const SYSTEMS = [["Android", "Android"], ["iPhone", "iPhone"], ["iPad", "iPad"], ["Windows", "Windows"],
  ["Mac OS X", "macOS"], ["Linux", "Linux"]];

function deviceText(ua) {
  if (!ua) return "?";
  const b = BROWSERS.map(([key, name]) => [name, new RegExp(`${key}/(\\d+)`).exec(ua)]).find(([, m]) => m);
  const sys = SYSTEMS.find(([key]) => ua.includes(key));
  const parts = [b && `${b[0]} ${b[1][1]}`, sys && sys[1]].filter(Boolean);
  return parts.length ? parts.join(" · ") : ua.slice(0, 60);
}

async function loadSessions() {
  const { sessions } = await get("/api/auth/sessions");
  put($("sessions"), sessions.map((s) => h("li", {},
    h("span", {}, h("span", { class: "muted" }, `${t("acc_since", { t: dateTimeText(s.created_at) })} · ${t("acc_seen", { t: dateTimeText(s.last_seen_at) })}`),
      h("br"), h("span", { title: s.user_agent || "", testid: "session-device" }, `${s.address || "?"} · ${deviceText(s.user_agent)}`)),
    s.current ? h("span", { class: "this" }, t("acc_this"))
      : h("button", { type: "button", class: "btn danger", testid: "session-end", onclick: () => endOne(s.id) }, t("acc_end")))));
}

async function endOne(id) {
  await post(`/api/auth/sessions/${encodeURIComponent(id)}/end`);
  await loadSessions();
}

async function showAccount(user) {
  me = user;
  $("login-form").hidden = true;
  $("account").hidden = false;
  render();
  await loadSessions();
}

function showLogin() {
  me = null;
  $("account").hidden = true;
  $("login-form").hidden = false;
  render();
}

async function onLogin(e) {
  e.preventDefault();
  showError($("login-error"), null);
  try {
    const res = await loginForm.submit($("login-username").value.trim(), $("login-password").value);
    $("login-password").value = "";
    await showAccount(res.user);
  } catch (err) {
    showError($("login-error"), err);
  }
}

async function startTotp() {
  showError($("totp-error"), null);
  try {
    const e = await post("/api/auth/totp/setup", {});
    $("totp-qr").src = e.qr_svg;
    $("totp-secret").textContent = e.secret.replace(/(.{4})/g, "$1 ").trim();
    $("totp-enrol").hidden = false;
    $("backup").hidden = true;
    $("totp-code").focus();
  } catch (err) {
    showError($("totp-error"), err);
  }
}

async function confirmTotp() {
  showError($("totp-error"), null);
  try {
    const { backup_codes } = await post("/api/auth/totp/confirm", { code: $("totp-code").value.trim() });
    $("totp-enrol").hidden = true;
    $("backup-list").textContent = backup_codes.join("\n");
    $("backup").hidden = false;
    me = (await get("/api/auth/me")).user;
    render();
  } catch (err) {
    showError($("totp-error"), err);
  }
}

let loginForm;

async function boot() {
  loginForm = loginSteps($("login-form"));
  $("login-form").addEventListener("submit", onLogin);
  $("lang-toggle").addEventListener("click", () => setLang(getLang() === "zh" ? "en" : "zh"));
  $("logout").addEventListener("click", async () => { await post("/api/auth/logout").catch(() => {}); showLogin(); });
  $("totp-start").addEventListener("click", startTotp);
  $("totp-confirm").addEventListener("click", confirmTotp);
  $("end-others").addEventListener("click", async () => { await post("/api/auth/sessions/end-others"); await loadSessions(); });
  onLang(() => { render(); if (me) loadSessions(); });
  setUnauthorizedHandler(() => showLogin());
  try {
    await showAccount((await get("/api/auth/me")).user);
  } catch {
    showLogin();
  }
}

boot();
