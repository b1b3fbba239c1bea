import pytest

from baojing.phone import PhoneError, mask_phone, normalize_phone

MOBILES = [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 13800138000", "13800138000"),
    ("+86-138-0013-8000", "13800138000"),
    ("0086 13800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("86 138 0013 8000", "13800138000"),
    ("  19912345678  ", "19912345678"),
    ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese IME
]

LANDLINES = [
    ("0421-2345678", "0421-2345678"),
    ("04212345678", "0421-2345678"),
    ("0421 2345678", "0421-2345678"),
    ("(0421)2345678", "0421-2345678"),
    ("（0421）2345678", "0421-2345678"),
    ("010 12345678", "010-12345678"),
    ("010-62345678", "010-62345678"),
    ("024-23456789", "024-23456789"),
    ("+86 421 2345678", "0421-2345678"),
    ("+86 10 62345678", "010-62345678"),
    ("0086 421 2345678", "0421-2345678"),
    ("+86 (0421) 2345678", "0421-2345678"),
]

INTERNATIONAL = [
    ("+447911123456", "+447911123456"),
    ("+44 7911 123456", "+447911123456"),
    ("+44 (0)7911 123456", "+447911123456"),
    ("0044 7911 123456", "+447911123456"),
    ("+1 202-555-0123", "+12025550123"),
    ("+7 495 123-45-67", "+74951234567"),
    ("+852 2345 6789", "+85223456789"),
    ("＋852 2345 6789", "+85223456789"),
]


@pytest.mark.parametrize(("raw", "canonical"), MOBILES)
def test_it_normalizes_chinese_mobiles_to_eleven_digits(raw, canonical):
    assert normalize_phone(raw) == canonical


@pytest.mark.parametrize(("raw", "canonical"), LANDLINES)
def test_it_normalizes_chinese_landlines_to_area_code_dash_number(raw, canonical):
    assert normalize_phone(raw) == canonical


@pytest.mark.parametrize(("raw", "canonical"), INTERNATIONAL)
def test_it_normalizes_international_numbers_to_e164(raw, canonical):
    assert normalize_phone(raw) == canonical


@pytest.mark.parametrize("canonical", sorted({c for _, c in MOBILES + LANDLINES + INTERNATIONAL}))
def test_it_leaves_a_canonical_number_unchanged(canonical):
    assert normalize_phone(canonical) == canonical


BAD_MOBILES = [
    "1380013800",  # 10 digits
    "138001380000",  # 12 digits
    "12800138000",  # no 12x mobile prefix
    "23800138000",
    "+86 1380013800",
    "87 13800138000",  # not the Chinese country code, and too bare to be E.164
]

BAD_LANDLINES = [
    "0421-234567",  # local part too short
    "0421-234567890",  # local part too long
    "011-2345678",  # 01x exists only as 010
    "0421-0345678",  # local numbers never start with 0
    "2345678",  # no area code
    "+86 421 234",
]

BAD_INTERNATIONAL = [
    "+4479",  # too short for E.164
    "+44 7911 1234 5678 90",  # 16 digits
    "+0 123456789",  # country codes never start with 0
    "00 0123456789",
    "+",
    "++447911123456",
    "+44 7911 12345 ext 6",
]

BAD_GENERAL = [
    "110",
    "120",
    "12345",
    "call me",
    "138OO138OOO",  # letter O in place of zero
    "13800138000#",
    "1380013800*",
    "-",
    "()",
    "1" * 60,
]


@pytest.mark.parametrize("raw", BAD_MOBILES + BAD_LANDLINES + BAD_INTERNATIONAL + BAD_GENERAL)
def test_it_rejects_malformed_numbers_with_a_bilingual_message(raw):
    with pytest.raises(PhoneError) as info:
        normalize_phone(raw)
    err = info.value
    assert isinstance(err, ValueError)
    assert "电话号码" in err.message_zh
    assert "phone number" in err.message_en


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_it_rejects_an_empty_number_asking_for_one(raw):
    with pytest.raises(PhoneError) as info:
        normalize_phone(raw)
    assert info.value.message_zh == "请输入电话号码"
    assert info.value.message_en == "Enter a phone number"


def test_it_rejects_something_that_is_not_a_string():
    with pytest.raises(PhoneError):
        normalize_phone(13800138000)  # type: ignore[arg-type]


def test_it_uses_the_english_message_as_the_exception_text():
    with pytest.raises(PhoneError, match="not valid"):
        normalize_phone("call me")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("0421-2345678", "0421-***5678"),
        ("010-12345678", "010-****5678"),
        ("+447911123456", "+447*****3456"),
    ],
)
def test_it_masks_the_middle_of_a_number_for_logs(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("raw", ["call me maybe", "12345", "110", ""])
def test_it_masks_unparseable_input_without_revealing_it(raw):
    masked = mask_phone(raw)
    assert len(masked) == len(raw)
    assert masked[:-2].strip("*") == ""
