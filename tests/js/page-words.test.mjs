// Every page's words in both languages: each page's dictionaries are loaded (in a process of their
// own, as one page loads them) into the one runtime (baojing/web/shared/i18n.js), which must then
// know every key in Chinese and in English; and every key the page's HTML and JS name literally —
// t("key"), data-i18n="key" — must be one of them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const WEB = new URL("../../baojing/web/", import.meta.url);
// The pages on the shared runtime.
const PAGES = ["m", "officer", "admin", "traffic", "m/traffic"];  // console: tests/js/console.test.mjs

const read = (url) => readFileSync(url, "utf8");
// A module that imports words() from the runtime (shared/i18n.js, or its core shared/lang.js) registers a dictionary.
const REGISTERS = /import\s*\{[^}]*\bwords\b[^}]*\}\s*from\s*["'][^"']*(?:shared\/|\.\/)(?:i18n|lang)\.js["']/;
const files = (page) => readdirSync(new URL(`${page}/`, WEB)).filter((f) => /\.(js|html)$/.test(f) && f !== "sw.js");

// The modules that register words for a page: its own that call words(), and the shared ones it imports.
function wordModules(page) {
  const own = files(page).filter((f) => f.endsWith(".js") && REGISTERS.test(read(new URL(`${page}/${f}`, WEB))));
  const text = files(page).map((f) => read(new URL(`${page}/${f}`, WEB))).join("\n");
  const shared = readdirSync(new URL("shared/", WEB)).filter((f) => f !== "i18n.js" && f !== "lang.js" && text.includes(`shared/${f}`)
    && REGISTERS.test(read(new URL(`shared/${f}`, WEB))));
  return [...own.map((f) => new URL(`${page}/${f}`, WEB).href), ...shared.map((f) => new URL(`shared/${f}`, WEB).href)];
}

function loadWords(page) {
  const code = `
    import { register } from "node:module";
    register(${JSON.stringify(new URL("./web-paths.mjs", import.meta.url).href)});
    const i18n = await import(${JSON.stringify(new URL("shared/i18n.js", WEB).href)});
    for (const m of ${JSON.stringify(wordModules(page))}) await import(m);
    console.log(JSON.stringify({ missing: i18n.missingKeys(), keys: i18n.registeredKeys() }));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" }));
}

// Keys named literally: t("key"), t('key'), data-i18n*="key", and data-i18n* set from JS.
function usedKeys(page) {
  const used = new Map();
  const patterns = [/\bt\(\s*["']([A-Za-z]\w*)["']/g, /data-i18n(?:-ph|-title|-aria)?=["']([A-Za-z]\w*)["']/g,
    /["']data-i18n(?:-ph|-title|-aria)?["']\s*:\s*["']([A-Za-z]\w*)["']/g];
  for (const f of files(page)) {
    const text = read(new URL(`${page}/${f}`, WEB));
    for (const re of patterns) for (const m of text.matchAll(re)) used.set(m[1], f);
  }
  return used;
}

for (const page of PAGES) {
  test(`/${page}/: every word is there in Chinese and in English`, () => {
    const { missing, keys } = loadWords(page);
    assert.ok(keys.length > 20, `only ${keys.length} keys registered for /${page}/`);
    assert.deepEqual(missing, { en: [], zh: [] });
  });

  test(`/${page}/: every key its HTML and JS name is registered`, () => {
    const known = new Set(loadWords(page).keys);
    const unknown = [...usedKeys(page)].filter(([k]) => !known.has(k)).map(([k, f]) => `${k} (${f})`);
    assert.deepEqual(unknown, []);
  });
}

test("a missing English word is caught", () => {
  const code = `
    import { words, missingKeys } from ${JSON.stringify(new URL("shared/i18n.js", WEB).href)};
    words({ zh: { only_zh: "只有中文" }, en: {} });
    console.log(JSON.stringify(missingKeys()));`;
  const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" }));
  assert.deepEqual(out.en, ["only_zh"]);
  assert.ok(fileURLToPath(WEB));
});
