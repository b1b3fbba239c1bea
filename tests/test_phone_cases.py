"""The server's phone rule (baojing/phone.py) on the cases the caller's page is tested with too
(tests/data/phone-cases.json, tests/js/phone.test.mjs): one rule on both sides."""
import json
from pathlib import Path

import pytest

from baojing.phone import PhoneError, normalize_phone

CASES = json.loads((Path(__file__).parent / "data" / "phone-cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("raw", "canonical"), CASES["valid"], ids=[r for r, _ in CASES["valid"]])
def test_a_number_the_page_accepts_is_stored_in_its_canonical_form(raw, canonical):
    assert normalize_phone(raw) == canonical


@pytest.mark.parametrize("raw", CASES["invalid"])
def test_a_number_the_page_refuses_is_refused_here_too(raw):
    with pytest.raises(PhoneError, match="not valid"):
        normalize_phone(raw)


@pytest.mark.parametrize("raw", CASES["empty"])
def test_an_empty_number_is_asked_for(raw):
    with pytest.raises(PhoneError) as info:
        normalize_phone(raw)
    assert info.value.message_en == "Enter a phone number"
