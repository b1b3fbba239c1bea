// Evidence files (recordings, snapshots, the caller's photos and clips) as the desk's call view
// and the incident's panel both show them: one item per file, its kind, time, length and size, and
// a thumbnail or a player. Players load nothing until played: each playback is audited.
import { t } from "/shared/i18n.js";
import { h } from "./util.js";
import { clockText } from "/shared/time.js";

const kindOf = (m) => (m.track === "audio" ? "audio" : m.kind);

export function mediaEl(m) {
  const kind = kindOf(m);
  if (m.mime && m.mime.startsWith("image/")) {
    return h("a", { href: m.url, target: "_blank", rel: "noopener", class: "ev-thumb" },
      h("img", { src: m.url, alt: t(`vd_kind_${kind}`), loading: "lazy" }));
  }
  if (kind === "audio") return h("audio", { src: m.url, controls: true, preload: "none" });
  return h("video", { src: m.url, controls: true, preload: "none", playsinline: true, class: "ev-video" });
}

// The label carries data-vk, so a language switch can say it again (videodesk relabel()).
export function evidenceItem(m) {
  const kind = kindOf(m);
  const el = h("div", { class: "ev-item", testid: "evidence-item", dataset: { mediaId: m.id, kind: m.kind } },
    h("div", { class: "ev-meta" }, h("b", { "data-vk": `kind_${kind}` }, t(`vd_kind_${kind}`)), ` ${clockText(m.created_at)}`,
      m.duration_s ? ` · ${m.duration_s.toFixed(1)} s` : "", ` · ${Math.round(m.size / 1024)} KB`),
    mediaEl(m));
  el.title = `SHA-256 ${m.sha256}`;
  return el;
}
