"""One validation for a record, whichever way it comes in.

The same bad record goes through a dashboard form (an action of
fangkong_lib.actions, or the generic ``save_record``) and through
``import_ledger`` on an xlsx written with openpyxl; both must refuse it with
the same Chinese sentence, and neither may write it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable

import openpyxl
import pytest

from fangkong_lib import store
from fangkong_lib import actions as A
from fangkong_lib.dataset import Dataset
from fangkong_lib.ingest.normalize import id_check_char
from fangkong_lib.ledgers import get_ledger

pytestmark = pytest.mark.store

NEW_ID = "41162519900101123"
NEW_ID += id_check_char(NEW_ID)


@pytest.fixture
def writable_demo_db(demo_db, tmp_path):
    """A private copy of the demo database taken with SQLite's backup API:
    a plain file copy misses what still sits in the write-ahead log."""
    import sqlite3

    copy = tmp_path / "demo.sqlite"
    with sqlite3.connect(demo_db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    return copy


def _form_refusal(call) -> list[str]:
    """The sentences a form shows when it refuses (actions raise or return)."""
    try:
        out = call()
    except A.ActionError as exc:
        return [p.sentence() for p in exc.problems] or [str(exc)]
    raise AssertionError(f"the form accepted it: {out!r}")


def _xlsx(path, ledger_key: str, row: dict) -> None:
    """An xlsx with the ledger's headers (title row above, as villages send)
    and one data row, every value written as the text a clerk types."""
    ledger = get_ledger(ledger_key)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([ledger.title])
    ws.append([ledger[k].label for k in row])
    ws.append([str(v) for v in row.values()])
    wb.save(path)


def _returnee(data: Dataset, **extra) -> dict:
    return {"name": "测试人", "sex": "男", "id_number": NEW_ID, "phone": "13812341234",
            "village": data.village_names[0], "risk_category": "省外低风险地区",
            "expected_arrival": "2022-04-10", **extra}


def _preregister(data, raw):
    return A.record_preregistration(data, raw, user="测试")


def _receive(data, raw):
    return A.receive_supplies(data.engine, raw, user="测试", today=data.today)


def _issue(data, raw):
    return A.issue_supplies(data.engine, raw, user="测试", villages=data.village_names, today=data.today)


def _inspect(data, raw):
    return A.record_inspection(data.engine, raw, user="测试", villages=data.village_names, today=data.today)


def _save(ledger_key):
    return lambda data, raw: A.save_record(data, ledger_key, raw, user="测试")


def _control(data, test_dates) -> dict:
    row = data.ledgers["controls"].iloc[0]
    return {"village": row["village"], "name": row["name"], "id_number": row["id_number"],
            "phone": row["phone"], "measure": row["measure"], "start_date": row["start_date"].date().isoformat(),
            "end_date": row["end_date"].date().isoformat(), "test_dates": test_dates}


def _first_place(data) -> dict:
    place = data.ledgers["places"].iloc[0]
    return {"place_code": place["code"], "code_posted": "是", "scan_enforced": "是", "temperature": "是",
            "masks": "是", "crowd_limit": "是", "disinfection_log": "是", "staff_health_log": "是",
            "drug_register": "是", "inspector": "检查员"}


def _stock_item(data) -> dict:
    """The first donated item and location, and more than was ever received there."""
    rec = data.ledgers["donations"].iloc[0]
    received = data.ledgers["donations"].query("item == @rec['item']")["quantity"].sum()
    return {"item": rec["item"], "location": rec["location"], "quantity": int(received) + 1000}


@dataclass
class Case:
    name: str
    ledger: str
    form: Callable  # (data, raw) -> what the action returns
    raw: Callable  # data -> the record, as the form and the file give it
    reason: str  # the refusal both paths give (a part of the sentence)


CASES = [
    Case("arrival in the year 3000", "returnees", _preregister,
         lambda d: _returnee(d, expected_arrival="3000-01-01"),
         "预计到达时间「3000-01-01」：超出合理范围（应在 2000-01-01 至 2023-04-08 之间）"),
    Case("pre-registration dated 9999-12-31", "returnees", _preregister,
         lambda d: _returnee(d, report_date="9999-12-31"),
         "报备日期「9999-12-31」：不能晚于今天（2022-04-07）"),
    Case("actual arrival tomorrow", "returnees", _preregister,
         lambda d: _returnee(d, actual_arrival="2022-04-08"),
         "实际到达时间「2022-04-08」：不能晚于今天（2022-04-07）"),
    Case("arrival before 2000", "returnees", _preregister,
         lambda d: _returnee(d, actual_arrival="1999-12-31"),
         "实际到达时间「1999-12-31」：超出合理范围"),
    Case("odd yes/no", "returnees", _preregister,
         lambda d: _returnee(d, trip_star="也许"),
         "行程码是否带星「也许」：应填 是 或 否"),
    Case("negative donation", "donations", _receive,
         lambda d: {"voucher_no": "JZ-T1", "date": "2022-04-07", "donor": "某公司", "item": "口罩",
                    "quantity": "-5", "location": "乡政府物资库"},
         "数量「-5」：应为正数"),
    Case("negative value of a donation", "donations", _receive,
         lambda d: {"voucher_no": "JZ-T2", "date": "2022-04-07", "donor": "某公司", "item": "口罩",
                    "quantity": "5", "value": "-100", "location": "乡政府物资库"},
         "估值(元)「-100」：不能为负数"),
    Case("donation received in the future", "donations", _receive,
         lambda d: {"voucher_no": "JZ-T3", "date": "2022-05-01", "donor": "某公司", "item": "口罩",
                    "quantity": "5", "location": "乡政府物资库"},
         "接收日期「2022-05-01」：不能晚于今天（2022-04-07）"),
    Case("issue beyond stock", "distributions", _issue,
         lambda d: {"voucher_no": "CK-T1", "date": "2022-04-07", **_stock_item(d)},
         "库存不足，出库被拒绝"),
    Case("negative issue", "distributions", _issue,
         lambda d: {"voucher_no": "CK-T2", "date": "2022-04-07", **_stock_item(d), "quantity": "-3"},
         "数量「-3」：应为正数"),
    Case("inspection in the future", "inspections", _inspect,
         lambda d: {**_first_place(d), "date": "2022-04-20"},
         "检查日期「2022-04-20」：不能晚于今天（2022-04-07）"),
    Case("free text in 核酸日期", "controls", _save("controls"),
         lambda d: _control(d, "明天;后天"),
         "核酸日期「明天;后天」：「明天」不是日期"),
    Case("核酸日期 in the year 3000", "controls", _save("controls"),
         lambda d: _control(d, "2022-04-08;3000-01-01"),
         "核酸日期「2022-04-08;3000-01-01」：「3000-01-01」超出合理范围"),
    Case("temperature of 381", "daily_checks", _save("daily_checks"),
         lambda d: {"date": "2022-04-07", "id_number": NEW_ID, "name": "测试人", "village": d.village_names[0],
                    "temp_am": "381"},
         "上午体温「381」：应在 34.0 至 43.0 ℃ 之间，请核对"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_form_and_import_refuse_the_same_record(case: Case, writable_demo_db, tmp_path):
    data = Dataset.load(writable_demo_db)
    engine = data.engine
    before = store.count_rows(engine, case.ledger)

    form_says = " ".join(_form_refusal(lambda: case.form(data, case.raw(data))))
    assert case.reason in form_says

    path = tmp_path / f"{case.ledger}.xlsx"
    _xlsx(path, case.ledger, case.raw(data))
    result = A.import_ledger(engine, case.ledger, path, today=data.today, user="测试")
    assert (result.read, result.rejected) == (1, 1), result.as_dict()
    import_says = " ".join(result.rejected_rows[0].reasons)
    assert case.reason in import_says
    if "库存不足" in case.reason:  # the stock sentence names the stock: identical both ways
        assert import_says.split("：", 2)[-1] in form_says
    assert store.count_rows(engine, case.ledger) == before


def test_good_records_pass_both_ways(writable_demo_db, tmp_path):
    """The bounds refuse nothing a township really records: a pre-registration
    for an arrival next week goes through the form and the file alike."""
    data = Dataset.load(writable_demo_db)
    engine = data.engine
    before = store.count_rows(engine, "returnees")
    _preregister(data, _returnee(data, expected_arrival="2022-04-12"))  # raises if refused
    assert store.count_rows(engine, "returnees") == before + 1
    raw = _returnee(data, expected_arrival="2022-04-12")
    raw["id_number"] = raw["id_number"][:14] + "4570"
    raw["id_number"] = raw["id_number"][:17] + id_check_char(raw["id_number"][:17])
    path = tmp_path / "r.xlsx"
    _xlsx(path, "returnees", raw)
    result = A.import_ledger(engine, "returnees", path, today=data.today, user="测试")
    assert (result.inserted, result.rejected) == (1, 0), [r.reasons for r in result.rejected_rows]


def test_a_file_of_issues_counts_its_own_earlier_rows(writable_demo_db, tmp_path):
    """Two issues that each fit the stock but not together: the second is refused."""
    data = Dataset.load(writable_demo_db)
    engine = data.engine
    from fangkong_lib.domain.supplies import available_to_issue

    rec = data.ledgers["donations"].iloc[0]
    free = available_to_issue(data.ledgers["donations"], data.ledgers["distributions"], rec["item"],
                              rec["location"], data.today)
    assert free >= 2
    half = int(free // 2) + 1
    ledger = get_ledger("distributions")
    wb = openpyxl.Workbook()
    ws = wb.active
    keys = ["voucher_no", "date", "item", "quantity", "location"]
    ws.append([ledger[k].label for k in keys])
    for n in (1, 2):
        ws.append([f"CK-F{n}", "2022-04-07", rec["item"], str(half), rec["location"]])
    path = tmp_path / "d.xlsx"
    wb.save(path)
    result = A.import_ledger(engine, "distributions", path, today=data.today, user="测试")
    assert (result.inserted, result.rejected) == (1, 1), result.as_dict()
    assert result.rejected_rows[0].row == 3 and "库存不足" in result.rejected_rows[0].reasons[0]


def test_an_import_without_a_date_uses_the_data_s_today(writable_demo_db, tmp_path):
    """`fangkong import` passes no date: the store's today (2022-04-07 in the
    demo) is the now the dates are checked against, as in the forms."""
    data = Dataset.load(writable_demo_db)
    path = tmp_path / "r.xlsx"
    _xlsx(path, "returnees", _returnee(data, report_date="2022-04-08"))
    result = A.import_ledger(data.engine, "returnees", path, user="测试")
    assert result.rejected == 1
    assert "报备日期「2022-04-08」：不能晚于今天（2022-04-07）" in result.rejected_rows[0].reasons
