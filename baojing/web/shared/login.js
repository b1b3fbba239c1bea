// The staff login steps every staff page shares (docs/security.md): the password, then the
// authenticator's 6-digit code (or a backup code), enrolment by QR code on the first login, the
// backup codes shown once, and the lockout's "enter your code" — one copy for every page.
//
// A page keeps its own username and password fields and calls, instead of posting the login:
//   const steps = loginSteps(form);            // once; adds the code step into the form
//   const res = await steps.submit(username, password);   // {user} when logged in
// submit() throws the ApiError to show (errorText) when another step is needed; the form then
// shows that step, and the next submit() sends it.
// testids: login-code, login-code-hint, login-enrol, login-qr, login-secret, login-backup-codes,
//   login-backup-done

import { post } from "./api.js";
import { h, put } from "./dom.js";
import { onLang, t, words } from "./i18n.js";

words({
  zh: {
    login_code: "动态验证码",
    login_code_hint: "请输入手机验证器上的 6 位动态验证码；手机不在身边时，可输入一个备用码。",
    login_locked_hint: "登录失败次数过多，密码登录已暂时锁定。请同时输入密码和动态验证码登录。",
    login_enrol_title: "绑定手机验证器",
    login_enrol_steps: "1. 在手机上打开验证器应用（如腾讯身份验证器、Google Authenticator）。2. 扫描下面的二维码，或手动输入密钥。3. 在下方输入验证器显示的 6 位验证码，然后登录。",
    login_enrol_secret: "密钥",
    login_backup_title: "请保存备用码",
    login_backup_text: "手机丢失时，每个备用码可代替动态验证码使用一次。它们只显示这一次：请抄下或打印，妥善保管。",
    login_backup_done: "我已保存，继续",
  },
  en: {
    login_code: "Authenticator code",
    login_code_hint: "Enter the 6-digit code from your authenticator app; without your phone, enter a backup code.",
    login_locked_hint: "Too many failed logins: password-only login is locked for now. Enter your password and authenticator code together.",
    login_enrol_title: "Set up your authenticator",
    login_enrol_steps: "1. Open an authenticator app on your phone (e.g. Tencent Authenticator, Google Authenticator). 2. Scan the QR code below, or type in the key. 3. Enter the 6-digit code it shows below, then log in.",
    login_enrol_secret: "Key",
    login_backup_title: "Save your backup codes",
    login_backup_text: "If you lose your phone, each backup code works once in place of the authenticator code. They are shown only now: write them down or print them and keep them safe.",
    login_backup_done: "I have saved them, continue",
  },
});

const CODE_STEPS = new Set(["totp_required", "login_locked", "bad_code", "totp_enrolment_required"]);
const attached = new WeakMap();

// One set of steps per form: a page that renders its form again (lit-html) may call this on
// every submit and gets the same steps back.
export function loginSteps(form) {
  if (!attached.has(form)) attached.set(form, makeSteps(form));
  return attached.get(form);
}

function makeSteps(form) {
  let hintKey = "login_code_hint";
  const input = h("input", {
    id: "login-code", name: "code", testid: "login-code", inputmode: "numeric", autocomplete: "one-time-code",
    maxlength: "20", style: "letter-spacing:.15em",
  });
  const label = h("label", { for: "login-code" });
  const hint = h("p", { class: "muted", testid: "login-code-hint", style: "margin:.25em 0" });
  const qr = h("img", { testid: "login-qr", alt: "", width: "164", height: "164", style: "display:block;margin:.5em auto;background:#fff" });
  const secret = h("code", { testid: "login-secret", style: "word-break:break-all;user-select:all" });
  const enrol = h("div", { testid: "login-enrol", hidden: true });
  const codeBox = h("div", { hidden: true }, enrol, label, hint, input);
  const anchor = form.querySelector("[data-testid=login-error]") || form.querySelector("[data-testid=login-submit]");
  form.insertBefore(codeBox, anchor);

  function render() {
    label.textContent = t("login_code");
    hint.textContent = t(hintKey);
    if (!enrol.hidden) {
      put(enrol, h("strong", {}, t("login_enrol_title")), h("p", { class: "muted", style: "margin:.25em 0" }, t("login_enrol_steps")),
        qr, h("p", { style: "margin:.25em 0" }, `${t("login_enrol_secret")}: `, secret));
    }
  }
  onLang(render);
  render();

  function showCode(key) {
    hintKey = key;
    codeBox.hidden = false;
    render();
    setTimeout(() => input.focus(), 0);
  }

  async function enrolFor(username, password) {
    const e = await post("/api/auth/totp/enrol", { username, password });
    qr.src = e.qr_svg;
    secret.textContent = e.secret.replace(/(.{4})/g, "$1 ").trim();
    enrol.hidden = false;
    showCode("login_code_hint");
  }

  function showBackupCodes(codes) {
    return new Promise((resolve) => {
      const done = h("button", { type: "button", class: "btn btn-primary btn-big", testid: "login-backup-done" }, t("login_backup_done"));
      const panel = h("div", { testid: "login-backup-codes", role: "dialog" },
        h("h2", {}, t("login_backup_title")), h("p", { class: "muted" }, t("login_backup_text")),
        h("pre", { style: "font-size:1.1em;line-height:1.7;user-select:all" }, codes.join("\n")), done);
      const kept = [...form.children];
      for (const c of kept) c.hidden = true;
      form.append(panel);
      done.addEventListener("click", () => {
        panel.remove();
        for (const c of kept) c.hidden = false;
        resolve();
      });
      done.focus();
    });
  }

  async function submit(username, password) {
    const code = codeBox.hidden ? undefined : input.value.trim() || undefined;
    try {
      const res = await post("/api/auth/login", code ? { username, password, code } : { username, password });
      input.value = "";
      codeBox.hidden = true;
      enrol.hidden = true;
      if (res.backup_codes) await showBackupCodes(res.backup_codes);
      return res;
    } catch (err) {
      if (err.code === "totp_enrolment_required") await enrolFor(username, password);
      else if (err.code === "login_locked") showCode("login_locked_hint");
      else if (CODE_STEPS.has(err.code)) showCode("login_code_hint");
      if (err.code === "bad_code") input.select();
      throw err;
    }
  }

  return { submit, codeInput: input };
}
