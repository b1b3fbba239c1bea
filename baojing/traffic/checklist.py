"""The photo checklist: which shots a case needs, each with its framing hint and an example drawing.

The default set follows 12123's 事故快处 (front, rear, point of impact) and the Hangzhou quick-claim
practice (both parties' documents), plus the road markings that decide most rear-end and lane-change
cases. An admin may change the list (count, titles, hints, drawings); each case keeps the list it
was opened with."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from ..errors import Invalid

MIN_SHOTS, MAX_SHOTS = 3, 12
MAX_SVG = 20_000

# Drawings: 240x160, strokes only, the camera's framing dashed. Kept small: the driver's phone loads
# them on a slow link.
_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 160" fill="none" stroke="#333" stroke-width="3" stroke-linejoin="round">'
_ROAD = '<path d="M0 150 L240 150 M0 110 L240 110" stroke="#999"/><path d="M10 130 H50 M90 130 H130 M170 130 H210" stroke="#999" stroke-dasharray="0"/>'
_FRAME = '<rect x="6" y="6" width="228" height="148" rx="8" stroke="#e0451f" stroke-dasharray="10 6"/>'


def _car_front(x: int) -> str:
    return (f'<rect x="{x}" y="52" width="72" height="48" rx="10"/><rect x="{x + 10}" y="58" width="52" height="16" rx="4"/>'
            f'<circle cx="{x + 12}" cy="88" r="5"/><circle cx="{x + 60}" cy="88" r="5"/>')


def _car_rear(x: int) -> str:
    return (f'<rect x="{x}" y="52" width="72" height="48" rx="10"/><rect x="{x + 14}" y="60" width="44" height="12" rx="3"/>'
            f'<rect x="{x + 4}" y="80" width="14" height="8"/><rect x="{x + 54}" y="80" width="14" height="8"/>')


SVG_FRONT = _HEAD + _ROAD + _car_front(40) + _car_front(128) + '<text x="120" y="32" font-size="16" fill="#333" stroke="none" text-anchor="middle">← 5 m →</text>' + _FRAME + "</svg>"
SVG_REAR = _HEAD + _ROAD + _car_rear(40) + _car_rear(128) + '<text x="120" y="32" font-size="16" fill="#333" stroke="none" text-anchor="middle">← 5 m →</text>' + _FRAME + "</svg>"
SVG_IMPACT = (_HEAD + '<path d="M20 40 H140 Q160 40 165 70 V120 H20 Z"/><path d="M175 60 L230 50 V130 L180 125 Z"/>'
              '<circle cx="170" cy="92" r="30" stroke="#e0451f" stroke-dasharray="8 5"/><path d="M158 82 l10 8 -6 6 14 6" stroke="#e0451f"/>'
              + "</svg>")


def _docs(label: str) -> str:
    return (_HEAD + '<rect x="16" y="40" width="100" height="68" rx="6"/><rect x="124" y="40" width="100" height="68" rx="6"/>'
            '<rect x="24" y="50" width="26" height="32"/><path d="M58 56 H106 M58 68 H106 M58 80 H96 M132 56 H214 M132 68 H214 M132 80 H200"/>'
            f'<text x="120" y="136" font-size="16" fill="#333" stroke="none" text-anchor="middle">{label}</text>'
            '<rect x="8" y="32" width="224" height="86" rx="8" stroke="#e0451f" stroke-dasharray="10 6"/></svg>')


SVG_DOCS_A = _docs("驾驶证 + 行驶证 (A)")
SVG_DOCS_B = _docs("驾驶证 + 行驶证 (B)")
SVG_ROAD = (_HEAD + '<path d="M60 156 L110 20 M180 156 L130 20" stroke="#999"/><path d="M120 150 V128 M120 112 V92 M120 78 V62 M120 50 V40" stroke-width="4"/>'
            '<path d="M88 120 l12 -24 12 24 z" /><rect x="176" y="24" width="40" height="40" rx="20"/><path d="M186 44 H206"/>'
            + _FRAME + "</svg>")

DEFAULT = [
    {"key": "front", "title_zh": "车前方全景", "title_en": "Both vehicles from the front",
     "hint_zh": "站在两车前方约 5 米，拍下两辆车和道路、车道线", "hint_en": "Stand about 5 m in front; get both vehicles, the road and the lane lines",
     "example": SVG_FRONT},
    {"key": "rear", "title_zh": "车后方全景", "title_en": "Both vehicles from behind",
     "hint_zh": "站在两车后方约 5 米，拍下两辆车的车尾和号牌", "hint_en": "Stand about 5 m behind; get both rears and both plates",
     "example": SVG_REAR},
    {"key": "impact", "title_zh": "碰撞部位", "title_en": "Point of impact",
     "hint_zh": "靠近拍摄两车接触的部位，看清损坏", "hint_en": "Close up where the vehicles touched; show the damage",
     "example": SVG_IMPACT},
    {"key": "docs_a", "title_zh": "甲方证件", "title_en": "Party A's licences",
     "hint_zh": "甲方驾驶证和行驶证放在一起，拍清文字", "hint_en": "Party A's driving and vehicle licences side by side, text readable",
     "example": SVG_DOCS_A},
    {"key": "docs_b", "title_zh": "乙方证件", "title_en": "Party B's licences",
     "hint_zh": "乙方驾驶证和行驶证放在一起，拍清文字", "hint_en": "Party B's driving and vehicle licences side by side, text readable",
     "example": SVG_DOCS_B},
    {"key": "road", "title_zh": "路面标线或标志", "title_en": "Road markings or signs",
     "hint_zh": "拍下现场的车道线、导向箭头或交通标志", "hint_en": "The lane lines, arrows or signs at the scene",
     "example": SVG_ROAD},
]

_ELEMENTS = {"svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan",
             "title", "desc"}
_FIELDS = ("key", "title_zh", "title_en", "hint_zh", "hint_en")
_LIMITS = {"key": 24, "title_zh": 20, "title_en": 60, "hint_zh": 60, "hint_en": 140}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def check_svg(text: str) -> str:
    """A drawing an admin supplied: plain shapes and text only, no scripts, links or styles that
    could load anything. Served as an image with a CSP that runs nothing, but refused anyway."""
    if len(text.encode()) > MAX_SVG:
        raise ValueError("too large")
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("doctype")
    root = ET.fromstring(text)
    if _local(root.tag) != "svg":
        raise ValueError("not svg")
    for el in root.iter():
        if _local(el.tag) not in _ELEMENTS:
            raise ValueError(f"element {el.tag}")
        for name, value in el.attrib.items():
            n = _local(name).lower()
            if n.startswith("on") or "href" in n or n == "style" or "url(" in value.lower():
                raise ValueError(f"attribute {name}")
    return text


def validate(items: object) -> list[dict]:
    """An admin's new checklist, or a bilingual refusal naming each bad item."""
    if not isinstance(items, list) or not MIN_SHOTS <= len(items) <= MAX_SHOTS:
        raise Invalid(f"照片清单应有 {MIN_SHOTS}–{MAX_SHOTS} 项", f"The checklist needs {MIN_SHOTS} to {MAX_SHOTS} shots",
                      code="bad_checklist")
    out, errors, keys = [], [], set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append({"field": f"{i}", "message_zh": "应为一个对象", "message_en": "Must be an object"})
            continue
        clean = {}
        for f in _FIELDS:
            v = item.get(f)
            if not isinstance(v, str) or not v.strip() or len(v.strip()) > _LIMITS[f]:
                errors.append({"field": f"{i}.{f}", "message_zh": f"必填，最多 {_LIMITS[f]} 个字符",
                               "message_en": f"Required, at most {_LIMITS[f]} characters"})
            else:
                clean[f] = v.strip()
        if clean.get("key") in keys:
            errors.append({"field": f"{i}.key", "message_zh": "标识重复", "message_en": "Duplicate key"})
        keys.add(clean.get("key"))
        try:
            clean["example"] = check_svg(item.get("example") or "")
        except (ValueError, ET.ParseError):
            errors.append({"field": f"{i}.example", "message_zh": "示例图应为只含图形和文字的 SVG（最大 20 KB）",
                           "message_en": "The example must be an SVG of shapes and text only (at most 20 KB)"})
        out.append(clean)
    if errors:
        raise Invalid("照片清单有误，未保存", "The checklist is invalid; nothing was saved", code="bad_checklist",
                      errors=errors)
    return out
