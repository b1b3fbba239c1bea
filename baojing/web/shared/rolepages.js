// Where each staff role works, from GET /api/config (`role_pages`, `labels.roles`, `labels.pages`,
// all from baojing/auth/roles.py): the login pages list it, and an account signed in on a page
// that is not its own is told where to go instead of meeting a dead end.

import { h } from "/shared/dom.js";
import { label, t, words } from "/shared/i18n.js";

words({
  zh: {
    rp_title: "各账号使用的页面",
    rp_none: "专用页面尚未开通",
    rp_here: "（本页）",
    rp_wrong: "账号“{user}”（{role}）不能使用本页面。",
    rp_go: "请打开：",
    rp_wait: "{role}的专用页面尚未开通，请联系管理员。",
  },
  en: {
    rp_title: "Which page each account uses",
    rp_none: "its page is not open yet",
    rp_here: " (this page)",
    rp_wrong: "Account “{user}” ({role}) cannot use this page.",
    rp_go: "Open: ",
    rp_wait: "No page for {role} accounts is open yet; please ask the administrator.",
  },
});

const pageLink = (path, here) => (path === here
  ? h("span", { class: "rp-here" }, label("pages", path), t("rp_here"))
  : h("a", { href: path, testid: "role-page-link", "data-page": path }, label("pages", path)));

// <ul data-testid="role-guide">: "出警民警 → 民警手机页", "交警 → 专用页面尚未开通", …
export function roleGuide(cfg, here) {
  const pages = (cfg && cfg.role_pages) || {};
  return h("ul", { class: "role-guide", testid: "role-guide", "aria-label": t("rp_title") },
    Object.entries(pages).map(([role, paths]) => h("li", { "data-role": role },
      h("b", null, label("roles", role)), " → ",
      paths.length ? paths.map((p, i) => [i ? " · " : null, pageLink(p, here)]) : h("span", { class: "muted" }, t("rp_none")))));
}

// What to tell a signed-in user whose role does not use this page: a sentence and the links to
// the right pages (or that the role's page is not open yet).
export function wrongPage(cfg, user, here) {
  const role = label("roles", user.role);
  const paths = ((cfg && cfg.role_pages) || {})[user.role] || [];
  const where = paths.filter((p) => p !== here);
  return h("span", { testid: "wrong-page", "data-role": user.role },
    t("rp_wrong", { user: user.username, role }), " ",
    where.length ? [t("rp_go"), where.map((p, i) => [i ? " · " : null, pageLink(p, here)])] : t("rp_wait", { role }));
}
