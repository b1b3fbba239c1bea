// Time as the API sends it (baojing/web/shared/time.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { clockText, dateTimeText, elapsedText, parseTime, whenText } from "../../baojing/web/shared/time.js";
import { parseDateTimeText } from "../../baojing/web/shared/timeinput.js";

process.env.TZ = "Asia/Shanghai";

test("a datetime without a zone is UTC, with one it is honoured", () => {
  assert.equal(parseTime("2026-12-01T02:00:00"), Date.UTC(2026, 11, 1, 2));
  assert.equal(parseTime("2026-12-01T02:00:00Z"), Date.UTC(2026, 11, 1, 2));
  assert.equal(parseTime("2026-12-01T10:00:00+08:00"), Date.UTC(2026, 11, 1, 2));
  assert.equal(parseTime("2026-12-01T02:00:00.250000"), Date.UTC(2026, 11, 1, 2) + 250);
  assert.equal(parseTime(1234), 1234);
  assert.equal(parseTime(null), null);
  assert.equal(parseTime(""), null);
  assert.equal(parseTime("not a time"), null);
});

test("clock and date read in local time, empty when there is no time", () => {
  const v = "2026-12-01T02:03:04Z";
  assert.equal(clockText(v), "10:03:04");
  assert.equal(dateTimeText(v), "2026-12-01 10:03:04");
  assert.equal(whenText(v, Date.UTC(2026, 11, 1, 5)), "10:03:04");
  assert.equal(whenText(v, Date.UTC(2026, 11, 3, 5)), "12-1 10:03:04");
  assert.equal(clockText(null), "");
});

test("a running timer reads mm:ss, with hours when it gets there", () => {
  assert.equal(elapsedText(157_000), "02:37");
  assert.equal(elapsedText(3_757_000), "1:02:37");
  assert.equal(elapsedText(-5), "00:00");
});

test("a date and time typed the way dateTimeText writes it reads back, anything else does not", () => {
  assert.equal(parseDateTimeText("2026-12-01 10:03"), Date.UTC(2026, 11, 1, 2, 3));
  assert.equal(parseDateTimeText(" 2026-12-01 10:03:04 "), Date.UTC(2026, 11, 1, 2, 3, 4));
  assert.equal(parseDateTimeText(dateTimeText("2026-12-01T02:03:04Z")), Date.UTC(2026, 11, 1, 2, 3, 4));
  assert.equal(parseDateTimeText("2026-2-3 8:05"), Date.UTC(2026, 1, 3, 0, 5));
  for (const bad of ["", null, "12/01/2026, 06:00 PM", "2026-02-30 10:00", "2026-12-01 24:00", "2026-12-01"]) {
    assert.equal(parseDateTimeText(bad), null, String(bad));
  }
});
