// Module hooks for node: the pages' absolute imports ("/shared/dom.js") resolve to baojing/web/,
// as the server's static mounts do.
const WEB = new URL("../../baojing/web/", import.meta.url);

export async function resolve(specifier, context, next) {
  if (/^\/(shared|m|officer|admin|console)\//.test(specifier)) return next(new URL(specifier.slice(1), WEB).href, context);
  return next(specifier, context);
}
