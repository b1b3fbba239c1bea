"""Caller phone numbers: one canonical spelling per number, and a log-safe mask.

Call-takers dial back from what is stored here, so the canonical forms are the
ones a Chinese desk phone dials directly: ``13800138000`` for mobiles,
``0421-2345678`` for landlines and ``+447911123456`` for anything foreign.
"""

from __future__ import annotations

import re
import unicodedata

_MSG_INVALID_ZH = "电话号码格式不正确，请输入手机号、固定电话或带国家代码的国际号码"
_MSG_INVALID_EN = (
    "The phone number is not valid: enter a mobile, a landline with area code, "
    "or an international number with its country code"
)
_MSG_EMPTY_ZH = "请输入电话号码"
_MSG_EMPTY_EN = "Enter a phone number"

# Longer than any real spelling of a number; stops pathological input early.
_MAX_RAW_LEN = 40

# People copy numbers from business cards and SMS: spaces, dashes, dots and
# brackets are decoration, anything else (letters, "#", "*") means it is not a number.
_SEPARATORS = re.compile(r"[\s\-.()]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
# Only 010 and 020-029 have two-digit area codes; every other code is three
# digits starting 3-9. Local numbers never start with 0 (that would be a trunk prefix).
_LANDLINE = re.compile(r"0(10|2\d|[3-9]\d\d)([1-9]\d{6,7})")
_E164_MIN, _E164_MAX = 8, 15

# The rule above as a pattern for the OpenAPI schema, so that clients (and schemathesis) know it:
# an optional +, then digits (full-width too) with spaces, dashes, dots and brackets. The full rule
# (which digits make a mobile, a landline or a foreign number) is normalize_phone's.
PHONE_PATTERN = r"^\s*[+＋]?[\s\-.()（）－0-9０-９]{7,40}$"


class PhoneError(ValueError):
    def __init__(self, message_zh: str = _MSG_INVALID_ZH, message_en: str = _MSG_INVALID_EN):
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


def _national(digits: str) -> str | None:
    """A Chinese number written without country code, or None."""
    if _MOBILE.fullmatch(digits):
        return digits
    m = _LANDLINE.fullmatch(digits)
    if m:
        return f"0{m.group(1)}-{m.group(2)}"
    return None


def normalize_phone(raw: str) -> str:
    if not isinstance(raw, str):
        raise PhoneError()
    # NFKC turns full-width digits, "＋" and "（）" from Chinese input methods into ASCII.
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise PhoneError(_MSG_EMPTY_ZH, _MSG_EMPTY_EN)
    if len(text) > _MAX_RAW_LEN:
        raise PhoneError()

    international = text.startswith("+")
    if international:
        text = text[1:]
        # "+44 (0)20 ..." marks a trunk 0 that must not be dialled from abroad.
        text = text.replace("(0)", "")
    digits = _SEPARATORS.sub("", text)
    if not digits.isascii() or not digits.isdigit():
        raise PhoneError()

    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]

    if international:
        if digits.startswith("86"):
            rest = digits[2:]
            # The trunk 0 is often kept by mistake ("+86 0421 ..."); the landline
            # pattern needs it back anyway.
            canonical = _national(rest) or (_national("0" + rest) if not rest.startswith("0") else None)
            if canonical is None:
                raise PhoneError()
            return canonical
        if digits.startswith("0") or not _E164_MIN <= len(digits) <= _E164_MAX:
            raise PhoneError()
        return "+" + digits

    # "86" without + or 00 is only unambiguous in front of a mobile number.
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return digits[2:]
    canonical = _national(digits)
    if canonical is None:
        raise PhoneError()
    return canonical


def mask_phone(p: str) -> str:
    """Hide the middle of a number for logs, keeping enough to tell calls apart."""
    try:
        canonical = normalize_phone(p)
    except PhoneError:
        # Unparseable input may still be someone's number: show almost nothing.
        s = str(p)
        return "*" * max(len(s) - 2, 0) + s[-2:] if len(s) > 4 else "*" * len(s)
    if "-" in canonical:
        area, local = canonical.split("-")
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    head = 4 if canonical.startswith("+") else 3
    return canonical[:head] + "*" * (len(canonical) - head - 4) + canonical[-4:]
