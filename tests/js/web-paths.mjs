// Module hooks for node: the pages' absolute imports ("/shared/dom.js") resolve to baojing/web/,
// and lit-html to node_modules, as the server's static mounts do.
const WEB = new URL("../../baojing/web/", import.meta.url);
const VENDOR = new URL("../../node_modules/", import.meta.url);  // "/vendor/lit-html/…" (app.py's mounts)

export async function resolve(specifier, context, next) {
  if (/^\/(shared|m|officer|admin|console)\//.test(specifier)) return next(new URL(specifier.slice(1), WEB).href, context);
  // lit-html's node build: the browser one reaches for `document` as it loads.
  if (specifier.startsWith("/vendor/lit-html/")) return next(new URL(`lit-html/node/${specifier.slice(17)}`, VENDOR).href, context);
  return next(specifier, context);
}
