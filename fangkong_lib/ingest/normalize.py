"""Normalising and validating what staff type (DOMAIN.md §4).

Every ``normalize_*`` function takes anything (a cell value) and returns
``(value, error)``: the cleaned value, or ``None`` and a reason in Chinese.
They never raise and never guess: a value Excel damaged is rejected, not
repaired.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import mul

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_WEIGHT_OFFSET = 48 * sum(ID_WEIGHTS)
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_CLEAN_ID = re.compile(r"\d{17}[\dX]", re.ASCII)
_LANDLINE = re.compile(r"^0394\d{7}$", re.ASCII)
_EXCEL_EPOCH = date(1899, 12, 30)


def clean_text(value) -> str:
    """Full-width to half-width, stray spaces and line breaks removed at the ends,
    inner runs of white space folded to one space.

    >>> clean_text("  ４１１６２５\\n ")
    '411625'
    """
    if type(value) is str and value.isascii():  # NFKC leaves ASCII as it is
        return " ".join(value.split())
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return " ".join(text.split())


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character for 17 digits.

    >>> id_check_char("11010519491231002")
    'X'
    """
    # digits as bytes: b"0" is 48, so subtract 48 × the sum of the weights
    total = sum(map(mul, ID_WEIGHTS, first17.encode("ascii"))) - _WEIGHT_OFFSET
    return ID_CHECK_CHARS[total % 11]


def normalize_id_number(value, *, today: date | None = None):
    """Return ``(id_number, error)`` for a resident ID (公民身份号码).

    Accepts spaces, full-width digits and a lower-case x. Rejects numbers
    Excel damaged (scientific notation, a float cell, trailing 000 that breaks
    the checksum), bad checksums and impossible birth dates.

    >>> normalize_id_number("11010519491231002x")
    ('11010519491231002X', None)
    >>> normalize_id_number("4.11625E+17")[1]
    '被 Excel 存成了科学计数法，无法还原，请把该列设为文本后按原件重新填写'
    """
    if isinstance(value, float):
        if math.isnan(value):
            return None, "身份证号为空"
        return None, "被 Excel 存成了数字，末几位可能已丢失，请把该列设为文本后按原件重新填写"
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
        if len(value) == 18 and value.endswith("000"):
            return None, "末三位为 000，疑似被 Excel 截断，请核对原件后重新填写"
    if isinstance(value, str) and len(value) == 18 and _CLEAN_ID.match(value):
        text = value  # the common case: already clean, skip the Unicode work
    else:
        text = clean_text(value).replace(" ", "").upper()
    if not text:
        return None, "身份证号为空"
    if re.fullmatch(r"\d(\.\d+)?E\+?\d+", text):
        return None, "被 Excel 存成了科学计数法，无法还原，请把该列设为文本后按原件重新填写"
    if len(text) == 15 and text.isdigit():
        birth = "19" + text[6:12]
        err = _birth_error(birth, today)
        return (text, None) if err is None else (None, err)
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        return None, f"应为 18 位（最后一位可为 X），实际为 {len(text)} 位"
    err = _birth_error(text[6:14], today)
    if err:
        return None, err
    if id_check_char(text[:17]) != text[17]:
        if text.endswith("000"):
            return None, "末三位为 000 且校验位不符，疑似被 Excel 截断，请核对原件后重新填写"
        return None, "校验位不符（GB 11643），请核对"
    return text, None


def _birth_error(yyyymmdd: str, today: date | None) -> str | None:
    return _birth_error_cached(yyyymmdd, today or date.today())


@lru_cache(maxsize=65536)
def _birth_error_cached(yyyymmdd: str, today: date) -> str | None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return f"出生日期 {yyyymmdd} 不存在"
    if born > today or born.year < 1800:
        return f"出生日期 {yyyymmdd} 不可能"
    return None


def sex_from_id(id_number: str) -> str | None:
    """男 or 女 from the sequence digit (odd = male)."""
    if not id_number or len(id_number) not in (15, 18):
        return None
    digit = id_number[16] if len(id_number) == 18 else id_number[14]
    return "男" if int(digit) % 2 else "女"


def normalize_phone(value):
    """Return ``(phone, error)``: an 11-digit mobile or a 0394 landline.

    >>> normalize_phone("+86 138-0394-1234")
    ('13803941234', None)
    """
    if isinstance(value, str) and len(value) == 11 and _MOBILE.match(value):
        return value, None  # the common case: already clean
    if isinstance(value, float) and not math.isnan(value) and value.is_integer():
        value = str(int(value))
    text = clean_text(value)
    digits = re.sub(r"[\s\-()（）]", "", text)
    if not digits:
        return None, "电话为空"
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits, None
    return None, "不是 11 位手机号，也不是 0394 开头的座机号"


def normalize_date(value, *, default_year: int | None = None):
    """Return ``(date, error)``. Accepts 2022-04-05, 2022/4/5, 2022.4.5,
    2022年4月5日, Excel date cells and serial numbers, with or without a time,
    and 4月5日 when ``default_year`` is given.

    >>> normalize_date("2022年4月5日")
    (datetime.date(2022, 4, 5), None)
    >>> normalize_date(44656)
    (datetime.date(2022, 4, 5), None)
    """
    dt, err = normalize_datetime(value, default_year=default_year)
    return (dt.date() if dt is not None else None), err


_DATE_RE = re.compile(
    r"^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]*(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2}))?\s*秒?)?$"
)


def normalize_datetime(value, *, default_year: int | None = None):
    """Return ``(datetime, error)``; see :func:`normalize_date`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, "日期为空"
    if isinstance(value, datetime):
        return value.replace(tzinfo=None), None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        try:
            return value.to_pydatetime().replace(tzinfo=None), None
        except (ValueError, OverflowError):
            return None, f"无法识别的日期 {value!r}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 <= value <= 80000:  # Excel serial numbers from 1954 to 2119
            return datetime.combine(_EXCEL_EPOCH, datetime.min.time()) + timedelta(days=float(value)), None
        return None, f"无法识别的日期 {value!r}"
    text = clean_text(value)
    if not text:
        return None, "日期为空"
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return normalize_datetime(float(text), default_year=default_year)
    if re.fullmatch(r"\d{8}", text):
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = _DATE_RE.match(text)
    if not m:
        return None, "无法识别的日期（可写作 2022-04-05、2022/4/5、2022年4月5日）"
    year, month, day, hh, mm, ss = m.groups()
    if year is None:
        if default_year is None:
            return None, "日期缺少年份"
        year = default_year
    try:
        return datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0)), None
    except ValueError:
        return None, "日期不存在"


# -- Masking -----------------------------------------------------------------


def mask_id(value) -> str:
    """411625********0017: region code and last four kept.

    >>> mask_id("411625199001010017")
    '411625********0017'
    """
    text = clean_text(value)
    if len(text) < 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value) -> str:
    """138****1234 for mobiles, 0394***1234 for landlines.

    >>> mask_phone("13812341234")
    '138****1234'
    """
    text = clean_text(value)
    if len(text) < 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_address(value) -> str:
    """Keep the first six characters (village level), mask the rest."""
    text = clean_text(value)
    return text[:6] + ("****" if len(text) > 6 else "")


def mask_name(value) -> str:
    """张*明: first and last character kept."""
    text = clean_text(value)
    if len(text) <= 1:
        return text
    if len(text) == 2:
        return text[0] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


MASKERS = {"id": mask_id, "phone": mask_phone, "address": mask_address, "name": mask_name}


def mask_frame(frame, ledger, kinds=None):
    """A copy of ``frame`` with the ledger's personal-data columns masked.

    ``kinds`` defaults to :data:`fangkong_lib.ledgers.MASKED_PII_KINDS`
    (ID numbers, phones, detailed addresses).
    """
    from ..ledgers import MASKED_PII_KINDS

    kinds = MASKED_PII_KINDS if kinds is None else kinds
    out = frame.copy()
    for fld in ledger.fields:
        if fld.pii in kinds and fld.key in out.columns:
            masker = MASKERS[fld.pii]
            out[fld.key] = out[fld.key].map(lambda v: masker(v) if v is not None and v == v else v)
    return out
