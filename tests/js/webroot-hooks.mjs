// Resolve hook for webroot.mjs (runs in node's loader thread).
import { pathToFileURL } from "node:url";
import { resolve as resolvePath } from "node:path";

const ROOT = resolvePath(new URL(".", import.meta.url).pathname, "../..");
const MOUNTS = [
  ["/vendor/lit-html/", `${ROOT}/node_modules/lit-html/`],
  ["/shared/", `${ROOT}/baojing/web/shared/`],
  ["/console/", `${ROOT}/baojing/web/console/`],
  ["/officer/", `${ROOT}/baojing/web/officer/`],
  ["/admin/", `${ROOT}/baojing/web/admin/`],
  ["/m/", `${ROOT}/baojing/web/m/`],
];

export async function resolve(specifier, context, next) {
  for (const [prefix, dir] of MOUNTS) {
    if (specifier.startsWith(prefix)) return next(pathToFileURL(dir + specifier.slice(prefix.length)).href, context);
  }
  return next(specifier, context);
}
