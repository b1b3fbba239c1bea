// Lets node import the browser's ES modules as the pages do: "/shared/x.js", "/console/x.js" and
// "/vendor/lit-html/..." are absolute paths on the site, mapped here to the files.
// Use: node --import ./tests/js/webroot.mjs --test tests/js/
import { register } from "node:module";

register("./webroot-hooks.mjs", import.meta.url);
