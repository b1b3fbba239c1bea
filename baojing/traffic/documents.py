"""The case's documents as PDF (reportlab): the determination (道路交通事故认定书（简易程序）) and the
self-settlement agreement (道路交通事故自行协商协议书). Chinese text needs a CJK font embedded in the
file: reportlab embeds TrueType outlines only, so the font is WenQuanYi Zen Hei (Debian's
fonts-wqy-zenhei, installed by the Makefile), not Noto CJK (CFF outlines, which reportlab refuses)."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..config import Settings
from ..errors import DomainError
from ..phone import mask_phone
from .models import A, B, ROLES, TrafficCase, TrafficParty, TrafficPhoto

BEIJING = timezone(timedelta(hours=8))
FONT = "BaojingCJK"
VEHICLES_ZH = {"small_car": "小型轿车", "small_bus": "小型普通客车", "medium_bus": "中型客车", "large_bus": "大型客车",
               "light_truck": "轻型货车", "heavy_truck": "中重型货车", "other": "其他"}
LEVELS_ZH = {"full": "全部责任", "main": "主要责任", "equal": "同等责任", "secondary": "次要责任", "none": "无责任"}
_registered: str | None = None


class FontMissing(DomainError):
    status, code = 503, "pdf_font_missing"


def _font(path: Path) -> None:
    global _registered
    if _registered == str(path):
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not path.is_file():
        raise FontMissing("服务器缺少中文字体，暂时无法生成文书", f"The CJK font {path} is not installed (make deps)")
    from reportlab import rl_config

    # Binary streams: ASCII85 doubles the work in pure Python (measured: 0.7 of 1.0 s per
    # document with six photos) for a file that travels over HTTP anyway.
    rl_config.useA85 = 0
    pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    _registered = str(path)


def _when(v: datetime | str | None) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v.astimezone(BEIJING).strftime("%Y年%m月%d日 %H:%M")


def _where(case: TrafficCase) -> str:
    at = f"北纬 {case.lat:.5f}，东经 {case.lon:.5f}" if case.lat is not None else ""
    if case.place_text:
        return f"{case.place_text}（{at}）" if at else case.place_text
    return at or "-"


def _thumb(settings: Settings, photo: TrafficPhoto) -> tuple[str, tuple[int, int]]:
    """The photo's upright 480 px copy (the drivers' thumbnail, made once): a JPEG file, which
    reportlab embeds as it is instead of decoding and recompressing it."""
    from PIL import Image

    from .photos import derived

    path = derived(settings, photo, "thumb")
    with Image.open(path) as im:
        return str(path), im.size


class _Page:
    """A top-down writer on an A4 canvas."""

    def __init__(self, title: str, subtitle: str):
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=A4, pageCompression=1)
        self.c.setTitle(title)
        self.c.setAuthor("Baojing 报警")
        self.w, self.h = A4
        self.margin = 48
        self.title, self.subtitle = title, subtitle
        self._head()

    def _head(self) -> None:
        c = self.c
        c.setFont(FONT, 18)
        c.drawCentredString(self.w / 2, self.h - 60, self.title)
        c.setFont(FONT, 9.5)
        c.drawCentredString(self.w / 2, self.h - 78, self.subtitle)
        c.setLineWidth(0.8)
        c.line(self.margin, self.h - 88, self.w - self.margin, self.h - 88)
        self.y = self.h - 108

    def need(self, height: float) -> None:
        if self.y - height < 60:
            self.c.showPage()
            self._head()

    def text(self, s: str, size: float = 10.5, indent: float = 0, lead: float | None = None) -> None:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        lead = lead or size * 1.55
        width = self.w - 2 * self.margin - indent
        line = ""
        for ch in s:
            if ch == "\n" or stringWidth(line + ch, FONT, size) > width:
                self.need(lead)
                self.c.setFont(FONT, size)
                self.c.drawString(self.margin + indent, self.y, line)
                self.y -= lead
                line = "" if ch == "\n" else ch
            else:
                line += ch
        if line:
            self.need(lead)
            self.c.setFont(FONT, size)
            self.c.drawString(self.margin + indent, self.y, line)
            self.y -= lead

    def label(self, k: str, v: str) -> None:
        self.need(16)
        self.c.setFont(FONT, 10.5)
        self.c.drawString(self.margin, self.y, k)
        y0 = self.y
        self.text(v, indent=78)
        if self.y == y0:
            self.y -= 16

    def section(self, s: str) -> None:
        self.need(28)
        self.y -= 6
        self.c.setFont(FONT, 12)
        self.c.drawString(self.margin, self.y, s)
        self.y -= 18

    def table(self, head: list[str], rows: list[list[str]], widths: list[float]) -> None:
        row_h = 20
        self.need(row_h * (len(rows) + 1) + 4)
        x0 = self.margin
        c = self.c
        for r, cells in enumerate([head, *rows]):
            x = x0
            c.setFont(FONT, 9.5 if r else 9)
            if r == 0:
                c.setFillGray(0.92)
                c.rect(x0, self.y - 6, sum(widths), row_h, stroke=0, fill=1)
                c.setFillGray(0)
            for cell, wdt in zip(cells, widths):
                c.drawString(x + 4, self.y, cell)
                x += wdt
            c.setLineWidth(0.4)
            c.line(x0, self.y - 6, x0 + sum(widths), self.y - 6)
            self.y -= row_h
        self.y -= 6

    def photos(self, case: TrafficCase, photos: dict[int, TrafficPhoto], settings: Settings) -> None:
        self.section("现场照片（SHA-256 为原件的哈希值，可用于核对）")
        cols, gap = 3, 10
        cell_w = (self.w - 2 * self.margin - gap * (cols - 1)) / cols
        cell_h = cell_w * 0.75
        items = sorted(photos.items())
        for i in range(0, len(items), cols):
            self.need(cell_h + 46)
            top = self.y
            for j, (slot, p) in enumerate(items[i:i + cols]):
                x = self.margin + j * (cell_w + gap)
                img, (iw, ih) = _thumb(settings, p)
                scale = min(cell_w / iw, cell_h / ih)
                dw, dh = iw * scale, ih * scale
                self.c.drawImage(img, x + (cell_w - dw) / 2, top - cell_h + (cell_h - dh) / 2, dw, dh)
                self.c.setLineWidth(0.4)
                self.c.rect(x, top - cell_h, cell_w, cell_h)
                self.c.setFont(FONT, 9)
                self.c.drawString(x, top - cell_h - 12, f"{slot + 1}. {case.checklist[slot]['title_zh']}")
                self.c.setFont("Courier", 6.2)
                self.c.drawString(x, top - cell_h - 22, p.sha256[:32])
                self.c.drawString(x, top - cell_h - 30, p.sha256[32:])
            self.y = top - cell_h - 44

    def finish(self) -> bytes:
        self.c.setFont(FONT, 8)
        self.c.drawString(self.margin, 36, f"本文书由朝阳110网上报警平台生成 · 生成时间 {_when(datetime.now(timezone.utc))}")
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def _party_rows(parties: dict[str, TrafficParty], liability: dict | None, mask: bool) -> list[list[str]]:
    rows = []
    for r in ROLES:
        p = parties[r]
        phone = (mask_phone(p.phone) if mask else p.phone) if p.phone else "-"
        rows.append(["甲方" if r == A else "乙方", p.plate or "-", VEHICLES_ZH.get(p.vehicle_type or "", "-"),
                     (p.insurer or "-")[:12], phone, LEVELS_ZH[liability[r]] if liability else "-"])
    return rows


def determination(settings: Settings, case: TrafficCase, parties: dict[str, TrafficParty],
                  photos: dict[int, TrafficPhoto]) -> bytes:
    _font(settings.traffic_pdf_font)
    d = case.decision
    pg = _Page("道路交通事故认定书（简易程序）", f"编号：快处〔{_when(case.submitted_at)[:4]}〕第 {case.id:06d} 号")
    pg.label("事故时间", _when(case.submitted_at))
    pg.label("事故地点", _where(case))
    pg.section("当事人及车辆")
    pg.table(["当事人", "号牌号码", "车辆类型", "保险公司", "联系电话", "责任"], _party_rows(parties, d["liability"], False),
             [52, 82, 80, 100, 92, 90])
    pg.section("交通事故事实")
    pg.text(case.description or "当事人未填写描述，以现场照片为准。")
    pg.section("责任认定及依据")
    pg.text(f"依据{d['rule_zh']}，认定：甲方（{parties[A].plate}）承担{LEVELS_ZH[d['liability'][A]]}，"
            f"乙方（{parties[B].plate}）承担{LEVELS_ZH[d['liability'][B]]}。")
    if d.get("note"):
        pg.text(f"说明：{d['note']}")
    pg.text("当事人对本认定有异议的，可在快处页面提出异议；各方可就损害赔偿自行协商或向保险公司申请理赔。", size=9.5)
    pg.photos(case, photos, settings)
    pg.section("交通警察")
    pg.label("认定民警", d["officer"]["name"])
    pg.label("认定时间", _when(d["at"]))
    return pg.finish()


def agreement(settings: Settings, case: TrafficCase, parties: dict[str, TrafficParty],
              photos: dict[int, TrafficPhoto]) -> bytes:
    _font(settings.traffic_pdf_font)
    lia = case.settlement["liability"]
    pg = _Page("道路交通事故自行协商协议书", f"编号：快处协〔{_when(case.submitted_at)[:4]}〕第 {case.id:06d} 号")
    pg.label("事故时间", _when(case.submitted_at))
    pg.label("事故地点", _where(case))
    pg.section("当事人及车辆")
    pg.table(["当事人", "号牌号码", "车辆类型", "保险公司", "联系电话", "责任"], _party_rows(parties, lia, False),
             [52, 82, 80, 100, 92, 90])
    pg.section("事故经过")
    pg.text(case.description or "当事人未填写描述，以现场照片为准。")
    pg.section("协商结果")
    pg.text(f"经双方自行协商，一致确认：甲方（{parties[A].plate}）承担{LEVELS_ZH[lia[A]]}，乙方（{parties[B].plate}）"
            f"承担{LEVELS_ZH[lia[B]]}。双方同意按上述责任向各自保险公司申请理赔。")
    for r in ROLES:
        p = parties[r]
        pg.label(f"{'甲' if r == A else '乙'}方确认", f"{p.phone}（短信验证于 {_when(p.verified_at)}），同意于 {_when(p.settle_at)}")
    pg.text("本协议已报交通管理部门备案。", size=9.5)
    pg.photos(case, photos, settings)
    return pg.finish()
