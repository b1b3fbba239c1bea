"""Chinese motor-vehicle plates (GA 36): one canonical spelling, or a bilingual refusal.

Ordinary plates: province, issuing-office letter, five letters or digits (the last may be 挂, 学,
警, 港 or 澳). New-energy plates have six after the office letter: small ones start with the
energy letter (D, A, B, C, E battery; F, G, H, J, K other) then a letter or digit and four digits
(粤B D12345); large ones are five digits then the energy letter (粤B 12345D). I and O never appear
(they read as 1 and 0)."""
from __future__ import annotations

import re
import unicodedata

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "A-HJ-NP-Z"  # letters without I and O
_ENERGY = "ABCDEFGHJK"
ORDINARY = re.compile(rf"[{PROVINCES}][{_L}][{_L}0-9]{{4}}[{_L}0-9挂学警港澳]")
NEW_ENERGY_SMALL = re.compile(rf"[{PROVINCES}][{_L}][{_ENERGY}][{_L}0-9]\d{{4}}")
NEW_ENERGY_LARGE = re.compile(rf"[{PROVINCES}][{_L}]\d{{5}}[{_ENERGY}]")
_DECORATION = re.compile(r"[\s·•.\-]")


class PlateError(ValueError):
    message_zh = "车牌号不正确：请输入如 辽N12345 或新能源 辽ND12345 的车牌"
    message_en = "Not a Chinese plate: enter one like 辽N12345, or a new-energy plate like 辽ND12345"


def normalize_plate(raw: str) -> tuple[str, bool]:
    """(canonical plate, is new-energy); PlateError when it is not a plate."""
    v = _DECORATION.sub("", unicodedata.normalize("NFKC", raw or "")).upper()
    if NEW_ENERGY_SMALL.fullmatch(v) or NEW_ENERGY_LARGE.fullmatch(v):
        return v, True
    if ORDINARY.fullmatch(v):
        return v, False
    raise PlateError()
