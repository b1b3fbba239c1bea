// One copy of each helper the pages share: time and distance live in baojing/web/shared/ only
// (copies drift: the console once had its own parseTime and a second distance formula).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = fileURLToPath(new URL("../../baojing/web/", import.meta.url));
const SHARED = {
  parseTime: "shared/time.js", clockText: "shared/time.js", dateTimeText: "shared/time.js",
  elapsedText: "shared/time.js", distanceM: "shared/distance.js",
};
// Copies under other names are caught by what they do: formatting a clock or an age by hand.
const SHAPES = [/function fmt(Age|Clock|DateTime)\b/, /6371008\.8/];

function* scripts(dir, rel = "") {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* scripts(join(dir, e.name), `${rel}${e.name}/`);
    else if (e.name.endsWith(".js")) yield [`${rel}${e.name}`, readFileSync(join(dir, e.name), "utf8")];
  }
}

test("time and distance helpers are defined once, in shared/", () => {
  const found = [];
  for (const [path, src] of scripts(WEB)) {
    for (const [name, home] of Object.entries(SHARED)) {
      if (path !== home && new RegExp(`(function|const|let)\\s+${name}\\b`).test(src)) found.push(`${path}: ${name}`);
    }
    for (const re of SHAPES) if (path !== "shared/distance.js" && re.test(src)) found.push(`${path}: ${re}`);
  }
  assert.deepEqual(found, []);
});
