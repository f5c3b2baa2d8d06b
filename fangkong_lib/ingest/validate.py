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
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from pandas import NA as _NA
from pandas import NaT as _NaT

from ..ledgers import DATE_MIN, Field, Ledger

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
    if value is None or value is _NA:
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
    if t in ("date", "datetime"):
        return _coerce_when(fld, value, default_year, today)
    if t == "bool":
        return coerce_bool(value)
    if t in ("int", "float"):
        return _coerce_number(fld, value)
    if t == "list":
        if isinstance(value, (list, tuple)):
            items = [clean_text(v) for v in value]
        else:
            items = [clean_text(v) for v in _LIST_SPLIT.split(clean_text(value))]
        items = [i for i in items if i]
        if fld.items == "date":
            return _coerce_date_list(fld, items, default_year, today)
        return items, None
    if t == "geometry":
        return value, None
    text = clean_text(value)
    if fld.choices and text not in fld.choices:
        return None, f"不在可选值中（可选：{'、'.join(fld.choices)}）"
    return text, None


def date_bounds(fld: Field, today: date | None = None) -> tuple[date, date]:
    """The earliest and latest date ``fld`` accepts, given the data's today.

    >>> from fangkong_lib.ledgers import get_ledger
    >>> date_bounds(get_ledger("returnees")["report_date"], date(2022, 4, 7))
    (datetime.date(2000, 1, 1), datetime.date(2022, 4, 7))
    >>> date_bounds(get_ledger("returnees")["expected_arrival"], date(2022, 4, 7))
    (datetime.date(2000, 1, 1), datetime.date(2023, 4, 8))
    """
    today = today or date.today()
    return DATE_MIN, today if fld.not_future else today + timedelta(days=fld.ahead_days)


def date_reason(fld: Field, day: date, today: date | None = None) -> str | None:
    """Why ``day`` is not a possible value of ``fld`` (None when it is)."""
    today = today or date.today()
    earliest, latest = date_bounds(fld, today)
    if fld.not_future and day > today:
        return f"不能晚于今天（{today.isoformat()}）"
    if not earliest <= day <= latest:
        return f"超出合理范围（应在 {earliest.isoformat()} 至 {latest.isoformat()} 之间）"
    return None


def _coerce_when(fld: Field, value, default_year, today):
    if fld.type == "date":
        out, err = normalize_date(value, default_year=default_year)
    else:
        out, err = normalize_datetime(value, default_year=default_year)
    if err:
        return None, err
    day = out.date() if isinstance(out, datetime) else out
    reason = date_reason(fld, day, today)
    return (None, reason) if reason else (out, None)


def _coerce_date_list(fld: Field, items: list[str], default_year, today):
    """Each item a possible date; the list holds ISO dates (2022-04-08)."""
    days = []
    for item in items:
        day, err = normalize_date(item, default_year=default_year)
        if err:
            return None, f"「{item}」不是日期（多个日期以 ; 分隔，如 2022-04-08;2022-04-10）"
        reason = date_reason(fld, day, today)
        if reason:
            return None, f"「{item}」{reason}"
        days.append(day.isoformat())
    return days, None


def coerce_bool(value):
    """``(True/False, None)`` for a yes/no (是/否) cell, or ``(None, reason)``.

    A number counts only as 1 or 0; anything else that is not one of the
    words of :data:`TRUE_WORDS` / :data:`FALSE_WORDS` is refused.

    >>> coerce_bool("是"), coerce_bool(0), coerce_bool("也许")
    ((True, None), (False, None), (None, '应填 是 或 否'))
    """
    if isinstance(value, bool):
        return value, None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy bool_ and numbers
        value = value.item()
        if isinstance(value, bool):
            return value, None
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value), None
    if isinstance(value, str):
        word = clean_text(value).lower()
        if word in TRUE_WORDS:
            return True, None
        if word in FALSE_WORDS:
            return False, None
    return None, "应填 是 或 否"


def _coerce_number(fld: Field, value):
    if isinstance(value, bool):
        return None, "应为数字"
    try:
        number = float(clean_text(value).replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None, "应为数字"
    if math.isnan(number) or math.isinf(number):
        return None, "应为数字"
    if fld.type == "int":
        if not number.is_integer():
            return None, "应为整数"
        number = int(number)
    reason = number_reason(fld, number)
    return (None, reason) if reason else (number, None)


def number_reason(fld: Field, number: float) -> str | None:
    """Why ``number`` is outside the bounds of ``fld`` (None when inside).

    >>> from fangkong_lib.ledgers import get_ledger
    >>> number_reason(get_ledger("donations")["quantity"], -5)
    '应为正数'
    """
    lo, hi = fld.min, fld.max
    if fld.positive and number <= 0:
        return "应为正数"
    if lo is not None and hi is not None and not lo <= number <= hi:
        form = "{:.1f}" if fld.type == "float" else "{:g}"
        unit = f" {fld.unit}" if fld.unit else ""
        return f"应在 {form.format(lo)} 至 {form.format(hi)}{unit} 之间，请核对"
    if lo is not None and number < lo:
        return "不能为负数" if lo == 0 else f"不能小于 {lo:g}"
    if hi is not None and number > hi:
        return f"不能大于 {hi:g}"
    return None


RowRule = Callable[[dict, Mapping[str, Any]], Iterable[tuple[str, str]]]


def reads(*keys: str):
    """Declare the fields a row rule reads (imports then hand it only those)."""
    def mark(rule):
        rule.reads = keys
        return rule
    return mark


def rows_where(finder: Callable[[Callable[[str], list]], Iterable[int]]):
    """Give a row rule its column form, for whole files: ``finder(column)``
    (``column(key)`` is a cleaned column, all None when absent) returns the
    positions of the rows the rule may refuse (at least every one it does);
    the rule itself then says why, row by row, for those only."""
    def mark(rule):
        rule.rows = finder
        return rule
    return mark


@rows_where(lambda column: [i for i, (a, b) in enumerate(zip(column("expected_arrival"), column("actual_arrival")))
                            if a is None and b is None])
@reads("expected_arrival", "actual_arrival")
def _arrival_given(record: dict, _raw) -> Iterable[tuple[str, str]]:
    if record.get("expected_arrival") is None and record.get("actual_arrival") is None:
        yield "expected_arrival", "预计到达时间与实际到达时间至少填一项"


@rows_where(lambda column: [i for i, (idn, sex) in enumerate(zip(column("id_number"), column("sex")))
                            if idn and sex and sex_from_id(idn) not in (None, sex)])
@reads("id_number", "sex")
def _sex_matches_id(record: dict, _raw) -> Iterable[tuple[str, str]]:
    idn, sex = record.get("id_number"), record.get("sex")
    if idn and sex and sex_from_id(idn) not in (None, sex):
        yield "sex", f"与身份证号不符（身份证号显示为{sex_from_id(idn)}）"


def _dates_in_order(first: str, second: str, what: str) -> RowRule:
    @rows_where(lambda column: [i for i, (a, b) in enumerate(zip(column(first), column(second)))
                                if a is not None and b is not None and b < a])
    @reads(first, second)
    def rule(record: dict, _raw):
        a, b = record.get(first), record.get(second)
        if a is not None and b is not None and b < a:
            yield second, what
    return rule


@reads("topic")
def _publicity_topic(record: dict, _raw) -> Iterable[tuple[str, str]]:
    from ..policy.community import load_publicity_policy

    topics = load_publicity_policy().topics
    if record.get("topic") and record["topic"] not in topics:
        yield "topic", f"不是规定的宣传主题（可选：{'、'.join(topics)}）"


@reads("channel", "households", "groups", "members")
def _publicity_counts(record: dict, _raw) -> Iterable[tuple[str, str]]:
    """What each channel must report: households reached by leaflets and
    door visits, the groups and members of WeChat."""
    channel = record.get("channel")
    if channel in ("宣传单", "入户宣传") and record.get("households") is None:
        yield "households", f"{channel}须填写覆盖户数"
    if channel == "微信群":
        for key, label in (("groups", "微信群数"), ("members", "群成员数")):
            if record.get(key) is None:
                yield key, f"微信群宣传须填写{label}"


@reads("expected", "present")
def _present_not_above_expected(record: dict, _raw) -> Iterable[tuple[str, str]]:
    expected, present = record.get("expected"), record.get("present")
    if expected is not None and present is not None and present > expected:
        yield "present", f"实到人数多于应到人数（{expected}）"


@reads("date", "reported_at")
def _reported_on_or_after_the_day(record: dict, _raw) -> Iterable[tuple[str, str]]:
    day, at = record.get("date"), record.get("reported_at")
    if day is not None and at is not None and at.date() < day:
        yield "reported_at", f"早于报告日期 {day.isoformat()}（当日情况须当日上报）"


#: Checks across fields, per ledger.
ROW_RULES: dict[str, list[RowRule]] = {
    "returnees": [_arrival_given, _sex_matches_id],
    "away": [_sex_matches_id],
    "controls": [_sex_matches_id, _dates_in_order("start_date", "end_date", "应解除日期早于开始日期")],
    "problems": [_dates_in_order("date", "deadline", "整改时限早于督查日期")],
    "gatherings": [_dates_in_order("deceased_at", "reported_at", "报备时间早于去世时间")],
    "publicity": [_publicity_topic, _publicity_counts],
    # 指挥调度 (command)
    "meetings": [_present_not_above_expected],
    "tasks": [_dates_in_order("date", "deadline", "完成时限早于交办日期")],
    "village_reports": [_reported_on_or_after_the_day],
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


def check_issue_rows(
    records: Iterable[Mapping[str, Any]],
    donations,
    distributions,
) -> dict[int, Problem]:
    """Issues (出库) of a distributions file that the stock cannot cover.

    The rule of the issue form (:func:`fangkong_lib.domain.supplies.check_issue`:
    no issue takes more than is there at its location on its date or any later
    date), applied to a whole file: each row is checked against the receipts
    and issues in the store plus the rows of the file before it that passed.
    A row whose 出库单号 is already stored replaces that issue rather than
    adding to it. Pure: frames in, problems out.

    Parameters
    ----------
    records : iterable of mapping
        Validated distribution records in file order (``voucher_no``,
        ``date``, ``item``, ``quantity``, optionally ``location``, ``unit``).
    donations, distributions : pandas.DataFrame
        The donations and distributions ledgers as stored.

    Returns
    -------
    dict
        Position in ``records`` → the :class:`Problem` (field 数量) of each
        refused row; rows not named can be stored.
    """
    import pandas as pd

    from ..domain.supplies import UNKNOWN_LOCATION, StockError, check_issue

    records = [dict(r) for r in records]
    replaced = {r.get("voucher_no") for r in records}
    issued = distributions[~distributions["voucher_no"].isin(replaced)]
    issued = issued[["voucher_no", "date", "item", "quantity", "unit", "location"]].copy()
    issued["date"] = pd.to_datetime(issued["date"])
    accepted: list[dict] = []
    refused: dict[int, Problem] = {}
    label = "数量"
    for i, record in enumerate(records):
        item, location = record.get("item"), record.get("location") or UNKNOWN_LOCATION
        mine = [r for r in accepted if r["item"] == item]
        so_far = pd.concat([issued[issued["item"] == item], pd.DataFrame(mine, columns=issued.columns)],
                           ignore_index=True)
        so_far["date"] = pd.to_datetime(so_far["date"])
        so_far["quantity"] = so_far["quantity"].astype(float)
        try:
            check_issue(donations[donations["item"] == item], so_far, item=item, location=location,
                        quantity=record.get("quantity"), day=record.get("date"))
        except StockError as exc:
            refused[i] = Problem("quantity", label, shown(record.get("quantity")), str(exc))
            continue
        accepted.append({"voucher_no": record.get("voucher_no"), "date": record.get("date"), "item": item,
                         "quantity": record.get("quantity"), "unit": record.get("unit"), "location": location})
    return refused
