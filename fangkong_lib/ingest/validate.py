"""Validating one record of a ledger: the same rules for imported rows and
for dashboard forms.

:func:`validate_record` takes raw values keyed by field key (strings from
Excel, widget values, anything) and returns the cleaned record and a list of
problems, each naming the column and the value. Nothing is guessed and
nothing raises.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Mapping

from ..ledgers import Field, Ledger
from pandas import NaT as _NaT

from .normalize import (
    clean_text, normalize_date, normalize_datetime, normalize_id_number, normalize_phone, sex_from_id,
)

TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "已", "对"}
FALSE_WORDS = {"否", "无", "n", "no", "false", "0", "×", "✗", "未", "没有"}
_LIST_SPLIT = re.compile(r"[;；、,，]")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one value: the field, the value as given, why."""

    field: str
    label: str
    value: str
    reason: str

    def sentence(self) -> str:
        shown = f"「{self.value}」" if self.value else ""
        return f"{self.label}{shown}：{self.reason}"


def is_blank(value) -> bool:
    """None, NaN, NaT, or a string of white space only."""
    if value is None:
        return True
    kind = type(value)
    if kind is str:
        return not value.strip()
    if kind is float:
        return math.isnan(value)
    if value is _NaT or (hasattr(value, "isnat") and value.isnat()):
        return True
    return False


def shown(value) -> str:
    """The value as the user typed it, for messages."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def text_coercer(fld: Field):
    """A fast cleaner for plain text fields (the unique columns of big files:
    names, plate numbers), equivalent to :func:`coerce_value` for them."""
    choices = fld.choices

    def coerce(value):
        if type(value) is str:
            if value.isascii():
                text = " ".join(value.split())
            else:
                text = clean_text(value)
            if not text:
                return None, None
        else:
            if is_blank(value):
                return None, None
            text = clean_text(value)
        if choices and text not in choices:
            return None, f"不在可选值中（可选：{'、'.join(choices)}）"
        return text, None

    return coerce


def coerce_value(fld: Field, value, *, default_year: int | None = None, today: date | None = None):
    """Return ``(clean value, reason or None)`` for one cell; blank → (None, None)."""
    if is_blank(value):
        return None, None
    t = fld.type
    if t == "id_number":
        return normalize_id_number(value, today=today)
    if t == "phone":
        return normalize_phone(value)
    if t == "date":
        out, err = normalize_date(value, default_year=default_year)
        return out, err
    if t == "datetime":
        return normalize_datetime(value, default_year=default_year)
    if t == "bool":
        if isinstance(value, bool):
            return value, None
        word = clean_text(value).lower()
        if word in TRUE_WORDS:
            return True, None
        if word in FALSE_WORDS:
            return False, None
        return None, "应填 是 或 否"
    if t in ("int", "float"):
        if isinstance(value, bool):
            return None, "应为数字"
        try:
            number = float(clean_text(value).replace(",", "")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            return None, "应为数字"
        if math.isnan(number) or math.isinf(number):
            return None, "应为数字"
        if t == "int":
            if not number.is_integer():
                return None, "应为整数"
            return int(number), None
        return number, None
    if t == "list":
        if isinstance(value, (list, tuple)):
            items = [clean_text(v) for v in value]
        else:
            items = [clean_text(v) for v in _LIST_SPLIT.split(clean_text(value))]
        return [i for i in items if i], None
    if t == "geometry":
        return value, None
    text = clean_text(value)
    if fld.choices and text not in fld.choices:
        return None, f"不在可选值中（可选：{'、'.join(fld.choices)}）"
    return text, None


RowRule = Callable[[dict, Mapping[str, Any]], Iterable[tuple[str, str]]]


def reads(*keys: str):
    """Declare the fields a row rule reads (imports then hand it only those)."""
    def mark(rule):
        rule.reads = keys
        return rule
    return mark


@reads("expected_arrival", "actual_arrival")
def _arrival_given(record: dict, _raw) -> Iterable[tuple[str, str]]:
    if record.get("expected_arrival") is None and record.get("actual_arrival") is None:
        yield "expected_arrival", "预计到达时间与实际到达时间至少填一项"


@reads("id_number", "sex")
def _sex_matches_id(record: dict, _raw) -> Iterable[tuple[str, str]]:
    idn, sex = record.get("id_number"), record.get("sex")
    if idn and sex and sex_from_id(idn) not in (None, sex):
        yield "sex", f"与身份证号不符（身份证号显示为{sex_from_id(idn)}）"


def _dates_in_order(first: str, second: str, what: str) -> RowRule:
    @reads(first, second)
    def rule(record: dict, _raw):
        a, b = record.get(first), record.get(second)
        if a is not None and b is not None and b < a:
            yield second, what
    return rule


#: Checks across fields, per ledger.
ROW_RULES: dict[str, list[RowRule]] = {
    "returnees": [_arrival_given, _sex_matches_id],
    "away": [_sex_matches_id],
    "controls": [_sex_matches_id, _dates_in_order("start_date", "end_date", "应解除日期早于开始日期")],
    "problems": [_dates_in_order("date", "deadline", "整改时限早于督查日期")],
}


def validate_record(
    ledger: Ledger,
    raw: Mapping[str, Any],
    *,
    villages: Iterable[str] | None = None,
    default_year: int | None = None,
    today: date | None = None,
) -> tuple[dict, list[Problem]]:
    """Clean and check one record.

    Parameters
    ----------
    raw : mapping
        Field key → value as typed (only the fields present are checked).
    villages : iterable of str, optional
        The township's villages; a ``village`` outside it is a problem.
    default_year : int, optional
        Year for dates written without one (4月5日).

    Returns
    -------
    record, problems
        ``record`` has every field of ``raw`` cleaned (None where invalid);
        ``problems`` is empty when the record can be stored.
    """
    record: dict = {}
    problems: list[Problem] = []
    for fld in ledger.fields:
        if fld.key not in raw:
            continue
        value, reason = coerce_value(fld, raw[fld.key], default_year=default_year, today=today)
        record[fld.key] = value
        if reason:
            problems.append(Problem(fld.key, fld.label, shown(raw[fld.key]), reason))
    failed = {p.field for p in problems}
    for fld in ledger.fields:
        if fld.required and fld.key not in failed and record.get(fld.key) in (None, "", []):
            problems.append(Problem(fld.key, fld.label, "", "必填项为空"))
    if villages is not None and "village" in ledger and record.get("village"):
        known = set(villages)
        if record["village"] not in known:
            problems.append(Problem("village", ledger["village"].label, record["village"], "不是本乡的村"))
    if not problems:
        for rule in ROW_RULES.get(ledger.key, ()):
            for key, reason in rule(record, raw):
                problems.append(Problem(key, ledger[key].label, shown(raw.get(key, record.get(key))), reason))
    return record, problems
