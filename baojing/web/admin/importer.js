// CSV import panel (stations or units): the column format, a downloadable example, a file picker
// that reads the file into an editable text box, and the server's verdict line by line.
import { postCsv } from "/shared/api.js";
import { t, lang, errorText } from "/shared/i18n.js";
import { h, clear } from "./util.js";
import { fieldColumn, dropBlankLines } from "./csv.js";

const MAX_CHARS = 60000;

const SPEC = {
  stations: {
    path: "/api/admin/stations/import",
    example: "/admin/example-stations.csv",
    columns: [
      ["code", "c_code", "st-north"], ["name_zh", "c_name_zh", "双塔区凌河派出所"],
      ["name_en", "c_name_en", "Linghe Station"], ["lat", "c_lat", "41.6"], ["lon", "c_lon", "120.48"],
      ["address", "c_address", "\"凌河路 1 号, 双塔区\""],
      ["jurisdiction", "c_jurisdiction", "41.63 120.437;41.70 120.47;41.585 120.60"],
    ],
  },
  units: {
    path: "/api/admin/units/import",
    example: "/admin/example-units.csv",
    columns: [
      ["call_sign", "c_call_sign", "双塔21"], ["kind", "c_kind", "car"], ["station_code", "c_station_code", "st-station"],
      ["members", "c_members", "officer officer2"],
    ],
  },
};

// Excel in China saves CSV as GBK unless told otherwise: try UTF-8 first, then GBK.
async function readText(file) {
  const buf = await file.arrayBuffer();
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    try {
      return new TextDecoder("gbk").decode(buf);
    } catch {
      return new TextDecoder("utf-8").decode(buf);
    }
  }
}

export class ImportPanel {
  // kind: "stations" | "units"; ctx: {onImported(n), onClose()}
  constructor(pane, kind, ctx) {
    this.pane = pane;
    this.kind = kind;
    this.ctx = ctx;
    this.spec = SPEC[kind];
    this.s = { text: "", fileName: null, note: null, result: null, busy: false, sentLines: [] };
  }

  open() {
    this.render();
  }

  render() {
    const s = this.s;
    clear(this.pane);
    const fileInput = h("input", { type: "file", accept: ".csv,text/csv,text/plain", testid: "import-file",
      id: `import-file-${this.kind}`, class: "file-input", onchange: (e) => this.loadFile(e.target.files[0]) });
    this.textEl = h("textarea", { testid: "import-text", id: `import-text-${this.kind}`, rows: 7, spellcheck: "false",
      class: "mono", placeholder: t("paste_ph"), value: s.text, wrap: "off",
      oninput: (e) => { s.text = e.target.value; s.note = null; this.renderNote(); } });
    this.noteEl = h("div", { class: "muted small", testid: "import-note" });
    this.resultEl = h("div", { class: "import-result", testid: "import-result", role: "status", "aria-live": "polite" });
    this.submitBtn = h("button", { type: "submit", class: "btn btn-primary", testid: "import-submit" }, t("do_import"));
    const cols = this.spec.columns;
    this.pane.append(h("form", {
      class: "form import", testid: "import-panel", dataset: { kind: this.kind }, novalidate: true,
      onsubmit: (e) => { e.preventDefault(); this.submit(); },
    },
    h("div", { class: "form-head" }, h("h2", null, t(`import_title_${this.kind}`)),
      h("button", { type: "button", class: "btn btn-small", testid: "import-close", onclick: () => this.ctx.onClose() }, t("close"))),
    h("div", { class: "form-body" },
      h("div", { class: "label-row" }, h("span", null),
        h("a", { class: "btn btn-small", href: this.spec.example, download: `example-${this.kind}.csv`, testid: "import-example" },
          `⤓ ${t("download_example")}`)),
      this.helpEl = h("details", { class: "help", testid: "import-help", open: !s.helpClosed,
        ontoggle: (e) => { s.helpClosed = !e.target.open; } },
      h("summary", null, h("b", null, t("import_columns"))),
      h("table", { class: "grid spec", testid: "import-format" },
        h("thead", null, h("tr", null, h("th", null, t("import_col")), h("th", null, t("import_meaning")), h("th", null, t("import_example")))),
        h("tbody", null, cols.map(([c, key, ex]) => h("tr", null, h("td", { class: "mono strong" }, c),
          h("td", { class: "small" }, t(key)), h("td", { class: "mono small ex" }, ex))))),
      h("pre", { class: "example mono small", testid: "import-header-line" }, cols.map((c) => c[0]).join(",")),
      h("ul", { class: "rules small" }, h("li", null, t(`import_rules_${this.kind}`)))),
      h("p", { class: "rule-all small strong" }, t("import_rule_all")),
      h("div", { class: "file-row" }, h("label", { class: "btn btn-small", for: fileInput.id }, t("choose_file")), fileInput,
        this.noteEl),
      h("label", { for: this.textEl.id, class: "small" }, t("paste_label")), this.textEl),
    h("div", { class: "form-foot" }, this.resultEl, h("div", { class: "buttons" }, this.submitBtn))));
    this.renderNote();
    this.renderResult();
  }

  renderNote() {
    const n = this.s.note;
    this.noteEl.textContent = n ? t(n.key, n.vars) : "";
  }

  async loadFile(file) {
    if (!file) return;
    const text = (await readText(file)).replace(/^\ufeff/, "");
    this.s.text = text;
    this.s.fileName = file.name;
    this.s.result = null;
    this.textEl.value = text;
    this.s.note = { key: "file_loaded", vars: { name: file.name, n: text.split(/\r\n|\r|\n/).filter((l) => l.trim()).length } };
    this.renderNote();
    this.renderResult();
  }

  async submit() {
    const s = this.s;
    if (s.busy) return;
    s.text = this.textEl.value;
    if (!s.text.trim()) {
      s.result = { local: { key: "import_empty" } };
      return this.renderResult();
    }
    // The server counts rows, not lines: without blank lines the two agree with this text box.
    const { text, removed } = dropBlankLines(s.text.replace(/^\ufeff/, ""));
    if (removed) {
      s.text = text;
      this.textEl.value = text;
      s.note = { key: "import_blank_removed", vars: { n: removed } };
      this.renderNote();
    }
    if (text.length > MAX_CHARS || new Blob([text]).size > 64 * 1024) {
      s.result = { local: { key: "import_too_big", vars: { kb: Math.ceil(new Blob([text]).size / 1024) } } };
      return this.renderResult();
    }
    s.busy = true;
    s.result = null;
    if (this.ctx.onSubmit) this.ctx.onSubmit();
    // Make room for the answer next to the text it is about.
    s.helpClosed = true;
    this.helpEl.open = false;
    s.sentLines = text.split("\n");
    this.renderResult();
    try {
      const res = await postCsv(this.spec.path, text);
      s.result = { ok: true, n: res.imported };
      s.text = "";
      this.textEl.value = "";
      s.fileName = null;
      s.note = null;
      this.renderNote();
      // The server names the rows it saved, so the table can mark what just came in.
      this.ctx.onImported(res.imported, res.keys || []);
    } catch (err) {
      s.result = { error: err };
    } finally {
      s.busy = false;
      this.renderResult();
    }
  }

  selectLine(n) {
    const lines = this.textEl.value.split("\n");
    if (n < 1 || n > lines.length) return;
    const start = lines.slice(0, n - 1).reduce((a, l) => a + l.length + 1, 0);
    this.textEl.focus();
    this.textEl.setSelectionRange(start, start + lines[n - 1].length);
    // Scroll the line into view (rows are about one line-height apart).
    const lh = parseFloat(getComputedStyle(this.textEl).lineHeight) || 18;
    this.textEl.scrollTop = Math.max(0, (n - 3) * lh);
  }

  renderResult() {
    const s = this.s;
    const el = clear(this.resultEl);
    this.submitBtn.disabled = s.busy;
    this.submitBtn.textContent = s.busy ? t("importing") : t("do_import");
    const r = s.result;
    el.hidden = !r;
    if (!r) {
      el.dataset.state = s.busy ? "busy" : "";
      return;
    }
    if (r.ok) {
      el.dataset.state = "ok";
      el.append(h("div", { class: "res-ok", testid: "import-ok" }, `✔ ${t(`import_ok_${this.kind}`, { n: r.n })}`));
      return;
    }
    el.dataset.state = "error";
    if (r.local) {
      el.append(h("div", { class: "res-head", testid: "import-error" }, t(r.local.key, r.local.vars)));
      return;
    }
    const err = r.error;
    el.dataset.code = err.code;
    const msg = (lang === "zh" ? err.message_zh : err.message_en) || err.message_en || err.message_zh;
    // The server names each bad cell: {line, field, message_zh, message_en}; nothing to guess here.
    const problems = (err.errors || []).filter((p) => Number.isInteger(p.line));
    if (!problems.length) {
      el.append(h("div", { class: "res-head", testid: "import-error" }, `✖ ${errorText(err)}`),
        h("div", { class: "small" }, t("import_failed")));
      return;
    }
    el.append(h("div", { class: "res-head", testid: "import-error" }, `✖ ${t("import_refused", { n: problems.length })}`),
      h("ol", { class: "problems", testid: "import-problems" }, problems.map((p) => {
        const { column, point } = fieldColumn(p.field);
        const where = [t("import_line", { n: p.line }),
          column ? t("import_column", { c: point ? `${column} #${point}` : column }) : null].filter(Boolean).join(" · ");
        const content = s.sentLines[p.line - 1];
        return h("li", { testid: "import-error-line", dataset: { line: p.line, field: p.field }, title: t("import_select_line"),
          onclick: () => this.selectLine(p.line) },
        h("b", null, where), h("span", null, `${lang === "zh" ? "：" : ": "}${lang === "zh" ? p.message_zh : p.message_en}`),
        content !== undefined ? h("code", { class: "line-text" }, content || " ") : null);
      })),
      h("details", { class: "server-text small" }, h("summary", null, t("import_server_text")),
        h("div", { testid: "import-server-message" }, msg)));
  }
}
