// Small DOM helpers for every page (no framework).

// h("div", {class: "x", testid: "y", onclick: fn}, child, "text", [more]) -> element;
// {text: "…"} sets the text instead of children.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "testid") el.setAttribute("data-testid", v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "text") el.textContent = v;
    else if (k === "value") value = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "checked" || k === "disabled" || k === "selected") el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  if (value !== undefined) el.value = value;
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replace an element's children (null / false children are skipped, as in h()).
export function put(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// Set an element's text only when it changed (no needless layout, no lost selection).
export function setText(el, s) {
  if (el && el.textContent !== s) el.textContent = s;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// Text made safe to put inside HTML (Leaflet tooltips and popups take HTML strings).
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
