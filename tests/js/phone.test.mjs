// The caller page's phone rule (baojing/web/shared/phone.js) on the cases tests/test_phone_cases.py
// checks the server's baojing/phone.py with.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { normalizePhone } from "../../baojing/web/shared/phone.js";

const CASES = JSON.parse(readFileSync(new URL("../data/phone-cases.json", import.meta.url), "utf8"));

test("every number the server accepts is accepted, in the same canonical form", () => {
  for (const [raw, canonical] of CASES.valid) assert.equal(normalizePhone(raw), canonical, JSON.stringify(raw));
});

test("every number the server refuses is refused", () => {
  for (const raw of CASES.invalid) assert.equal(normalizePhone(raw), null, JSON.stringify(raw));
});

test("nothing typed is asked for, not called wrong", () => {
  for (const raw of CASES.empty) assert.equal(normalizePhone(raw), "", JSON.stringify(raw));
});
