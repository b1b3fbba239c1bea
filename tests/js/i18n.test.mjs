// The shared language runtime (baojing/web/shared/i18n.js), run with node's own test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { agoText, distanceText, durationText, errorText, missingKeys, onLang, pick, setLang, t, words } from "../../baojing/web/shared/i18n.js";

words({ zh: { hello: "你好，{who}" }, en: { hello: "Hello, {who}" } });

test("a key is filled in the chosen language and falls back to itself when unknown", () => {
  setLang("zh", { remember: false });
  assert.equal(t("hello", { who: "民警" }), "你好，民警");
  setLang("en", { remember: false });
  assert.equal(t("hello", { who: "officer" }), "Hello, officer");
  assert.equal(t("no_such_key"), "no_such_key");
});

test("a placeholder without a value stays visible", () => {
  setLang("en", { remember: false });
  assert.equal(t("hello"), "Hello, {who}");
});

test("listeners hear every switch", () => {
  const heard = [];
  const off = onLang((l) => heard.push(l));
  setLang("zh", { remember: false });
  setLang("en", { remember: false });
  off();
  setLang("zh", { remember: false });
  assert.deepEqual(heard, ["zh", "en"]);
});

test("server labels and errors come out in the chosen language", () => {
  setLang("en", { remember: false });
  assert.equal(pick({ zh: "派出所", en: "Station" }), "Station");
  assert.equal(pick({ name_zh: "双塔区", name_en: "Shuangta" }), "Shuangta");
  const err = { message_zh: "输入有误", message_en: "Bad input", errors: [{ message_zh: "电话不对", message_en: "Bad phone" }] };
  assert.equal(errorText(err), "Bad input: Bad phone");
  setLang("zh", { remember: false });
  assert.equal(errorText(err), "输入有误：电话不对");
});

test("distances and ages read as people say them", () => {
  setLang("zh", { remember: false });
  assert.equal(distanceText(57), "57 米");
  assert.equal(distanceText(857), "860 米");
  assert.equal(distanceText(12345), "12 公里");
  assert.equal(agoText(1000), "刚刚");
  assert.equal(agoText(180000), "3 分钟前");
});

test("a key registered in one language only is reported", () => {
  words({ zh: { only_zh: "只有中文" } });
  assert.deepEqual(missingKeys().en, ["only_zh"]);
});

test("an exact duration reads in words, never like a clock", () => {
  setLang("en", { remember: false });
  assert.equal(durationText(42_000, { exact: true }), "42 s");
  assert.equal(durationText(642_400, { exact: true }), "10 min 42 s");
  assert.equal(durationText(65_000, { exact: true }), "1 min 05 s");
  assert.equal(durationText(3_757_000, { exact: true }), "1 h 02 min");
  assert.equal(durationText(-5, { exact: true }), "0 s");
  setLang("zh", { remember: false });
  assert.equal(durationText(642_400, { exact: true }), "10 分 42 秒");
  assert.equal(durationText(642_400), "10 分钟");
});
