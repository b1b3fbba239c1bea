// Evidence files (recordings, snapshots, the caller's photos and clips) as the desk's call view
// and the incident's panel both show them: one item per file, its kind, time, length and size, and
// a thumbnail or a player (lit-html templates). Players load nothing until played: each playback is
// audited.
import { html } from "/vendor/lit-html/lit-html.js";
import { t } from "/shared/i18n.js";
import { clockText } from "/shared/time.js";

const kindOf = (m) => (m.track === "audio" ? "audio" : m.kind);

export function mediaTpl(m) {
  const kind = kindOf(m);
  if (m.mime && m.mime.startsWith("image/")) {
    return html`<a href=${m.url} target="_blank" rel="noopener" class="ev-thumb"><img src=${m.url} alt=${t(`vd_kind_${kind}`)}
      loading="lazy"></a>`;
  }
  if (kind === "audio") return html`<audio src=${m.url} controls preload="none"></audio>`;
  return html`<video src=${m.url} controls preload="none" playsinline class="ev-video"></video>`;
}

export function evidenceTpl(m) {
  const kind = kindOf(m);
  return html`<div class="ev-item" data-testid="evidence-item" data-media-id=${m.id} data-kind=${m.kind} title="SHA-256 ${m.sha256}">
    <div class="ev-meta"><b>${t(`vd_kind_${kind}`)}</b> ${clockText(m.created_at)}${
      m.duration_s ? ` · ${m.duration_s.toFixed(1)} s` : ""} · ${Math.round(m.size / 1024)} KB</div>
    ${mediaTpl(m)}
  </div>`;
}
